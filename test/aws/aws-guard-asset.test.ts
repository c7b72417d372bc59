import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Testing, TerraformStack } from 'cdktf';
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { gunzipSync } from 'zlib';
import { AwsGuardAsset } from '../../lib/aws/aws-guard-asset';
import { errorOf, FIXTURE_BINARY, one, papercutSpec, synth } from './aws-test-support';

const SHA = createHash('sha256').update(readFileSync(FIXTURE_BINARY)).digest('hex');

describe('AwsGuardAsset', () => {
  it('uploads the binary under a key with its hash to a private, encrypted, versioned, TLS-only bucket', () => {
    // given / when
    let guard!: AwsGuardAsset;
    const json = synth((s) => (guard = new AwsGuardAsset(s, 'guard', { spec: papercutSpec(), binaryPath: FIXTURE_BINARY })));
    // then
    expect(one(json, 'aws_s3_bucket_public_access_block')).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(one(json, 'aws_s3_bucket_versioning').versioning_configuration.status).toBe('Enabled');
    expect(one(json, 'aws_s3_bucket_server_side_encryption_configuration').rule[0].apply_server_side_encryption_by_default.sse_algorithm).toBe('AES256');
    expect(one(json, 'aws_s3_bucket_ownership_controls').rule.object_ownership).toBe('BucketOwnerEnforced');
    const deny = JSON.parse(one(json, 'aws_s3_bucket_policy').policy).Statement[0];
    expect(deny).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const object = one(json, 'aws_s3_object');
    expect(object.key).toBe(`failover-guard/${SHA}/failover-guard-fixture.gz`);
    expect(object.source).toContain(SHA);
    expect(guard.sha256).toBe(SHA);
    expect(guard.source.sha256).toBe(SHA);
    expect(guard.source.linux().values).toContain(`/${object.key}'`);
    expect(one(json, 'aws_s3_bucket').bucket_prefix).toBe('pc-guard-');
  });

  it('uploads the gzip-compressed binary, and gives the nodes the SHA-256 of the decompressed one', () => {
    // given
    const app = Testing.app();
    const stack = new TerraformStack(app, 'test');
    new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
    const guard = new AwsGuardAsset(stack, 'guard', { spec: papercutSpec(), binaryPath: FIXTURE_BINARY });
    // when
    const outdir = Testing.fullSynth(stack);
    // then: the file in the stack's assets is gzip (RFC 1952 magic, no mtime), and decompresses to the binary
    const json = JSON.parse(readFileSync(join(outdir, 'stacks', 'test', 'cdk.tf.json'), 'utf8'));
    const uploaded = readFileSync(join(outdir, 'stacks', 'test', one(json, 'aws_s3_object').source));
    expect(uploaded.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 8]));
    expect(uploaded.readUInt32LE(4)).toBe(0);
    expect(gunzipSync(uploaded)).toEqual(readFileSync(FIXTURE_BINARY));
    expect(guard.source.sha256).toBe(SHA);
    expect(guard.source.sha256).not.toBe(createHash('sha256').update(uploaded).digest('hex'));
  });

  it('validation: a missing binary names binaryPath', () => {
    expect(errorOf((s) => new AwsGuardAsset(s, 'guard', { spec: papercutSpec(), binaryPath: '/nonexistent/guard' }))).toContain('test/guard is invalid:\n  - binaryPath: no guard binary at /nonexistent/guard (leave binaryPath unset to build it at synth)');
  });
});
