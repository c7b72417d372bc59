/**
 * Network namespaces joined to the host by veth pairs (the drill's partition node, the booted
 * nodes on a bridge). Every name goes through {@link netName}: `FAILOVER_NET_TAG` prefixes it, so
 * parallel runs on one machine (several checkouts, CI jobs) never pick the same names.
 */
import { execFileSync } from 'child_process';
import { existsSync } from 'fs';

export const IP = '/usr/sbin/ip';

/** Linux caps interface names at 15 bytes. */
const IFNAMSIZ = 15;

/** `base` with the run's tag in front (`FAILOVER_NET_TAG`, e.g. `h15`; empty by default). */
export function netName(base: string): string {
  return `${process.env.FAILOVER_NET_TAG ?? ''}${base}`;
}

/** {@link netName} for a link or bridge; throws naming the variable when the tag makes it too long. */
export function linkName(base: string): string {
  const name = netName(base);
  if (name.length > IFNAMSIZ) throw new Error(`interface name ${name} is longer than ${IFNAMSIZ} characters: shorten FAILOVER_NET_TAG (at most ${IFNAMSIZ - base.length} characters here)`);
  return name;
}

export function ip(...args: string[]): string {
  return execFileSync(IP, args, { stdio: 'pipe' }).toString();
}

/** Problems with the machine for namespaces (missing `ip`, not root): one line each. */
export function netnsProblems(what: string): string[] {
  const p: string[] = [];
  if (!existsSync(IP)) p.push(`ip is missing: ${IP} not found (Debian: apt-get install iproute2); ${what} needs it`);
  if (process.getuid?.() !== 0) p.push(`${what} needs root (network namespaces)`);
  return p;
}

/**
 * A random `k` with no address `<prefix>.k.*` on an interface here (two runs starting at the same
 * moment, say jest workers, rarely pick the same).
 */
export function freeBlock(prefix: string): number {
  const used = ip('-o', '-4', 'addr', 'show');
  const free = [...Array(256).keys()].filter((b) => !used.includes(`${prefix}.${b}.`));
  if (free.length === 0) throw new Error(`no free ${prefix}.k.0 block on this machine`);
  return free[Math.floor(Math.random() * free.length)];
}

/** Where the host end of a namespace's veth goes: an address of its own, or a bridge. */
export type HostSide = { readonly addr: string } | { readonly bridge: string };

/** A network namespace with a veth pair to the host; the namespace end has `nsAddr/prefixLen`. */
export class Netns {
  private created = false;

  constructor(
    readonly name: string,
    readonly hostIf: string,
    readonly nsIf: string,
    readonly nsAddr: string,
    readonly prefixLen: number,
    readonly host: HostSide,
  ) {}

  create(): void {
    this.created = true;
    ip('netns', 'add', this.name);
    ip('link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', this.nsIf);
    ip('link', 'set', this.nsIf, 'netns', this.name);
    if ('bridge' in this.host) ip('link', 'set', this.hostIf, 'master', this.host.bridge);
    else ip('addr', 'add', `${this.host.addr}/${this.prefixLen}`, 'dev', this.hostIf);
    ip('link', 'set', this.hostIf, 'up');
    ip('-n', this.name, 'addr', 'add', `${this.nsAddr}/${this.prefixLen}`, 'dev', this.nsIf);
    ip('-n', this.name, 'link', 'set', this.nsIf, 'up');
    ip('-n', this.name, 'link', 'set', 'lo', 'up');
  }

  /** Cuts the link: packets are dropped silently, as in a real partition (no resets). */
  cut(): void {
    ip('link', 'set', this.hostIf, 'down');
  }

  heal(): void {
    ip('link', 'set', this.hostIf, 'up');
  }

  /** Removes the namespace (its veth goes with it); returns what could not be removed. */
  destroy(): string[] {
    if (!this.created) return [];
    this.created = false;
    const left: string[] = [];
    try {
      ip('link', 'del', this.hostIf);
    } catch {
      // gone with the namespace already
    }
    try {
      ip('netns', 'del', this.name);
    } catch {
      left.push(`netns ${this.name}`);
    }
    return left;
  }
}

/** A Linux bridge with an address, the host side of several namespaces. */
export class Bridge {
  private created = false;

  constructor(
    readonly name: string,
    readonly addr: string,
    readonly prefixLen: number,
  ) {}

  create(): void {
    ip('link', 'add', this.name, 'type', 'bridge');
    this.created = true;
    ip('addr', 'add', `${this.addr}/${this.prefixLen}`, 'dev', this.name);
    ip('link', 'set', this.name, 'up');
  }

  destroy(): string[] {
    if (!this.created) return [];
    this.created = false;
    try {
      ip('link', 'del', this.name);
      return [];
    } catch {
      return [`bridge ${this.name}`];
    }
  }
}
