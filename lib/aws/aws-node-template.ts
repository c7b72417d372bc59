import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsSsmParameter } from '@cdktf/provider-aws/lib/data-aws-ssm-parameter';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { Fn, TerraformLocal } from 'cdktf';
import { Construct } from 'constructs';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { isKnown } from '../contracts/tokens';
import { awsName, awsTags, policyDocument } from './aws-support';
import { escapeTemplateLiterals } from '../synth/terraform-template';

/** Public SSM parameters naming the latest Amazon-published images. */
export const DEFAULT_IMAGE_PARAMETER = {
  linux: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
  windows: '/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base',
} as const;

/** EC2 user data limit: 16 KB (before base64). */
export const EC2_USER_DATA_MAX_BYTES = 16 * 1024;

/** Options shared by every construct that launches cluster nodes. */
export interface AwsNodeOptions {
  /**
   * AMI id, e.g. an image with the app already installed.
   * @default the latest Amazon Linux 2023 (Linux) or Windows Server 2022 (Windows)
   */
  readonly imageId?: string;
  /**
   * EC2 instance type of the nodes.
   * @default 'm7i.large'
   */
  readonly instanceType?: string;
  /**
   * Size of the encrypted root volume in GiB.
   * @default 30 (Linux), 60 (Windows)
   */
  readonly rootVolumeGb?: number;
  /**
   * Root device name of the image.
   * @default '/dev/xvda' (Linux), '/dev/sda1' (Windows)
   */
  readonly rootDeviceName?: string;
  /**
   * Where the nodes may open HTTPS (443) connections: AWS APIs (S3 for the guard binary,
   * Secrets Manager, SSM) and package repositories. Narrow it when the VPC has endpoints.
   * @default ['0.0.0.0/0'] (egress on 443 only; nothing inbound)
   */
  readonly httpsEgressCidrs?: readonly string[];
}

/** Properties of an {@link AwsNodeTemplate}. */
export interface AwsNodeTemplateProps extends AwsNodeOptions {
  /** The parsed cluster spec (name, OS, tags). */
  readonly spec: ClusterSpec;
  /** VPC of the nodes' security group. */
  readonly vpcId: string;
  /**
   * Plain-text user data (encoded to base64 here).
   * @default - none
   */
  readonly userData?: string;
  /**
   * gzip the user data (Linux: cloud-init unpacks it), so a long boot script fits EC2's 16 KB.
   * @default false
   */
  readonly compressUserData?: boolean;
  /**
   * IAM statements of the node role's inline policy, besides SSM core.
   * @default - none
   */
  readonly policyStatements?: ReadonlyArray<Record<string, unknown>>;
}

/**
 * What every cluster node shares: an instance role (SSM core plus the given statements only),
 * a security group with nothing inbound, and a launch template with IMDSv2 required, an
 * encrypted root volume and no key pair.
 */
export class AwsNodeTemplate extends Construct {
  /** The nodes' IAM role. */
  public readonly role: IamRole;
  /** The role's inline policy (the given statements), when there are any. */
  public readonly policy?: IamRolePolicy;
  /** The instance profile carrying {@link role}. */
  public readonly instanceProfile: IamInstanceProfile;
  /** The nodes' security group. */
  public readonly securityGroup: SecurityGroup;
  /** The launch template every node starts from (IMDSv2 only, encrypted disk). */
  public readonly launchTemplate: LaunchTemplate;
  /** The AMI the nodes boot (a token when looked up from SSM). */
  public readonly imageId: string;

