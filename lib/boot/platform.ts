import type { Problem } from '../problems/problems';

/**
 * What a boot script needs from the cloud a node runs in. lib/boot is cloud-neutral: each
 * cloud's package supplies these (lib/aws/aws-node-platform.ts, lib/azure/azure-node-platform.ts)
 * and the construct passes them in the BootContext. A new cloud adds its own file; nothing here
 * changes.
 *
 * Shell and PowerShell text from a port is placed into the script as it is: a port quotes
 * every value it interpolates (shQuote, psQuote).
 */
export interface NodePlatform {
  /** The cloud's name in messages, e.g. "AWS". */
  readonly name: string;
  /**
   * The node's managed identity when the instance metadata service must be told which one to
   * use for a token (Azure: a user-assigned identity). @default - none (the machine's own)
   */
  readonly managedIdentityClientId?: string;
  /**
   * Windows: where the load balancer's health probes come from when the construct names none
   * (see BootContext.healthProbeSources).
   */
  readonly defaultHealthProbeSources: readonly string[];
  /**
   * PowerShell statements that set `$instance` to this instance's cloud id (a clone's identity:
   * images captured without sysprep share their MachineGuid). Inside a step, two-space indent
   * after the first line.
   */
  readonly windowsInstanceId: string;
}

/** Where the guard binary comes from and how a node downloads it with its own identity. */
export interface GuardBinaryFetch {
  /** SHA-256 of the binary (64 hex digits); the script checks the download against it. */
  readonly sha256: string;
  /** The download needs an access token from the Azure-style metadata service (`imds_token`, `Get-ImdsToken`). */
  readonly usesImdsToken: boolean;
  /** Everything wrong with the location, each problem naming its `guardBinary.` field. */
  problems(): Problem[];
  /**
   * Bash: variable assignments (top level, unindented) and the download to `"$download"`
   * (two-space indented lines, inside the step's `else` branch).
   */
  linux(): { readonly values: string; readonly download: string };
  /** PowerShell: the download to `$download` (unindented; the step indents it). */
  windows(): string;
}

/**
 * How the cloud tells a node it is about to be replaced (rolling update, scale-in) and how the
 * node lets it go on once it has handed over.
 */
export interface ReplacementWatch {
  /** Bash defining `wait_for_notice` (returns when the notice came) and `let_it_go`. */
  linux(): string;
  /** PowerShell defining `Wait-ForNotice` (returns the notice's name) and `Complete-Notice`. */
  windows(): string;
}
