/** Command-line pieces `npm run drill`, `npm run soak` and `npm run soak:nodes` share. */
import { Command, InvalidArgumentError } from 'commander';
import type { Mode } from '../../test/harness/haproxy';

export function intArg(flag: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} must be a whole number ≥ ${min}, got "${v}"`);
    return n;
  };
}

export function modeArg(v: string): Mode {
  if (v !== 'tcp' && v !== 'http') throw new InvalidArgumentError(`--mode must be tcp or http, got "${v}"`);
  return v;
}

/** Parses `a,b,…` into names from `allowed`; throws naming the flag and the bad value. */
export function parseList<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  const out = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = out.filter((f) => !(allowed as readonly string[]).includes(f));
  if (bad.length || out.length === 0) throw new Error(`${flag}: unknown fault ${bad.join(', ') || '(none)'}; expected a comma-separated list of ${allowed.join(', ')}`);
  return out as T[];
}

/** The options every soak takes: --faults, --seed, --lease-secs, --nodes, --types, --verbose. */
export interface SoakArgs {
  faults: number;
  seed: number;
  leaseSecs: number;
  nodes: number;
  types?: string;
  verbose?: boolean;
}

/** A soak's command line with the shared options; `nodesWhat` names what --nodes counts. */
export function soakCommand(name: string, description: string, o: { leaseSecs: number; nodesWhat: string; types: readonly string[] }): Command {
  return new Command(name)
    .description(description)
    .option('--faults <n>', 'number of faults', intArg('--faults', 1), 30)
    .option('--seed <s>', 'PRNG seed (same seed, same sequence)', intArg('--seed', 0), 1)
    .option('--lease-secs <L>', 'lease TTL L in seconds', intArg('--lease-secs', 5), o.leaseSecs)
    .option('--nodes <n>', `number of ${o.nodesWhat}`, intArg('--nodes', 2), 3)
    .option('--types <list>', `fault types to draw from: ${o.types.join(',')}`)
    .option('--verbose', 'live timeline and every event')
    .exitOverride();
}

/**
 * Parses a soak's `argv` with --types checked against `allowed`; undefined on a usage error
 * (exit 2), after commander or this printed what is wrong.
 */
export function parseSoakArgs<T extends string, Extra = object>(program: Command, argv: readonly string[], allowed: readonly T[]): (Omit<SoakArgs, 'types'> & Extra & { types?: T[] }) | undefined {
  const o = parseArgs<SoakArgs & Extra>(program, argv);
  if (!o) return undefined;
  try {
    return { ...o, types: o.types ? parseList('--types', o.types, allowed) : undefined };
  } catch (e) {
    console.error((e as Error).message);
    return undefined;
  }
}

/** Parses `argv` (commander prints the problem); undefined on a usage error (exit 2). */
export function parseArgs<T>(program: Command, argv: readonly string[]): T | undefined {
  try {
    program.parse(argv as string[], { from: 'user' });
  } catch {
    return undefined;
  }
  return program.opts<T & Record<string, unknown>>();
}
