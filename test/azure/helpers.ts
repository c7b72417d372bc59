import { join } from 'path';
import { TerraformStack, Testing } from 'cdktf';
import type { Construct } from 'constructs';
import { papercut, parseClusterSpec, type ClusterSpec, type ClusterSpecInput } from '../../lib/spec';

/** A small file standing in for the guard binary, so tests never depend on a real build. */
export const FIXTURE_BINARY = join(__dirname, 'fixtures', 'failover-guard-fixture');

export const PLACEMENT = { resourceGroupName: 'rg-test', location: 'westeurope' } as const;
export const VNET_ID = '/subscriptions/0000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet';
export const subnetId = (name: string): string => `${VNET_ID}/subnets/${name}`;

/** A PaperCut MF (Linux) spec with overrides. */
export function paperCutSpec(overrides: Partial<ClusterSpecInput> = {}): ClusterSpec {
  return parseClusterSpec({ name: 'pc', profile: papercut(), ...overrides });
}

export interface SynthResult {
  readonly json: Record<string, any>;
  readonly text: string;
}

/** Builds constructs in a fresh stack and returns the synthesized Terraform JSON. */
export function synth(build: (scope: Construct) => void): SynthResult {
  const stack = new TerraformStack(Testing.app(), 'test');
  build(stack);
  const text = Testing.synth(stack);
  return { json: JSON.parse(text), text };
}

/** Every resource of a type, by logical id. */
export function resourcesOf(json: Record<string, any>, type: string): Record<string, any>[] {
  return Object.values(json.resource?.[type] ?? {});
}

/** The only resource of a type (fails the test when there are none or several). */
export function onlyResource(json: Record<string, any>, type: string): Record<string, any> {
  const all = resourcesOf(json, type);
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/** Matches a construct's ValidationError that lists a problem for `prop` (a dotted path). */
export function propError(subject: string, prop: string): RegExp {
  const escaped = prop.replace(/[.[\]]/g, (c) => `\\${c}`);
  return new RegExp(`^${subject} props is invalid:[\\s\\S]*- ${escaped}: `);
}
