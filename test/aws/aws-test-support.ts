import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Testing, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { papercut, parseClusterSpec, type ClusterSpec, type ClusterSpecInput } from '../../lib/spec';
import { FIXTURE_BINARY } from '../harness/guard-fixture';

/** The harness's stand-in for the guard binary (tests never depend on the real build). */
export { FIXTURE_BINARY };

/** Placeholder network ids used across the AWS tests. */
export const NET = {
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
  publicSubnetIds: ['subnet-0ccccccccccccccc3', 'subnet-0ddddddddddddddd4'],
  vpcCidr: '10.20.0.0/16',
} as const;

/** A parsed PaperCut MF (Linux) spec with overrides. */
export function papercutSpec(overrides: Partial<ClusterSpecInput> = {}): ClusterSpec {
  return parseClusterSpec({ name: 'pc', profile: papercut(), ...overrides });
}

export type Synth = Record<string, any>;

/** Synthesizes what `build` adds to a fresh stack and returns the parsed Terraform JSON. */
export function synth(build: (stack: Construct) => void): Synth {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'test');
  new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
  build(stack);
  return JSON.parse(Testing.synth(stack, true));
}

/** Every resource (or data source with kind 'data') of a type, as a list of configs. */
export function all(json: Synth, type: string, kind: 'resource' | 'data' = 'resource'): Record<string, any>[] {
  return Object.values(json[kind]?.[type] ?? {});
}

/** The only resource of a type; fails when there is not exactly one. */
export function one(json: Synth, type: string, kind: 'resource' | 'data' = 'resource'): Record<string, any> {
  const list = all(json, type, kind);
  if (list.length !== 1) throw new Error(`expected one ${type}, found ${list.length}`);
  return list[0];
}

/** Runs `build` and returns the error message it throws ('' when it does not throw). */
export function errorOf(build: (stack: Construct) => void): string {
  try {
    synth(build);
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}
