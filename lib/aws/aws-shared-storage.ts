import { DataAwsDirectoryServiceDirectory } from '@cdktf/provider-aws/lib/data-aws-directory-service-directory';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { EfsBackupPolicy } from '@cdktf/provider-aws/lib/efs-backup-policy';
import { EfsFileSystem } from '@cdktf/provider-aws/lib/efs-file-system';
import { EfsFileSystemPolicy } from '@cdktf/provider-aws/lib/efs-file-system-policy';
import { EfsMountTarget } from '@cdktf/provider-aws/lib/efs-mount-target';
import { FsxWindowsFileSystem } from '@cdktf/provider-aws/lib/fsx-windows-file-system';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { SsmAssociation } from '@cdktf/provider-aws/lib/ssm-association';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import type { ShareMount } from '../boot/context';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { throwIfProblems } from '../problems/problems';
import { isKnown } from '../contracts/tokens';
import { allowTcp, awsName, awsTags, policyDocument, subnetProblems } from './aws-support';
import { secretReferenceProblem, secretsManagerArn } from '../contracts/secret-reference';
import { CLUSTER_TAG } from '../spec/tags';

/** Properties of an {@link AwsSharedStorage}. */
export interface AwsSharedStorageProps {
  /** The parsed cluster spec (`spec.storage.kind`: nfs → EFS, smb → FSx for Windows File Server). */
  readonly spec: ClusterSpec;
  /** VPC of the file system. */
  readonly vpcId: string;
  /** Private subnets (two or more, in different availability zones): an EFS mount target in each; FSx uses the first two. */
  readonly subnetIds: readonly string[];
  /**
   * AWS Managed Microsoft AD directory id (`d-…`); required for SMB (FSx for Windows).
   * @default - none
   */
  readonly activeDirectoryId?: string;
  /**
   * Back up the share (the app's configuration and data): EFS automatic backups (AWS Backup,
   * daily, kept 35 days) or FSx automatic backups kept 7 days.
   * @default true
   */
  readonly backup?: boolean;
  /**
   * FSx throughput in MB/s, one of the values FSx offers (8, 16, 32, … 12288).
   * @default 32
   */
  readonly fsxThroughputMbps?: number;
}
/** Managed policy the nodes need for the SSM domain join. */
export const DOMAIN_JOIN_POLICY = 'AmazonSSMDirectoryServiceAccess';

const NFS_PORT = 2049;
const SMB_PORT = 445;
const FSX_THROUGHPUTS = [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4608, 6144, 9216, 12288];

/**
 * The share the app servers link their shared items into. NFS: EFS, encrypted, a mount target
 * per subnet, a file-system policy that denies every request not made over TLS, backups on.
 * SMB: FSx for Windows File Server (Multi-AZ, joined to the given Active Directory, backups kept
 * 7 days).
 */
export class AwsSharedStorage extends Construct {
  /** `nfs` (EFS) or `smb` (FSx for Windows), from `spec.storage.kind`. */
  public readonly kind: 'nfs' | 'smb';
  /** Security group of the file system; clients are let in with {@link allowFrom}. */
  public readonly securityGroup: SecurityGroup;
  /** The EFS file system (NFS only). */
  public readonly fileSystem?: EfsFileSystem;
  /** One EFS mount target per subnet (none for SMB). */
  public readonly mountTargets: readonly EfsMountTarget[];
  /** The EFS policy denying every request made without TLS (NFS only). */
  public readonly fileSystemPolicy?: EfsFileSystemPolicy;
  /** The FSx for Windows File Server file system (SMB only). */
  public readonly windowsFileSystem?: FsxWindowsFileSystem;
  /** FSx → the directory's domain controllers (all traffic to their security group). */
  public readonly directoryEgress?: VpcSecurityGroupEgressRule;
  /** SMB: the security group of the directory's domain controllers (nodes joined to the domain need egress to it). */
  public readonly directorySecurityGroupId?: string;
  /** 2049 (NFS) or 445 (SMB). */
  public readonly port: number;
  /** How the nodes mount the share (the boot script's `share`; `mount` on AzureSharedStorage too). */
  public readonly mount: ShareMount;
  /** ARN of the SMB credentials secret when it lives in Secrets Manager. */
  public readonly credentialsSecretArn?: string;
  /**
   * SMB without a credentials secret: the SSM association (`AWS-JoinDirectoryServiceDomain`,
   * the aws:domainJoin plugin) that joins every node tagged `failover-cluster=<name>` to the
   * directory, so the nodes reach FSx with their machine identity. The nodes need the
   * {@link DOMAIN_JOIN_POLICY} managed policy; the join reboots the node once.
   */
  public readonly domainJoin?: SsmAssociation;
  private readonly clusterName: string;
  private clients = 0;

