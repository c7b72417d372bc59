import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { DataAwsSubnet } from '@cdktf/provider-aws/lib/data-aws-subnet';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Token, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { GuardNodeContext } from '../boot/context';
import { installCommandProblems, prependInstallCommands, renderLinuxBootScript, renderWindowsBootScript } from '../boot';
import { userDataSizeProblems } from '../synth/user-data';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import type { AwsDatabase } from './aws-database';
import type { AwsGuardAsset } from './aws-guard-asset';
import type { AwsLoadBalancer } from './aws-load-balancer';
import { AwsNodeTemplate, EC2_USER_DATA_MAX_BYTES, nodeOptionProblems, type AwsNodeOptions } from './aws-node-template';
import { DOMAIN_JOIN_POLICY, type AwsSharedStorage } from './aws-shared-storage';
import type { AwsThinPrintClientKeys } from './aws-thinprint';
import { throwIfProblems } from '../problems/problems';
import { allowTcp, awsName, awsTagProblems, subnetProblems } from './aws-support';
import { withNlbHealthCheck } from './aws-health-check';
import { AWS_NODE_PLATFORM, awsLifecycleHookWatch } from './aws-node-platform';
import { clusterTags } from '../spec/tags';
import { handoverBudgetSecs } from '../contracts/timing';

/** Properties of an {@link AwsAppServers}. */
export interface AwsAppServersProps extends AwsNodeOptions {
  /** The parsed cluster spec (node count, ports, guard, profile). */
  readonly spec: ClusterSpec;
  /** VPC of the app servers. */
  readonly vpcId: string;
  /** Private subnets (two or more, in different availability zones) the group spreads over. */
  readonly subnetIds: readonly string[];
  /** Registers every node in each of its target groups; its security group may reach the app and guard ports. */
  readonly loadBalancer: AwsLoadBalancer;
  /** The guard's database; the nodes may reach its port and read its secret. */
  readonly database: AwsDatabase;
  /**
   * The share; the nodes may reach 2049 or 445 and read its credentials secret.
   * @default - none (a spec without shared items)
   */
  readonly storage?: AwsSharedStorage;
  /**
   * ThinPrint: the client-keys secret; the nodes may read it and apply it at boot.
   * @default - none
   */
  readonly thinprintClientKeys?: AwsThinPrintClientKeys;
  /** The guard binary; the nodes may read exactly that object. */
  readonly guardAsset: AwsGuardAsset;
  /**
   * Commands run as root at first boot before the boot script (e.g. install the app when the
   * image does not have it). Bash on Linux, PowerShell on Windows.
   * @default - none
   */
  readonly installCommands?: readonly string[];
  /**
   * Seconds after launch before EC2 status checks count (also the instance refresh's warm-up).
   * @default 300
   */
  readonly healthCheckGracePeriodSecs?: number;
}

/** Name of the termination lifecycle hook the nodes' lifecycle watcher completes. */
export const HANDOVER_HOOK_NAME = 'failover-guard-handover';

/**
 * The app servers: a launch template and an auto scaling group of fixed size N over the
 * subnets, attached to every target group. Health checks are EC2 ones, never ELB ones: passive
 * nodes answer 503 on /health by design and would otherwise be replaced forever. User data is
 * the boot script from lib/boot; the role reads only the guard object and the secrets it needs.
 */
export class AwsAppServers extends Construct {
  /** The nodes' launch template, role and security group. */
  public readonly template: AwsNodeTemplate;
  /** The auto scaling group of the N app servers, registered with every target group. */
  public readonly autoScalingGroup: AutoscalingGroup;
  /** The boot script (plain text, before base64). */
  public readonly userData: string;
  /** The boot context handed to the renderer. */
  public readonly bootContext: GuardNodeContext;
  /** The spec as the NLB and the guard run it (health-check timeout in AWS whole seconds). */
  public readonly effectiveSpec: ClusterSpec;
  /** Seconds the termination hook holds a replaced node for its hand-over. */
  public readonly handoverTimeoutSecs: number;

