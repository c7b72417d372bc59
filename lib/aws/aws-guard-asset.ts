import { basename, resolve } from 'path';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA as S3BucketVersioning } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import type { GuardBinaryFetch } from '../boot/platform';
import { awsGuardBinary } from './aws-node-platform';
import { throwIfProblems } from '../problems/problems';
import { guardBinaryProblems } from '../synth/guard-binary';
import { compressedGuardBinary, defaultGuardBinary } from '../synth/guard-build';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { awsName, awsTags, policyDocument } from './aws-support';

/** Properties of an {@link AwsGuardAsset}. */
export interface AwsGuardAssetProps {
  /** The parsed cluster spec (name and tags; the OS picks the default binary). */
  readonly spec: ClusterSpec;
  /**
   * The failover-guard binary to upload.
   * @default - built at synth from this package's guard and the pinned Node runtime (linux-x64, or win-x64 for Windows profiles), cached per user
   */
  readonly binaryPath?: string;
}

/**
 * The guard binary, gzip-compressed, as a TerraformAsset, uploaded to a private bucket: SSE,
 * versioning, all four public-access blocks, bucket-owner-enforced ownership and a policy denying
 * non-TLS requests. The object key contains the binary's SHA-256, so a new build is a new object;
 * the instances decompress what they download and check the binary against that hash.
 */
export class AwsGuardAsset extends Construct {
  /** The gzip-compressed binary as a Terraform asset (copied into the synth output). */
  public readonly asset: TerraformAsset;
  /** The private bucket holding the binary. */
  public readonly bucket: S3Bucket;
  /** The compressed guard binary's object; its key carries the binary's hash. */
  public readonly object: S3Object;
  /** ARN of exactly the guard object (for the instance role). */
  public readonly objectArn: string;
  /** SHA-256 (hex) of the binary (the decompressed bytes). */
  public readonly sha256: string;
  /** Where the boot script downloads the guard from. */
  public readonly source: GuardBinaryFetch;

  constructor(scope: Construct, id: string, props: AwsGuardAssetProps) {
    super(scope, id);
    const { spec } = props;
    throwIfProblems(this.node.path, guardAssetProblems(props));
    const compressed = compressedGuardBinary(resolve(props.binaryPath ?? defaultGuardBinary(spec.profile.os)));
    const path = compressed.path;
    this.sha256 = compressed.sha256;
    // Named by the binary's hash: the .gz follows from the binary, and the synthesized paths do
    // not depend on the zlib build that compressed it. It also spares cdktf a read of the file.
    this.asset = new TerraformAsset(this, 'binary', { path, type: AssetType.FILE, assetHash: this.sha256 });
    const tags = awsTags(spec);

    this.bucket = new S3Bucket(this, 'bucket', { bucketPrefix: `${awsName(spec.name, 'guard', 30)}-`, tags });
    new S3BucketPublicAccessBlock(this, 'public-access', {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', { bucket: this.bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    const encryption = new S3BucketServerSideEncryptionConfiguration(this, 'encryption', {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    });
    const versioning = new S3BucketVersioning(this, 'versioning', { bucket: this.bucket.id, versioningConfiguration: { status: 'Enabled' } });
    new S3BucketPolicy(this, 'tls-only', {
      bucket: this.bucket.id,
      policy: policyDocument([
        {
          Sid: 'DenyWithoutTls',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ]),
    });
    const key = `failover-guard/${this.sha256}/${basename(path)}`;
    this.object = new S3Object(this, 'object', {
      bucket: this.bucket.id,
      key,
      source: this.asset.path,
      serverSideEncryption: 'AES256',
      tags,
      dependsOn: [encryption, versioning],
    });
    this.objectArn = `${this.bucket.arn}/${key}`;
    this.source = awsGuardBinary({ bucket: this.bucket.id, key, region: new DataAwsRegion(this, 'region').region, sha256: this.sha256 });
  }

  /** The bucket's name (generated from the cluster name with a unique suffix). */
  public get bucketName(): string {
    return this.bucket.bucket;
  }

  /** The guard object's location, `s3://<bucket>/<key>`. */
  public get url(): string {
    return `s3://${this.bucket.bucket}/${this.object.key}`;
  }
}

/** Every problem of these props (AwsFailoverCluster checks them before it builds anything). */
export function guardAssetProblems(props: AwsGuardAssetProps): Problem[] {
  return guardBinaryProblems('binaryPath', props.binaryPath);
}
