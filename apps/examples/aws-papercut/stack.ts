import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { AwsFailoverCluster } from 'failover-constructs/aws';
import { PAPERCUT_MF_LINUX_INSTALLER, papercutLinuxInstallCommands } from 'failover-constructs/boot';
import { papercut } from 'failover-constructs/spec';

export interface AwsPaperCutStackOptions {
  /**
   * The guard binary.
   * @default - built at synth (see AwsFailoverClusterProps.binaryPath)
   */
  readonly binaryPath?: string;
}

/**
 * PaperCut MF on Linux, two nodes behind an internal NLB, RDS PostgreSQL and EFS, in an
 * existing VPC given as variables. Credentials come from the usual AWS provider chain.
 */
export class AwsPaperCutStack extends TerraformStack {
  constructor(scope: Construct, id: string, options: AwsPaperCutStackOptions = {}) {
    super(scope, id);
    const region = new TerraformVariable(this, 'region', { type: 'string', default: 'eu-west-1', description: 'AWS region' });
    const vpcId = new TerraformVariable(this, 'vpc_id', { type: 'string', default: 'vpc-0123456789abcdef0', description: 'Existing VPC' });
    const vpcCidr = new TerraformVariable(this, 'vpc_cidr', { type: 'string', default: '10.0.0.0/16', description: 'Clients allowed to reach the load balancer' });
    const subnetA = new TerraformVariable(this, 'private_subnet_a', { type: 'string', default: 'subnet-0aaaaaaaaaaaaaaa1', description: 'Private subnet, AZ a' });
    const subnetB = new TerraformVariable(this, 'private_subnet_b', { type: 'string', default: 'subnet-0bbbbbbbbbbbbbbb2', description: 'Private subnet, AZ b' });
    const installer = new TerraformVariable(this, 'papercut_installer_url', {
      type: 'string',
      default: PAPERCUT_MF_LINUX_INSTALLER,
      description: 'PaperCut MF Linux installer (pcmf-setup-*.sh) the nodes download at first boot',
    });
    new AwsProvider(this, 'aws', { region: region.stringValue });

    const cluster = new AwsFailoverCluster(this, 'papercut', {
      spec: {
        name: 'papercut',
        profile: papercut({ edition: 'mf', os: 'linux' }),
        nodeCount: 2,
        database: { engine: 'postgres' },
        storage: { kind: 'nfs' },
        notificationEmails: ['print-admins@example.com'],
        tags: { app: 'papercut-mf' },
      },
      vpcId: vpcId.stringValue,
      vpcCidr: vpcCidr.stringValue,
      subnetIds: [subnetA.stringValue, subnetB.stringValue],
      // The stock Amazon Linux image has no PaperCut: install it at first boot (as PaperCut's
      // installer wants: as the papercut user, then its root tasks, which add pc-app-server.service).
      // With an image that has PaperCut already, pass imageId instead. Without either, the boot
      // script stops at "check the app is installed" and says so.
      installCommands: papercutLinuxInstallCommands(installer.stringValue),
      binaryPath: options.binaryPath,
    });

    new TerraformOutput(this, 'load_balancer_dns_name', { value: cluster.loadBalancerDnsName });
    new TerraformOutput(this, 'database_endpoint', { value: cluster.databaseHost });
    new TerraformOutput(this, 'database_secret_arn', { value: cluster.database!.secretArn });
    new TerraformOutput(this, 'file_system_id', { value: cluster.storageId });
    new TerraformOutput(this, 'auto_scaling_group', { value: cluster.appServers!.autoScalingGroup.name });
    new TerraformOutput(this, 'alarm_topic_arn', { value: cluster.alarms!.topic.arn });
  }
}
