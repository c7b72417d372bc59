import { isUnresolved } from './tokens';

/**
 * Secret references: `<scheme>:<target>`, the one grammar spec, boot, guard and the constructs
 * share. A reference says where a secret lives and who fetches it; the secret itself never
 * appears in code, config, user data or a message (messages name the field, never quote the
 * reference: a user may have pasted the password itself into it).
 */

/** Every scheme, in the order messages list them. */
export const SECRET_SCHEMES = ['file', 'env', 'aws-secretsmanager', 'azure-keyvault'] as const;
export type SecretScheme = (typeof SECRET_SCHEMES)[number];

/** A parsed reference. A target Terraform fills in at apply time stays as its token. */
export type SecretReference =
  | { readonly scheme: 'file'; readonly path: string }
  | { readonly scheme: 'env'; readonly name: string }
  /** `region` is the ARN's, undefined while the ARN is a token. */
  | { readonly scheme: 'aws-secretsmanager'; readonly arn: string; readonly region: string | undefined }
  /** `https://<vault>/secrets/<name>[/<version>]` */
  | { readonly scheme: 'azure-keyvault'; readonly secretUrl: string };

/** How each scheme is written, for messages and docs. */
export const SECRET_SCHEME_FORMS: Readonly<Record<SecretScheme, string>> = {
  file: 'file:<absolute path>',
  env: 'env:<NAME>',
  'aws-secretsmanager': 'aws-secretsmanager:<arn>',
  'azure-keyvault': 'azure-keyvault:<secret-url>',
};

const TARGETS: Readonly<Record<SecretScheme, RegExp>> = {
  // POSIX or Windows (drive letter) absolute path; relative paths depend on a working directory
  // nobody chose (cloud-init's, the service manager's)
  file: /^(\/|[A-Za-z]:[\\/])\S*$/,
  env: /^[A-Za-z_][A-Za-z0-9_]*$/,
  // the region is the ARN's fourth field: the boot script and the guard call that region
  'aws-secretsmanager': /^arn:[^:\s]+:secretsmanager:[a-z0-9-]+:[^:\s]*:secret:\S+$/,
  'azure-keyvault': /^https:\/\/[^\s/]+\/secrets\/[^\s/]+(\/[^\s/]+)?\/?$/,
};

export type ParsedSecretReference = { readonly ok: true; readonly reference: SecretReference } | { readonly ok: false; readonly problem: string };

const isScheme = (s: string): s is SecretScheme => (SECRET_SCHEMES as readonly string[]).includes(s);

/** Parses a reference; a problem is a message without the field name and without the text. */
export function parseSecretReference(text: string): ParsedSecretReference {
  const colon = text.indexOf(':');
  const scheme = colon < 0 ? '' : text.slice(0, colon);
  if (!isScheme(scheme)) return { ok: false, problem: `must be a secret reference: ${formsOf(SECRET_SCHEMES)}` };
  const target = text.slice(colon + 1);
  if (!isUnresolved(target) && !TARGETS[scheme].test(target)) return { ok: false, problem: `must be ${SECRET_SCHEME_FORMS[scheme]}` };
  return { ok: true, reference: referenceOf(scheme, target) };
}

function referenceOf(scheme: SecretScheme, target: string): SecretReference {
  switch (scheme) {
    case 'file':
      return { scheme, path: target };
    case 'env':
      return { scheme, name: target };
    case 'aws-secretsmanager':
      return { scheme, arn: target, region: isUnresolved(target) ? undefined : target.split(':')[3] };
    case 'azure-keyvault':
      return { scheme, secretUrl: target };
  }
}

/** The reference as text (what the boot script and the guard config carry). */
export function formatSecretReference(reference: SecretReference): string {
  switch (reference.scheme) {
    case 'file':
      return `file:${reference.path}`;
    case 'env':
      return `env:${reference.name}`;
    case 'aws-secretsmanager':
      return `aws-secretsmanager:${reference.arn}`;
    case 'azure-keyvault':
      return `azure-keyvault:${reference.secretUrl}`;
  }
}

/** A reference to a Secrets Manager secret (the ARN may be a token). */
export const awsSecretReference = (arn: string): string => formatSecretReference({ scheme: 'aws-secretsmanager', arn, region: undefined });
/** A reference to a Key Vault secret (the versionless id may be a token). */
export const keyVaultSecretReference = (secretUrl: string): string => formatSecretReference({ scheme: 'azure-keyvault', secretUrl });

/** The secret in a Secrets Manager reference, else undefined (another scheme, or not a reference). */
export function secretsManagerArn(text: string | undefined): string | undefined {
  const parsed = text === undefined ? undefined : parseSecretReference(text);
  return parsed?.ok && parsed.reference.scheme === 'aws-secretsmanager' ? parsed.reference.arn : undefined;
}

