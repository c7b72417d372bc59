import { profileSchema, type AppProfile, type AppProfileInput } from './profile';
import { ValidationError, pathToString } from '../problems/problems';

export type CustomProfileOptions = Omit<AppProfileInput, 'app' | 'failoverMode' | 'deleteOnClone' | 'sharedItems'> &
  Partial<Pick<AppProfileInput, 'failoverMode' | 'deleteOnClone' | 'sharedItems'>>;

/**
 * Any single-active server: give its ports, install dir, shared items, service and readiness
 * check. Validated at once so a mistake points at the profile field.
 * @default failoverMode 'guard', no shared items, nothing deleted on clone
 */
export function custom(options: CustomProfileOptions): AppProfile {
  const result = profileSchema.safeParse({
    failoverMode: 'guard',
    sharedItems: [],
    deleteOnClone: [],
    ...options,
    app: 'custom',
  });
  if (!result.success) {
    throw new ValidationError(
      'custom profile',
      result.error.issues.map((i) => ({ path: pathToString(['profile', ...i.path]), message: i.message })),
    );
  }
  return result.data;
}