  constructor(scope: Construct, id: string, props: AwsSharedStorageProps) {
    super(scope, id);
    const { spec } = props;
    throwIfProblems(this.node.path, sharedStorageProblems(props));
    this.clusterName = spec.name;
    this.kind = spec.storage.kind;
    this.port = this.kind === 'nfs' ? NFS_PORT : SMB_PORT;
    this.securityGroup = new SecurityGroup(this, 'sg', {
      name: awsName(spec.name, 'share', 255),
      description: `${spec.name}: app servers to the share`,
      vpcId: props.vpcId,
      tags: awsTags(spec, `${spec.name}-share`),
    });

    if (this.kind === 'nfs') {
      const fs = new EfsFileSystem(this, 'efs', {
        creationToken: awsName(spec.name, 'share', 64),
        encrypted: true,
        performanceMode: 'generalPurpose',
        throughputMode: 'elastic',
        tags: awsTags(spec, `${spec.name}-share`),
      });
      this.fileSystem = fs;
      this.mountTargets = props.subnetIds.map(
        (subnetId, i) => new EfsMountTarget(this, `mount-${i}`, { fileSystemId: fs.id, subnetId, securityGroups: [this.securityGroup.id] }),
      );
      this.fileSystemPolicy = new EfsFileSystemPolicy(this, 'policy', { fileSystemId: fs.id, policy: efsTlsOnlyPolicy(fs.arn) });
      new EfsBackupPolicy(this, 'backup', { fileSystemId: fs.id, backupPolicy: { status: (props.backup ?? true) ? 'ENABLED' : 'DISABLED' } });
      this.mount = { kind: 'efs', fileSystemId: fs.id, region: new DataAwsRegion(this, 'region').region };
    } else {
      // FSx joins the domain and keeps talking to the domain controllers (DNS, Kerberos, LDAP,
      // SMB, RPC): without egress to them the file system never finishes creating.
      const directory = new DataAwsDirectoryServiceDirectory(this, 'directory', { directoryId: props.activeDirectoryId! });
      this.directorySecurityGroupId = directory.securityGroupId;
      this.directoryEgress = new VpcSecurityGroupEgressRule(this, 'to-domain-controllers', {
        securityGroupId: this.securityGroup.id,
        referencedSecurityGroupId: directory.securityGroupId,
        ipProtocol: '-1',
        description: `${spec.name}: FSx to the Active Directory domain controllers`,
      });
      const fsx = new FsxWindowsFileSystem(this, 'fsx', {
        activeDirectoryId: props.activeDirectoryId,
        deploymentType: 'MULTI_AZ_1',
        subnetIds: props.subnetIds.slice(0, 2),
        preferredSubnetId: props.subnetIds[0],
        storageType: 'SSD',
        storageCapacity: spec.storage.sizeGb,
        throughputCapacity: props.fsxThroughputMbps ?? 32,
        securityGroupIds: [this.securityGroup.id],
        automaticBackupRetentionDays: (props.backup ?? true) ? 7 : 0,
        copyTagsToBackups: true,
        skipFinalBackup: false,
        tags: awsTags(spec, `${spec.name}-share`),
        dependsOn: [this.directoryEgress],
      });
      this.windowsFileSystem = fsx;
      this.mountTargets = [];
      this.credentialsSecretArn = secretsManagerArn(spec.storage.credentialsSecretRef);
      if (!spec.storage.credentialsSecretRef) {
        // the directory looked up above for the FSx egress rule
        this.domainJoin = new SsmAssociation(this, 'domain-join', {
          name: 'AWS-JoinDirectoryServiceDomain',
          associationName: awsName(spec.name, 'domain-join', 128),
          targets: [{ key: `tag:${CLUSTER_TAG}`, values: [spec.name] }],
          parameters: {
            directoryId: props.activeDirectoryId!,
            directoryName: directory.name,
            dnsIpAddresses: Fn.join(',', directory.dnsIpAddresses),
          },
        });
      }
      this.mount = {
        kind: 'smb',
        address: `//${fsx.dnsName}/share`,
        ...(spec.storage.credentialsSecretRef ? { credentialsSecretRef: spec.storage.credentialsSecretRef } : {}),
      };
    }
  }