  constructor(scope: Construct, id: string, props: AwsAppServersProps) {
    super(scope, id);
    const { spec, loadBalancer, database, storage, guardAsset } = props;
    throwIfProblems(this.node.path, appServersProblems(props));

    // The guard gets the timings the NLB really uses (its timeout is rounded to whole seconds).
    const effective = withNlbHealthCheck(spec, loadBalancer.healthCheck);
    this.effectiveSpec = effective;
    const groupName = awsName(spec.name, 'nodes', 255);
    const linux = spec.profile.os === 'linux';
    const region = new DataAwsRegion(this, 'region').region;
    const clientKeys = props.thinprintClientKeys;
    this.bootContext = {
      mode: 'guard',
      platform: AWS_NODE_PLATFORM,
      ...(storage ? { share: storage.mount } : {}),
      guardBinary: guardAsset.source,
      database: database.guardDatabase,
      // the app's own database user, and the name clients, PaperCut and the user client use
      app: { database: database.appDatabase, networkAddress: loadBalancer.address },
      ...(clientKeys ? { thinprint: { clientKeysSecretRef: clientKeys.secretRef } } : {}),
      // Windows Firewall admits the guard's port from the NLB's nodes only (its health checks)
      ...(linux ? {} : { healthProbeSources: loadBalancer.subnetIds.map((id, i) => new DataAwsSubnet(this, `lb-subnet-${i}`, { id }).cidrBlock) }),
      // nodes hand over before the group replaces them (rolling updates, scale-in)
      replacement: awsLifecycleHookWatch({ autoScalingGroupName: groupName, hookName: HANDOVER_HOOK_NAME, region }),
    };
    this.userData = withInstallCommands(
      spec.profile.os,
      // packed when longer than EC2 takes (the install commands and the wrapper get 2 KB)
      spec.profile.os === 'windows' ? renderWindowsBootScript(effective, this.bootContext, { wrap: false, maxBytes: EC2_USER_DATA_MAX_BYTES - 2048 }) : renderLinuxBootScript(effective, this.bootContext),
      props.installCommands ?? [],
      // the domain join reboots the node; the boot script finishes after it
      storage?.domainJoin !== undefined,
    );
    // Linux user data goes gzip-compressed (cloud-init unpacks it); Windows' EC2Launch reads plain text only.
    const sizeLimit = { maxBytes: EC2_USER_DATA_MAX_BYTES, what: 'EC2 user data', gzip: linux };
    throwIfProblems(this.node.path, userDataSizeProblems(props.installCommands?.length ? 'installCommands' : 'spec', this.userData, sizeLimit));
    // a lifecycle hook's heartbeat takes 30–7200 s
    this.handoverTimeoutSecs = Math.min(7200, Math.max(30, Math.ceil(handoverBudgetSecs(spec.guard))));
    const partition = new DataAwsPartition(this, 'partition').partition;
    const account = new DataAwsCallerIdentity(this, 'account').accountId;
    const groupArn = `arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${groupName}`;

    const secrets = [database.secretArn, database.appSecret?.arn, storage?.credentialsSecretArn, clientKeys?.secret.arn].filter((a): a is string => a !== undefined);
    this.template = new AwsNodeTemplate(this, 'nodes', {
      ...props,
      userData: this.userData,
      compressUserData: linux,
      policyStatements: [
        { Sid: 'ReadGuardBinary', Effect: 'Allow', Action: 's3:GetObject', Resource: guardAsset.objectArn },
        ...(secrets.length > 0 ? [{ Sid: 'ReadSecrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secrets }] : []),
        // The lifecycle watcher lets its own group go on once the node has handed over.
        { Sid: 'CompleteHandoverHook', Effect: 'Allow', Action: 'autoscaling:CompleteLifecycleAction', Resource: groupArn },
      ],
    });
    if (storage?.domainJoin) {
      new IamRolePolicyAttachment(this, 'domain-join', { role: this.template.role.name, policyArn: `arn:${partition}:iam::aws:policy/${DOMAIN_JOIN_POLICY}` });
      // aws:domainJoin and the machine's domain logon talk to the domain controllers
      for (const rule of DOMAIN_CONTROLLER_PORTS) {
        new VpcSecurityGroupEgressRule(this, `to-domain-controllers-${rule.protocol}-${rule.from}`, {
          securityGroupId: this.template.securityGroup.id,
          referencedSecurityGroupId: storage.directorySecurityGroupId!,
          ipProtocol: rule.protocol,
          fromPort: rule.from,
          toPort: rule.to,
          description: `${spec.name}: nodes to the domain controllers, ${rule.what}`,
        });
      }
    }
    const sg = this.template.securityGroup.id;
    for (const port of [...spec.ports.map((p) => p.port), spec.guard.port]) {
      allowTcp(this, `lb-${port}`, { from: loadBalancer.securityGroup.id, to: sg, port, description: `${spec.name}: load balancer to port ${port}` });
    }
    database.allowFrom(sg);
    storage?.allowFrom(sg);

    // Nodes boot only once what their boot script needs exists: the guard object, the role's
    // permissions and the EFS mount targets (nothing in the user data refers to them).
    const bootNeeds: ITerraformDependable[] = [guardAsset.object, ...(this.template.policy ? [this.template.policy] : []), ...(storage?.mountTargets ?? [])];
    if (storage?.fileSystemPolicy) bootNeeds.push(storage.fileSystemPolicy);
    const grace = props.healthCheckGracePeriodSecs ?? 300;
    this.autoScalingGroup = new AutoscalingGroup(this, 'group', {
      name: groupName,
      minSize: spec.nodeCount,
      // room for the instance refresh to launch the new nodes before the old ones go
      maxSize: spec.nodeCount * 2,
      desiredCapacity: spec.nodeCount,
      vpcZoneIdentifier: [...props.subnetIds],
      launchTemplate: { id: this.template.launchTemplate.id, version: Token.asString(this.template.launchTemplate.latestVersion) },
      healthCheckType: 'EC2',
      healthCheckGracePeriod: grace,
      // A new launch template (guard binary, app version, image) rolls out by itself: all new
      // nodes first (they join as passive), then the old ones go; each old node is held by the
      // hook until its watcher has handed over, so an upgrade costs one planned handover.
      instanceRefresh: {
        strategy: 'Rolling',
        preferences: {
          minHealthyPercentage: 100,
          maxHealthyPercentage: 200,
          instanceWarmup: String(grace),
          scaleInProtectedInstances: 'Refresh',
          standbyInstances: 'Terminate',
          skipMatching: false,
        },
      },
      initialLifecycleHook: [{ name: HANDOVER_HOOK_NAME, lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', defaultResult: 'CONTINUE', heartbeatTimeout: this.handoverTimeoutSecs }],
      dependsOn: bootNeeds,
      targetGroupArns: Object.values(loadBalancer.targetGroups).map((tg) => tg.arn),
      tag: Object.entries({ ...clusterTags(spec), Name: `${spec.name}-node` }).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
    });
  }
}

/**
 * What a Windows node joining an AWS Managed Microsoft AD needs to reach on the domain
 * controllers (Active Directory's ports, as AWS lists them for the directory's security group).
 */
export const DOMAIN_CONTROLLER_PORTS: readonly { readonly protocol: 'tcp' | 'udp'; readonly from: number; readonly to: number; readonly what: string }[] = [
  { protocol: 'tcp', from: 53, to: 53, what: 'DNS' },
  { protocol: 'udp', from: 53, to: 53, what: 'DNS' },
  { protocol: 'tcp', from: 88, to: 88, what: 'Kerberos' },
  { protocol: 'udp', from: 88, to: 88, what: 'Kerberos' },
  { protocol: 'udp', from: 123, to: 123, what: 'NTP' },
  { protocol: 'tcp', from: 135, to: 135, what: 'RPC endpoint mapper' },
  { protocol: 'tcp', from: 389, to: 389, what: 'LDAP' },
  { protocol: 'udp', from: 389, to: 389, what: 'LDAP' },
  { protocol: 'tcp', from: 445, to: 445, what: 'SMB (SYSVOL, netlogon)' },
  { protocol: 'tcp', from: 464, to: 464, what: 'Kerberos password change' },
  { protocol: 'udp', from: 464, to: 464, what: 'Kerberos password change' },
  { protocol: 'tcp', from: 636, to: 636, what: 'LDAPS' },
  { protocol: 'tcp', from: 3268, to: 3269, what: 'global catalog' },
  { protocol: 'tcp', from: 49152, to: 65535, what: 'dynamic RPC' },
];

/**
 * The install commands before the boot script (see prependInstallCommands); on Windows wrapped
 * in `<powershell>` for EC2Launch, with `<persist>true</persist>` when the script must run
 * again at the next boot (after the domain join's reboot).
 */
export function withInstallCommands(os: 'linux' | 'windows', script: string, commands: readonly string[], persist = false): string {
  const body = prependInstallCommands(os, script, commands);
  return os === 'windows' ? `<powershell>\n${body}\n</powershell>\n${persist ? '<persist>true</persist>\n' : ''}` : body;
}

/** Every problem of these props (AwsFailoverCluster checks them before it builds anything). */
export function appServersProblems(props: AwsAppServersProps): Problem[] {
  const problems = [...subnetProblems('subnetIds', props.subnetIds), ...nodeOptionProblems(props), ...awsTagProblems(props.spec)];
  problems.push(...installCommandProblems(props.installCommands));
  const grace = props.healthCheckGracePeriodSecs;
  if (grace !== undefined && !(Number.isInteger(grace) && grace >= 0 && grace <= 7200)) {
    problems.push({ path: 'healthCheckGracePeriodSecs', message: 'must be a whole number of seconds, 0–7200' });
  }
  if (props.spec.profile.failoverMode !== 'guard') {
    problems.push({ path: 'spec.profile.failoverMode', message: 'AwsAppServers runs the guard; a "dns" profile uses AwsDnsCluster' });
  }
  if (!props.storage && props.spec.sharedItems.length > 0) problems.push({ path: 'storage', message: 'is required: the spec has shared items' });
  return problems;
}