/** The scheme of a reference, whether or not its target is well formed; undefined when none. */
export function secretSchemeOf(text: string | undefined): SecretScheme | undefined {
  const scheme = text?.slice(0, Math.max(0, text.indexOf(':')));
  return scheme !== undefined && isScheme(scheme) ? scheme : undefined;
}

/** Who reads a secret decides which schemes can work there. */
export type SecretPlace = 'database-password' | 'smb-credentials' | 'thinprint-client-keys';

export interface SecretPlaceRule {
  /** The fields and keys that hold such a reference. */
  readonly fields: readonly string[];
  readonly schemes: readonly SecretScheme[];
  /** Why these schemes and no others. */
  readonly why: string;
}

/**
 * Which schemes each place accepts. The boot script runs once per boot as root/SYSTEM, started
 * by cloud-init or EC2Launch/the Custom Script Extension, with an environment nobody can add
 * to: an `env:` variable would have to be set by the user data itself, which would put the
 * secret into the user data. A file works there when the image or `installCommands` put it on
 * the disk. The guard is a long-running service whose environment an admin controls (a systemd
 * drop-in, the service's Environment value), so `env:` works for what the guard reads.
 */
export const SECRET_PLACES: Readonly<Record<SecretPlace, SecretPlaceRule>> = {
  'database-password': {
    fields: ['database.password-source', 'app.database.password-source', 'database.existing.passwordSecretRef'],
    schemes: ['file', 'env', 'aws-secretsmanager', 'azure-keyvault'],
    why: 'read by the guard service on every connect and before every start: its environment and files are the admin\'s',
  },
  'smb-credentials': {
    fields: ['storage.credentialsSecretRef', 'share.credentialsSecretRef'],
    schemes: ['file', 'aws-secretsmanager', 'azure-keyvault'],
    why: 'read by the boot script at boot, before any service: no environment variable can hold it without the user data holding the secret',
  },
  'thinprint-client-keys': {
    fields: ['thinprint.clientKeysSecretRef'],
    schemes: ['file', 'aws-secretsmanager', 'azure-keyvault'],
    why: 'read by the boot script at boot, before any service: no environment variable can hold it without the user data holding the secret',
  },
};

export type SecretCloud = 'aws' | 'azure';

/** The scheme a cloud's nodes cannot read: no identity of theirs grants it. */
const FOREIGN: Readonly<Record<SecretCloud, SecretScheme>> = { aws: 'azure-keyvault', azure: 'aws-secretsmanager' };

/** The schemes a place accepts, on a cloud when given. */
export function schemesFor(place: SecretPlace, cloud?: SecretCloud): readonly SecretScheme[] {
  return SECRET_PLACES[place].schemes.filter((s) => cloud === undefined || s !== FOREIGN[cloud]);
}

const formsOf = (schemes: readonly SecretScheme[]): string => {
  const forms = schemes.map((s) => SECRET_SCHEME_FORMS[s]);
  return forms.length === 1 ? forms[0] : `${forms.slice(0, -1).join(', ')} or ${forms[forms.length - 1]}`;
};

/** How the references a place accepts are written: `file:<absolute path>, … or …`. */
export const secretReferenceForms = (place: SecretPlace, cloud?: SecretCloud): string => formsOf(schemesFor(place, cloud));

/**
 * What is wrong with `text` as a reference for `place` (on `cloud`), or undefined. A reference
 * that is a token as a whole is vouched for by the construct that made it.
 */
export function secretReferenceProblem(text: string, place: SecretPlace, cloud?: SecretCloud): string | undefined {
  if (isUnresolved(text) && secretSchemeOf(text) === undefined) return undefined;
  const accepted = schemesFor(place, cloud);
  const parsed = parseSecretReference(text);
  if (!parsed.ok) {
    const scheme = secretSchemeOf(text);
    return scheme !== undefined && accepted.includes(scheme) ? parsed.problem : `must be ${formsOf(accepted)}`;
  }
  const scheme = parsed.reference.scheme;
  if (accepted.includes(scheme)) return undefined;
  const reason = cloud !== undefined && scheme === FOREIGN[cloud] ? `the ${cloud === 'aws' ? 'AWS' : 'Azure'} nodes cannot read ${scheme}:` : `${scheme}: cannot work here (${SECRET_PLACES[place].why})`;
  return `must be ${formsOf(accepted)}; ${reason}`;
}

/** Parses a reference for a place, or throws an error naming `field`. */
export function parseSecretReferenceFor(text: string, place: SecretPlace, field: string): SecretReference {
  const problem = secretReferenceProblem(text, place);
  const parsed = parseSecretReference(text);
  if (problem !== undefined || !parsed.ok) throw new Error(`${field}: ${problem ?? (parsed.ok ? '' : parsed.problem)}`);
  return parsed.reference;
}
