/**
 * The guard's `database.url` as the constructs write it (the guard's own reader is
 * lib/guard/database-url.ts): TLS always required, never a password (the password is only
 * ever referenced through `database.password-source`).
 */

export type DatabaseEngine = 'postgres' | 'mysql';

/** The engines' standard ports, which both clouds' managed servers listen on. */
export const DEFAULT_DATABASE_PORT: Readonly<Record<DatabaseEngine, number>> = { postgres: 5432, mysql: 3306 };

/** `postgres://user@host:5432/db?sslmode=require` or `mysql://user@host:3306/db?ssl-mode=REQUIRED`. */
export function databaseUrl(engine: DatabaseEngine, user: string, host: string, port: number, name: string): string {
  const u = encodeURIComponent(user);
  return engine === 'postgres' ? `postgres://${u}@${host}:${port}/${name}?sslmode=require` : `mysql://${u}@${host}:${port}/${name}?ssl-mode=REQUIRED`;
}

/** True when the URL carries a password (`scheme://user:password@…`), which no config may hold. */
export function urlHasPassword(url: string): boolean {
  return /:\/\/[^/@]*:[^/@]*@/.test(url);
}