  constructor(scope: Construct, id: string, props: AwsNodeTemplateProps) {
    super(scope, id);
    const { spec } = props;
    const os = spec.profile.os;
    const tags = awsTags(spec);
    const partition = new DataAwsPartition(this, 'partition').partition;
    this.role = new IamRole(this, 'role', {
      namePrefix: `${awsName(spec.name, 'node', 30)}-`,
      assumeRolePolicy: policyDocument([{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
      tags,
    });
    new IamRolePolicyAttachment(this, 'ssm-core', { role: this.role.name, policyArn: `arn:${partition}:iam::aws:policy/AmazonSSMManagedInstanceCore` });
    if (props.policyStatements && props.policyStatements.length > 0) {
      this.policy = new IamRolePolicy(this, 'policy', { role: this.role.id, name: 'least-privilege', policy: policyDocument(props.policyStatements) });
    }
    this.instanceProfile = new IamInstanceProfile(this, 'profile', { namePrefix: `${awsName(spec.name, 'node', 30)}-`, role: this.role.name, tags });

    this.securityGroup = new SecurityGroup(this, 'sg', {
      name: awsName(spec.name, 'nodes', 255),
      description: `${spec.name}: app servers`,
      vpcId: props.vpcId,
      tags: awsTags(spec, `${spec.name}-nodes`),
    });
    (props.httpsEgressCidrs ?? ['0.0.0.0/0']).forEach((cidr, i) => {
      new VpcSecurityGroupEgressRule(this, `https-egress-${i}`, {
        securityGroupId: this.securityGroup.id,
        cidrIpv4: cidr,
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        description: 'HTTPS to AWS APIs and package repositories',
      });
    });

    // A local keeps the script (quotes, `${`) out of the function call; base64 of the resolved text.
    const userData = props.userData === undefined ? undefined : new TerraformLocal(this, 'user-data', escapeTemplateLiterals(props.userData));
    this.imageId = props.imageId ?? new DataAwsSsmParameter(this, 'image', { name: DEFAULT_IMAGE_PARAMETER[os] }).insecureValue;
    this.launchTemplate = new LaunchTemplate(this, 'template', {
      namePrefix: `${awsName(spec.name, 'node', 100)}-`,
      imageId: this.imageId,
      instanceType: props.instanceType ?? 'm7i.large',
      iamInstanceProfile: { arn: this.instanceProfile.arn },
      vpcSecurityGroupIds: [this.securityGroup.id],
      metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [
        {
          deviceName: props.rootDeviceName ?? (os === 'windows' ? '/dev/sda1' : '/dev/xvda'),
          ebs: { encrypted: 'true', volumeSize: props.rootVolumeGb ?? (os === 'windows' ? 60 : 30), volumeType: 'gp3', deleteOnTermination: 'true' },
        },
      ],
      ...(userData ? { userData: props.compressUserData ? Fn.base64gzip(userData.asString) : Fn.base64encode(userData.asString) } : {}),
      updateDefaultVersion: true,
      tagSpecifications: [
        { resourceType: 'instance', tags: awsTags(spec, `${spec.name}-node`) },
        { resourceType: 'volume', tags },
      ],
      tags,
    });
  }
}

/** Problems with the node options, each naming its prop. */
export function nodeOptionProblems(o: AwsNodeOptions): Problem[] {
  const problems: Problem[] = [];
  if (isKnown(o.imageId) && !/^ami-[0-9a-f]{8,17}$/.test(o.imageId)) problems.push({ path: 'imageId', message: 'must be an AMI id such as "ami-0123456789abcdef0"' });
  if (isKnown(o.instanceType) && !/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(o.instanceType)) problems.push({ path: 'instanceType', message: 'must be an EC2 instance type such as "m7i.large"' });
  if (o.rootVolumeGb !== undefined && !(Number.isInteger(o.rootVolumeGb) && o.rootVolumeGb >= 8 && o.rootVolumeGb <= 16384)) {
    problems.push({ path: 'rootVolumeGb', message: 'must be a whole number of GiB, 8–16384' });
  }
  (o.httpsEgressCidrs ?? []).forEach((c, i) => {
    if (isKnown(c) && !/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(c)) problems.push({ path: `httpsEgressCidrs[${i}]`, message: 'must be an IPv4 CIDR' });
  });
  return problems;
}
