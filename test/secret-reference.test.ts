import { databaseProblems as awsDatabaseProblems } from '../lib/aws/aws-database';
import { sharedStorageProblems as awsStorageProblems } from '../lib/aws/aws-shared-storage';
import { databaseProblems as azureDatabaseProblems } from '../lib/azure/azure-database';
import { sharedStorageProblems as azureStorageProblems } from '../lib/azure/azure-shared-storage';
import { checkBootInput } from '../lib/boot/plan';
import { thinprintSettingsProblems } from '../lib/boot/thinprint-windows';
import type { Problem } from '../lib/problems/problems';
import { loadGuardConfig } from '../lib/guard/config';
import { papercut, parseClusterSpec, thinprint, ValidationError } from '../lib/spec';
import {
  SECRET_PLACES,
  SECRET_SCHEMES,
  parseSecretReference,
  schemesFor,
  secretReferenceProblem,
  secretsManagerArn,
  type SecretCloud,
  type SecretPlace,
  type SecretScheme,
} from '../lib/contracts/secret-reference';
import { PLACEMENT, VNET_ID } from './azure/helpers';
import { BASE_GUARD_LINES } from './harness/guard-config';
import { linuxContext, linuxSpec, SHA } from './harness/boot-contexts';

// One well-formed reference per scheme, and a malformed target per scheme. The password-like
// text stands where a user pasted the secret itself: no message may quote it.
const GOOD: Readonly<Record<SecretScheme, string>> = {
  file: 'file:/etc/failover-guard/secret.json',
  env: 'env:PRINT_SECRET',
  'aws-secretsmanager': 'aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:print-AbCdEf',
  'azure-keyvault': 'azure-keyvault:https://fg-kv.vault.azure.net/secrets/print',
};
const BAD_TARGET: Readonly<Record<SecretScheme, string>> = {
  file: 'file:relative/Hunter2-secret',
  env: 'env:Hunter2 secret',
  'aws-secretsmanager': 'aws-secretsmanager:Hunter2-secret',
  'azure-keyvault': 'azure-keyvault:http://Hunter2-secret',
};
const PASTED_PASSWORD = 'Hunter2-secret';

/** Each place's consumers: the problems they report for `ref`, and the field they must name. */
interface Consumer {
  readonly place: SecretPlace;
  readonly name: string;
  readonly field: string;
  /** The constructs check a reference for their cloud as well. */
  readonly cloud?: SecretCloud;
  readonly problems: (ref: string) => Problem[];
}

const problemsOf = (run: () => unknown): Problem[] => {
  try {
    run();
    return [];
  } catch (e) {
    if (e instanceof ValidationError) return [...e.problems];
    throw e;
  }
};

const guardProblems = (key: string, ref: string): Problem[] => {
  const lines = BASE_GUARD_LINES.filter((l) => !l.startsWith(`${key}=`));
  const extra = key === 'app.database.password-source' ? ['app.database.url=postgres://papercut_app@127.0.0.1:5432/papercut'] : [];
  const result = loadGuardConfig([...lines, ...extra, `${key}=${ref}`].join('\n'));
  return result.ok ? [] : result.problems;
};

// The constructs get a spec that parsed; the reference under test is put in afterwards, so
// that their own check is what answers.
const SMB = parseClusterSpec({ name: 'print', profile: papercut({ os: 'windows' }), storage: { kind: 'smb', credentialsSecretRef: GOOD.file } });
const EXISTING = parseClusterSpec({ name: 'print', profile: papercut(), database: { existing: { host: 'db.internal', username: 'guard', passwordSecretRef: GOOD.file } } });
const withSmbRef = (ref: string) => ({ ...SMB, storage: { ...SMB.storage, credentialsSecretRef: ref } });
const withDbRef = (ref: string) => ({ ...EXISTING, database: { ...EXISTING.database, existing: { host: 'db.internal', username: 'guard', passwordSecretRef: ref } } });
const AZURE_SUBNET = `${VNET_ID}/subnets/app`;

