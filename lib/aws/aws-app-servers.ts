import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import type { BootContext } from '../boot/context';
import { NO_SHARE, installCommandProblems, prependInstallCommands, renderLinuxBootScript, renderWindowsBootScript } from '../boot';
import type { Problem } from '../core/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import type { AwsDatabase } from './aws-database';
import type { AwsGuardAsset } from './aws-guard-asset';
import type { AwsLoadBalancer } from './aws-load-balancer';
import { AwsNodeTemplate, nodeOptionProblems, type AwsNodeOptions } from './aws-node-template';
import { DOMAIN_JOIN_POLICY, type AwsSharedStorage } from './aws-shared-storage';
import type { AwsThinPrintClientKeys } from './aws-thinprint';
import { allowTcp, awsName, subnetProblems, throwIfProblems } from './aws-support';
import { withNlbHealthCheck } from './nlb-health-check';

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
  /** The share; the nodes may reach 2049 or 445 and read its credentials secret. @default - none (a spec without shared items) */
  readonly storage?: AwsSharedStorage;
  /** ThinPrint: the client-keys secret; the nodes may read it and apply it at boot. @default - none */
  readonly thinprintClientKeys?: AwsThinPrintClientKeys;
  /** The guard binary; the nodes may read exactly that object. */
  readonly guardAsset: AwsGuardAsset;
  /**
   * Commands run as root at first boot before the boot script (e.g. install the app when the
   * image does not have it). Bash on Linux, PowerShell on Windows. @default - none
   */
  readonly installCommands?: readonly string[];
  /** Seconds after launch before EC2 status checks count. @default 300 */
  readonly healthCheckGracePeriodSecs?: number;
}

/**
 * The app servers: a launch template and an auto scaling group of fixed size N over the
 * subnets, attached to every target group. Health checks are EC2 ones, never ELB ones: passive
 * nodes answer 503 on /health by design and would otherwise be replaced forever. User data is
 * the boot script from lib/boot; the role reads only the guard object and the secrets it needs.
 */
export class AwsAppServers extends Construct {
  public readonly template: AwsNodeTemplate;
  public readonly autoScalingGroup: AutoscalingGroup;
  /** The boot script (plain text, before base64). */
  public readonly userData: string;
  /** The boot context handed to the renderer. */
  public readonly bootContext: BootContext;
  /** The spec as the NLB and the guard run it (health-check timeout in AWS whole seconds). */
  public readonly effectiveSpec: ClusterSpec;

  constructor(scope: Construct, id: string, props: AwsAppServersProps) {
    super(scope, id);
    const { spec, loadBalancer, database, storage, guardAsset } = props;
    throwIfProblems('AwsAppServers', appServerProblems(props));

    // The guard gets the timings the NLB really uses (its timeout is rounded to whole seconds).
    const effective = withNlbHealthCheck(spec, loadBalancer.healthCheck);
    this.effectiveSpec = effective;
    const clientKeys = props.thinprintClientKeys;
    this.bootContext = {
      share: storage?.share ?? NO_SHARE,
      guardBinary: guardAsset.source,
      database: database.guardDatabase,
      // the app's own database user, and the name clients, PaperCut and the user client use
      app: { database: database.appDatabase, networkAddress: loadBalancer.address },
      ...(clientKeys ? { thinprint: { clientKeysSecretRef: clientKeys.secretRef } } : {}),
    };
    this.userData = withInstallCommands(
      spec.profile.os,
      spec.profile.os === 'windows' ? renderWindowsBootScript(effective, this.bootContext, { wrap: false }) : renderLinuxBootScript(effective, this.bootContext),
      props.installCommands ?? [],
      // the domain join reboots the node; the boot script finishes after it
      storage?.domainJoin !== undefined,
    );

    const secrets = [database.secretArn, database.appSecret?.arn, storage?.credentialsSecretArn, clientKeys?.secret.arn].filter((a): a is string => a !== undefined);
    this.template = new AwsNodeTemplate(this, 'nodes', {
      ...props,
      userData: this.userData,
      policyStatements: [
        { Sid: 'ReadGuardBinary', Effect: 'Allow', Action: 's3:GetObject', Resource: guardAsset.objectArn },
        ...(secrets.length > 0 ? [{ Sid: 'ReadSecrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secrets }] : []),
      ],
    });
    if (storage?.domainJoin) {
      new IamRolePolicyAttachment(this, 'domain-join', { role: this.template.role.name, policyArn: `arn:${new DataAwsPartition(this, 'partition').partition}:iam::aws:policy/${DOMAIN_JOIN_POLICY}` });
    }
    const sg = this.template.securityGroup.id;
    for (const port of [...spec.ports.map((p) => p.port), spec.guard.port]) {
      allowTcp(this, `lb-${port}`, { from: loadBalancer.securityGroup.id, to: sg, port, description: `${spec.name}: load balancer to port ${port}` });
    }
    database.allowFrom(sg);
    storage?.allowFrom(sg);

    this.autoScalingGroup = new AutoscalingGroup(this, 'group', {
      name: awsName(spec.name, 'nodes', 255),
      minSize: spec.nodeCount,
      maxSize: spec.nodeCount,
      desiredCapacity: spec.nodeCount,
      vpcZoneIdentifier: [...props.subnetIds],
      launchTemplate: { id: this.template.launchTemplate.id, version: Token.asString(this.template.launchTemplate.latestVersion) },
      healthCheckType: 'EC2',
      healthCheckGracePeriod: props.healthCheckGracePeriodSecs ?? 300,
      targetGroupArns: Object.values(loadBalancer.targetGroups).map((tg) => tg.arn),
      tag: Object.entries({ ...spec.tags, 'failover-cluster': spec.name, Name: `${spec.name}-node` }).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
    });
  }
}

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
export function appServerProblems(props: AwsAppServersProps): Problem[] {
  const problems = [...subnetProblems('subnetIds', props.subnetIds), ...nodeOptionProblems(props)];
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