  /** Lets a security group reach the share (2049 or 445): egress on it, ingress on the share's group. */
  public allowFrom(securityGroupId: string): void {
    allowTcp(this, `client-${this.clients++}`, {
      from: securityGroupId,
      to: this.securityGroup.id,
      port: this.port,
      description: `${this.clusterName}: app servers to the share`,
    });
  }

  /** The file system's id: EFS `fs-…` (NFS) or FSx `fs-…` (SMB). */
  public get storageId(): string {
    return (this.fileSystem ?? this.windowsFileSystem)!.id;
  }

  /** The file system's ARN (EFS or FSx). */
  public get storageArn(): string {
    return (this.fileSystem ?? this.windowsFileSystem)!.arn;
  }

  /** The file system's DNS name (EFS `fs-….efs.<region>.amazonaws.com`, or the FSx file server's name). */
  public get dnsName(): string {
    return (this.fileSystem ?? this.windowsFileSystem)!.dnsName;
  }
}

/**
 * Mounting through a mount target is allowed; any request without TLS is denied (an explicit
 * Deny wins over every Allow), so a plain-NFS mount fails instead of sending data in clear.
 */
export function efsTlsOnlyPolicy(fileSystemArn: string): string {
  return policyDocument([
    {
      Sid: 'MountThroughMountTargets',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite', 'elasticfilesystem:ClientRootAccess'],
      Resource: fileSystemArn,
      Condition: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
    },
    {
      Sid: 'DenyWithoutTls',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: '*',
      Resource: fileSystemArn,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ]);
}

/** Every problem of these props (AwsFailoverCluster checks them before it builds anything). */
export function sharedStorageProblems(props: AwsSharedStorageProps): Problem[] {
  const problems = subnetProblems('subnetIds', props.subnetIds);
  if (props.spec.storage.kind === 'smb') {
    if (!props.activeDirectoryId || (isKnown(props.activeDirectoryId) && !/^d-[0-9a-f]{10}$/.test(props.activeDirectoryId))) {
      problems.push({ path: 'activeDirectoryId', message: 'SMB storage (FSx for Windows) needs an AWS Managed Microsoft AD id such as "d-1234567890"' });
    }
    const t = props.fsxThroughputMbps;
    if (t !== undefined && !FSX_THROUGHPUTS.includes(t)) {
      problems.push({ path: 'fsxThroughputMbps', message: `must be one of ${FSX_THROUGHPUTS.join(', ')}` });
    }
  }
  const ref = props.spec.storage.credentialsSecretRef;
  const refProblem = ref === undefined ? undefined : secretReferenceProblem(ref, 'smb-credentials', 'aws');
  if (refProblem !== undefined) problems.push({ path: 'spec.storage.credentialsSecretRef', message: refProblem });
  return problems;
}
