export * from './context';
export * from './render';
