import { Construct } from 'constructs';
import { bootSpecProblems, parseSpecProp, renamed, uniqueProblems } from '../synth/construct-problems';
import { guardBinaryProblems } from '../synth/guard-binary';
import type { Problem } from '../problems/problems';
import type { ClusterSpec, ClusterSpecInput } from '../spec/cluster-spec';
import { AwsAlarms, alarmsProblems } from './aws-alarms';
import { AwsAppServers, appServersProblems, type AwsAppServersProps } from './aws-app-servers';
import { AwsDatabase, databaseProblems, type AwsDatabaseProps } from './aws-database';
import { AwsDnsCluster, dnsClusterProblems, type AwsDnsClusterProps } from './aws-dns-cluster';
import { AwsGuardAsset, guardAssetProblems } from './aws-guard-asset';
import { AwsLoadBalancer, loadBalancerProblems, type AwsAliasRecord } from './aws-load-balancer';
import { nodeOptionProblems, type AwsNodeOptions } from './aws-node-template';
import { AwsSharedStorage, sharedStorageProblems } from './aws-shared-storage';
import { AwsThinPrintClientKeys, awsThinPrintPropsProblems, type AwsThinPrintProps } from './aws-thinprint';
import { throwIfProblems } from '../problems/problems';
import { awsIdProblems, subnetProblems } from './aws-support';
import { requireWriteOnlyArguments } from '../synth/terraform-version';

/** Properties of an {@link AwsFailoverCluster}: the spec and the existing network it is built in. */
export interface AwsFailoverClusterProps extends AwsNodeOptions {
  /** The cluster spec: raw input (parsed here, before any resource) or an already parsed spec. */
  readonly spec: ClusterSpecInput | ClusterSpec;
  /** Existing VPC. */
  readonly vpcId: string;
  /** Existing private subnets, two or more in different availability zones. */
  readonly subnetIds: readonly string[];
  /**
   * Existing public subnets for a public load balancer (`spec.loadBalancer.scheme: 'public'`).
   * @default - none
   */
  readonly publicSubnetIds?: readonly string[];
  /**
   * The VPC's CIDR, the default client range of an internal load balancer.
   * @default - looked up from `vpcId`
   */
  readonly vpcCidr?: string;
  /**
   * The guard binary.
   * @default - built at synth from this package's guard and the pinned Node runtime, cached per user
   */
  readonly binaryPath?: string;
  /**
   * AWS Managed Microsoft AD id, required for SMB storage (FSx for Windows).
   * @default - none
   */
  readonly activeDirectoryId?: string;
  /**
   * Back up the share (EFS automatic backups, FSx backups kept 7 days); see AwsSharedStorageProps.backup.
   * @default true
   */
  readonly shareBackup?: boolean;
  /**
   * Commands run at first boot before the boot script, e.g. to install the app.
   * @default - none
   */
  readonly installCommands?: readonly string[];
  /**
   * Route 53 alias for the load balancer (guard profiles).
   * @default - none
   */
  readonly aliasRecord?: AwsAliasRecord;
  /**
   * The cluster's DNS name; required for `dns` profiles (ThinPrint), which have no load balancer.
   * @default - none
   */
  readonly dnsRecord?: { readonly hostedZoneId: string; readonly name: string };
  /**
   * ThinPrint's client keys (a Terraform-side secret); only with the ThinPrint profile. The
   * node subnets' CIDRs of dns-multicast come from the profile (`thinprint({ nodeSubnetCidrs })`).
   * @default - none
   */
  readonly thinprint?: AwsThinPrintProps;
  /**
   * A `dns` profile (ThinPrint dns-multicast): the guide's DMZ alias, a CNAME to the cluster name.
   * @default - none
   */
  readonly dmzAlias?: { readonly hostedZoneId: string; readonly name: string };
  /**
   * RDS options.
   * @default - see AwsDatabase
   */
  readonly database?: Pick<AwsDatabaseProps, 'instanceClass' | 'engineVersion' | 'masterUsername' | 'existingDatabaseCidr'>;
}

/**
 * A whole failover cluster in existing network: for guard profiles (PaperCut) a load balancer,
 * database, share, guard asset, app servers and alarms; for `dns` profiles (ThinPrint) an
 * AwsDnsCluster. Each part is also usable alone.
 */
