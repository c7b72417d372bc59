/**
 * The guard's `database.url` as the constructs write it (the guard's own reader is
 * lib/guard/lease/database-url.ts): TLS always verified (certificate chain and host name), never a
 * password (the password is only ever referenced through `database.password-source`).
 */

export type DatabaseEngine = 'postgres' | 'mysql';

/** The engines' standard ports, which both clouds' managed servers listen on. */
export const DEFAULT_DATABASE_PORT: Readonly<Record<DatabaseEngine, number>> = { postgres: 5432, mysql: 3306 };

/**
 * The CA bundle the guard carries for a managed database: `rds` (Amazon RDS's bundle) or `azure`
 * (the roots Azure's flexible servers chain to).
 */
export type CloudDatabaseCa = 'rds' | 'azure';

/**
 * `postgres://user@host:5432/db?sslmode=verify-full&sslrootcert=rds` or
 * `mysql://user@host:3306/db?ssl-mode=VERIFY_IDENTITY&ssl-ca=rds`. Without `ca` (a database the
 * user brings) the guard picks the CA by host name: RDS and Azure hosts get their bundle, any
 * other host Node's built-in roots.
 */
export function databaseUrl(engine: DatabaseEngine, user: string, host: string, port: number, name: string, ca?: CloudDatabaseCa): string {
  const u = encodeURIComponent(user);
  const tls = engine === 'postgres' ? `sslmode=verify-full${ca ? `&sslrootcert=${ca}` : ''}` : `ssl-mode=VERIFY_IDENTITY${ca ? `&ssl-ca=${ca}` : ''}`;
  return `${engine === 'postgres' ? 'postgres' : 'mysql'}://${u}@${host}:${port}/${name}?${tls}`;
}

/** True when the URL carries a password (`scheme://user:password@…`), which no config may hold. */
export function urlHasPassword(url: string): boolean {
  return /:\/\/[^/@]*:[^/@]*@/.test(url);
}