const CONSUMERS: readonly Consumer[] = [
  { place: 'smb-credentials', name: 'AwsSharedStorage', field: 'spec.storage.credentialsSecretRef', cloud: 'aws', problems: (ref) => awsStorageProblems({ spec: withSmbRef(ref), vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], activeDirectoryId: 'd-1234567890' }) },
  {
    place: 'smb-credentials',
    name: 'AzureSharedStorage',
    field: 'spec.storage.credentialsSecretRef',
    cloud: 'azure',
    problems: (ref) => azureStorageProblems({ ...PLACEMENT, spec: withSmbRef(ref), privateEndpointSubnetId: AZURE_SUBNET, clientSubnetId: AZURE_SUBNET, virtualNetworkId: VNET_ID, createPrivateDnsZone: true }),
  },
  { place: 'database-password', name: 'AwsDatabase', field: 'spec.database.existing.passwordSecretRef', cloud: 'aws', problems: (ref) => awsDatabaseProblems({ spec: withDbRef(ref), vpcId: 'vpc-0123456789abcdef0', subnetIds: [] }) },
  { place: 'database-password', name: 'AzureDatabase', field: 'spec.database.existing.passwordSecretRef', cloud: 'azure', problems: (ref) => azureDatabaseProblems({ ...PLACEMENT, spec: withDbRef(ref) }) },
  { place: 'database-password', name: 'guard config', field: 'database.password-source', problems: (ref) => guardProblems('database.password-source', ref) },
  { place: 'database-password', name: 'hook config', field: 'app.database.password-source', problems: (ref) => guardProblems('app.database.password-source', ref) },
  {
    place: 'database-password',
    name: 'cluster spec',
    field: 'database.existing.passwordSecretRef',
    problems: (ref) => problemsOf(() => parseClusterSpec({ name: 'print', profile: papercut(), database: { existing: { host: 'db.internal', username: 'guard', passwordSecretRef: ref } } })),
  },
  {
    place: 'smb-credentials',
    name: 'cluster spec',
    field: 'storage.credentialsSecretRef',
    problems: (ref) => problemsOf(() => parseClusterSpec({ name: 'print', profile: papercut(), storage: { kind: 'smb', credentialsSecretRef: ref } })),
  },
  {
    place: 'smb-credentials',
    name: 'boot plan',
    field: 'share.credentialsSecretRef',
    problems: (ref) => {
      const ctx = linuxContext('smb-aws', SHA);
      const share = ctx.share?.kind === 'smb' ? { ...ctx.share, credentialsSecretRef: ref } : ctx.share;
      return problemsOf(() => checkBootInput(linuxSpec('smb-aws'), { ...ctx, share }, 'linux'));
    },
  },
  {
    place: 'thinprint-client-keys',
    name: 'ThinPrint step',
    field: 'thinprint.clientKeysSecretRef',
    problems: (ref) => thinprintSettingsProblems(parseClusterSpec({ name: 'tpcs', profile: thinprint({ clusterMode: 'dns-multicast' }) }), { clientKeysSecretRef: ref, nodeSubnetCidrs: ['10.0.1.0/24'] }),
  },
];

