export * from './cluster-spec';
export * from './profile';
export * from './papercut';
export * from './thinprint';
export * from './custom';
export * from './timing';
export { ValidationError, type Problem } from '../core/problems';
export * from './guard-settings';
export * from './hook-settings';