export class AwsFailoverCluster extends Construct {
  /** The parsed spec with every default applied. */
  public readonly spec: ClusterSpec;
  /** The Network Load Balancer probing the guard; undefined for a `dns` profile. */
  public readonly loadBalancer?: AwsLoadBalancer;
  /** The RDS database (or the description of an existing one); undefined for a `dns` profile. */
  public readonly database?: AwsDatabase;
  /** The shared file system (EFS or FSx); undefined when the profile shares nothing, or for a `dns` profile. */
  public readonly storage?: AwsSharedStorage;
  /** The guard binary in its private bucket; undefined for a `dns` profile. */
  public readonly guardAsset?: AwsGuardAsset;
  /** The auto scaling group of app servers; undefined for a `dns` profile. */
  public readonly appServers?: AwsAppServers;
  /** The CloudWatch alarms e-mailed to `spec.notificationEmails`; undefined for a `dns` profile. */
  public readonly alarms?: AwsAlarms;
  /** The active/active DNS cluster of a `dns` profile (ThinPrint dns-multicast); undefined for guard profiles. */
  public readonly dnsCluster?: AwsDnsCluster;
  /** ThinPrint single-active: the client IDs and keys every node applies (dns-multicast: `dnsCluster.clientKeys`). */
  public readonly thinprintClientKeys?: AwsThinPrintClientKeys;

  constructor(scope: Construct, id: string, props: AwsFailoverClusterProps) {
    super(scope, id);
    // passwords and keys go through write-only arguments (`*_wo`): Terraform ≥ 1.11
    requireWriteOnlyArguments(this);
    // Validate first: the spec's and every part's problems in one error, before any resource.
    const parsed = parseSpecProp(props.spec);
    throwIfProblems(this.node.path, uniqueProblems([...parsed.problems, ...clusterProblems(props, parsed.spec)]));
    const spec = parsed.spec!;
    this.spec = spec;
    const net = { spec, vpcId: props.vpcId, subnetIds: props.subnetIds };
    const { spec: _input, database: dbOptions, ...nodeOptions } = props;

    const dnsMode = spec.profile.failoverMode === 'dns';
    if (dnsMode && props.dnsRecord) {
      this.dnsCluster = new AwsDnsCluster(this, 'dns', dnsClusterProps(props, spec, props.dnsRecord));
      return;
    }

    this.loadBalancer = new AwsLoadBalancer(this, 'load-balancer', {
      ...net,
      publicSubnetIds: props.publicSubnetIds,
      vpcCidr: props.vpcCidr,
      aliasRecord: props.aliasRecord,
    });
    this.database = new AwsDatabase(this, 'database', { ...net, ...dbOptions, existingDatabaseCidr: dbOptions?.existingDatabaseCidr ?? props.vpcCidr });
    // nothing to share (ThinPrint): no file system, and no Active Directory needed for one
    if (spec.sharedItems.length > 0) this.storage = new AwsSharedStorage(this, 'storage', { ...net, activeDirectoryId: props.activeDirectoryId, backup: props.shareBackup });
    const keys = props.thinprint?.clientKeysValue;
    if (spec.profile.app === 'thinprint' && keys !== undefined) {
      this.thinprintClientKeys = new AwsThinPrintClientKeys(this, 'thinprint-client-keys', { spec, value: keys, valueVersion: props.thinprint?.clientKeysVersion });
    }
    this.guardAsset = new AwsGuardAsset(this, 'guard', { spec, binaryPath: props.binaryPath });
    this.appServers = new AwsAppServers(this, 'app-servers', {
      ...nodeOptions,
      ...net,
      loadBalancer: this.loadBalancer,
      database: this.database,
      storage: this.storage,
      thinprintClientKeys: this.thinprintClientKeys,
      guardAsset: this.guardAsset,
      installCommands: props.installCommands,
    });
    this.alarms = new AwsAlarms(this, 'alarms', { spec, loadBalancer: this.loadBalancer });
  }

  /** The name clients use: the alias record's name, else the load balancer's DNS name; undefined for a `dns` profile (see `dnsCluster`). */
  public get loadBalancerAddress(): string | undefined {
    return this.loadBalancer?.address;
  }

  /** The load balancer's DNS name; undefined for a `dns` profile. */
  public get loadBalancerDnsName(): string | undefined {
    return this.loadBalancer?.loadBalancerDnsName;
  }

  /** The load balancer's ARN; undefined for a `dns` profile. */
  public get loadBalancerArn(): string | undefined {
    return this.loadBalancer?.loadBalancerArn;
  }

  /** The database's host name (the RDS endpoint address, or `spec.database.existing.host`); undefined for a `dns` profile. */
  public get databaseHost(): string | undefined {
    return this.database?.host;
  }

  /** The database's port; undefined for a `dns` profile. */
  public get databasePort(): number | undefined {
    return this.database?.port;
  }

  /** The RDS DB instance identifier; undefined for an existing database or a `dns` profile. */
  public get databaseId(): string | undefined {
    return this.database?.databaseId;
  }

  /** The RDS instance's ARN; undefined for an existing database or a `dns` profile. */
  public get databaseArn(): string | undefined {
    return this.database?.databaseArn;
  }