describe('secret references', () => {
  it('every place is served by a consumer here and every consumer field is in the table', () => {
    for (const place of Object.keys(SECRET_PLACES) as SecretPlace[]) {
      const fields = CONSUMERS.filter((c) => c.place === place).map((c) => c.field.replace(/^spec\./, ''));
      expect(new Set(fields)).toEqual(new Set(SECRET_PLACES[place].fields));
    }
  });

  describe.each(CONSUMERS.map((c) => [`${c.name} ${c.field}`, c] as const))('%s', (_, consumer) => {
    const accepted = schemesFor(consumer.place, consumer.cloud);
    it.each(SECRET_SCHEMES.map((s) => [s] as const))('%s: accepted exactly when the table says so', (scheme) => {
      // given a well-formed reference of this scheme
      const problems = consumer.problems(GOOD[scheme]).filter((p) => p.path === consumer.field);
      // then the consumer agrees with the table, naming the field
      if (accepted.includes(scheme)) expect(problems).toEqual([]);
      else expect(problems).toEqual([{ path: consumer.field, message: secretReferenceProblem(GOOD[scheme], consumer.place, consumer.cloud) }]);
    });
    it.each(SECRET_SCHEMES.map((s) => [s] as const))('%s with a malformed target: rejected, naming the field, never quoting it', (scheme) => {
      const problems = consumer.problems(BAD_TARGET[scheme]);
      expect(problems.map((p) => p.path)).toContain(consumer.field);
      expect(JSON.stringify(problems)).not.toContain(PASTED_PASSWORD);
    });
    it('no scheme at all (a pasted password): rejected without quoting it', () => {
      const problems = consumer.problems(PASTED_PASSWORD);
      expect(problems.map((p) => p.path)).toContain(consumer.field);
      expect(JSON.stringify(problems)).not.toContain(PASTED_PASSWORD);
    });
  });

  it('an SMB env: reference gets the same verdict from the spec and from the boot plan (both reject it)', () => {
    // given the reference the AWS docs used to suggest for SMB credentials
    const ref = 'env:SMB_CREDENTIALS';
    const spec = CONSUMERS.find((c) => c.field === 'storage.credentialsSecretRef') as Consumer;
    const plan = CONSUMERS.find((c) => c.field === 'share.credentialsSecretRef') as Consumer;
    // then the spec does not accept what the boot script cannot read at boot
    expect(spec.problems(ref).map((p) => p.path)).toEqual(['storage.credentialsSecretRef']);
    expect(plan.problems(ref).map((p) => p.path)).toEqual(['share.credentialsSecretRef']);
  });

  it('a ThinPrint file: reference is read by the Windows boot script, so the step accepts it', () => {
    const step = CONSUMERS.find((c) => c.field === 'thinprint.clientKeysSecretRef') as Consumer;
    expect(step.problems('file:C:\\ThinPrint\\client-keys.json')).toEqual([]);
  });

  it('on a cloud, the other cloud\'s scheme is rejected with the reason', () => {
    expect(schemesFor('smb-credentials', 'aws')).toEqual(['file', 'aws-secretsmanager']);
    expect(schemesFor('database-password', 'azure')).toEqual(['file', 'env', 'azure-keyvault']);
    expect(secretReferenceProblem(GOOD['azure-keyvault'], 'smb-credentials', 'aws')).toBe(
      'must be file:<absolute path> or aws-secretsmanager:<arn>; the AWS nodes cannot read azure-keyvault:',
    );
  });

  it('parses each scheme into a typed reference; a token target stays a token', () => {
    expect(parseSecretReference(GOOD['aws-secretsmanager'])).toEqual({
      ok: true,
      reference: { scheme: 'aws-secretsmanager', arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:print-AbCdEf', region: 'eu-west-1' },
    });
    expect(parseSecretReference(GOOD.env)).toEqual({ ok: true, reference: { scheme: 'env', name: 'PRINT_SECRET' } });
    expect(parseSecretReference('azure-keyvault:${TfToken[TOKEN.7]}')).toEqual({ ok: true, reference: { scheme: 'azure-keyvault', secretUrl: '${TfToken[TOKEN.7]}' } });
    expect(secretsManagerArn(GOOD['aws-secretsmanager'])).toBe('arn:aws:secretsmanager:eu-west-1:123456789012:secret:print-AbCdEf');
    expect(secretsManagerArn(GOOD.file)).toBeUndefined();
    expect(secretReferenceProblem('${TfToken[TOKEN.9]}', 'smb-credentials')).toBeUndefined();
  });
});