  /** The shared file system's id (EFS or FSx); undefined when the profile shares nothing or for a `dns` profile. */
  public get storageId(): string | undefined {
    return this.storage?.storageId;
  }

  /** The shared file system's ARN; undefined when there is none. */
  public get storageArn(): string | undefined {
    return this.storage?.storageArn;
  }

  /** The shared file system's DNS name; undefined when there is none. */
  public get storageDnsName(): string | undefined {
    return this.storage?.dnsName;
  }

  /** Where the guard binary lies, `s3://<bucket>/<key>`; undefined for a `dns` profile (no guard). */
  public get guardAssetUrl(): string | undefined {
    return this.guardAsset?.url;
  }

  /** The guard bucket's name; undefined for a `dns` profile. */
  public get guardAssetBucketName(): string | undefined {
    return this.guardAsset?.bucketName;
  }
}

/**
 * Every problem of the props under the names the user wrote; with a valid spec also those of
 * the parts it would build (their props renamed to this construct's).
 */
function clusterProblems(props: AwsFailoverClusterProps, spec: ClusterSpec | undefined): Problem[] {
  const problems: Problem[] = [
    ...awsIdProblems('vpcId', props.vpcId, 'vpc'),
    ...subnetProblems('subnetIds', props.subnetIds),
    ...(props.publicSubnetIds ? subnetProblems('publicSubnetIds', props.publicSubnetIds) : []),
    ...nodeOptionProblems(props),
    ...guardBinaryProblems('binaryPath', props.binaryPath),
  ];
  if (!spec) return problems;
  const dnsMode = spec.profile.failoverMode === 'dns';
  problems.push(...recordProblems(props, spec, dnsMode));
  if (dnsMode) {
    if (props.dnsRecord) problems.push(...renamed(dnsClusterProblems(dnsClusterProps(props, spec, props.dnsRecord)), { hostedZoneId: 'dnsRecord.hostedZoneId', recordName: 'dnsRecord.name' }));
    return problems;
  }
  const net = { spec, vpcId: props.vpcId, subnetIds: props.subnetIds };
  const db = props.database;
  problems.push(
    ...loadBalancerProblems({ ...net, publicSubnetIds: props.publicSubnetIds, vpcCidr: props.vpcCidr, aliasRecord: props.aliasRecord }),
    ...renamed(databaseProblems({ ...net, ...db, existingDatabaseCidr: db?.existingDatabaseCidr ?? props.vpcCidr }), {
      engineVersion: 'database.engineVersion',
      masterUsername: 'database.masterUsername',
      instanceClass: 'database.instanceClass',
    }),
    ...(spec.sharedItems.length > 0 ? sharedStorageProblems({ ...net, activeDirectoryId: props.activeDirectoryId }) : []),
    // Only the fields these checks read; the parts it references (storage, …) are built here later.
    ...appServersProblems({ ...props, ...net } as unknown as AwsAppServersProps).filter((p) => p.path !== 'storage'),
    ...guardAssetProblems({ spec, binaryPath: props.binaryPath }),
    ...alarmsProblems({ spec }),
    ...bootSpecProblems(spec),
  );
  return problems;
}

/** The DNS-cluster part's props from the cluster's (ThinPrint dns-multicast). */
function dnsClusterProps(props: AwsFailoverClusterProps, spec: ClusterSpec, record: NonNullable<AwsFailoverClusterProps['dnsRecord']>): AwsDnsClusterProps {
  const { spec: _input, database: _database, ...nodeOptions } = props;
  return { ...nodeOptions, spec, vpcId: props.vpcId, subnetIds: props.subnetIds, vpcCidr: props.vpcCidr, hostedZoneId: record.hostedZoneId, recordName: record.name };
}

/** DNS names: a `dns` profile needs `dnsRecord` (and has no load balancer to alias); a guard profile uses `aliasRecord`. */
function recordProblems(props: AwsFailoverClusterProps, spec: ClusterSpec, dnsMode: boolean): Problem[] {
  const problems: Problem[] = [];
  if (dnsMode && !props.dnsRecord) problems.push({ path: 'dnsRecord', message: `a "dns" profile (${spec.profile.displayName}) needs the cluster's DNS name and hosted zone` });
  if (dnsMode && props.aliasRecord) problems.push({ path: 'aliasRecord', message: 'a "dns" profile has no load balancer to alias; use dnsRecord' });
  if (!dnsMode && props.dnsRecord) problems.push({ path: 'dnsRecord', message: "only for \"dns\" profiles; name a guard profile's load balancer with aliasRecord" });
  if (!dnsMode && props.dmzAlias) problems.push({ path: 'dmzAlias', message: 'only for ThinPrint dns-multicast; name the load balancer with aliasRecord' });
  problems.push(...awsThinPrintPropsProblems(spec, props.thinprint));
  return problems;
}
