import { execFileSync, spawn } from 'child_process';
import { SETPRIV } from './exec-supervisor';

export interface CommandOptions {
  /** The command is killed (its whole process group) after this long. */
  readonly timeoutMs: number;
  /** Aborted: the command is killed, or never started when aborted already. @default - not abortable */
  readonly signal?: AbortSignal;
  /** Added to the guard's own environment. @default - the guard's environment */
  readonly env?: Readonly<Record<string, string>>;
  /** Run as this user (POSIX). @default - the guard's user */
  readonly user?: string;
}

export interface CommandResult {
  /** Exit code; -1 when the command did not exit by itself (not started, spawn error, timeout, abort, a signal). */
  readonly code: number;
  /** Its standard output (the first 1 MiB). */
  readonly stdout: string;
  /** Why it failed, with its last lines of output; undefined when it exited 0. */
  readonly failure?: string;
}

/** How a caller runs commands; injected where tests run a manager's commands elsewhere (a booted node) or fake them. */
export type RunCommand = (argv: readonly string[], opts: CommandOptions) => Promise<CommandResult>;

/** How long output may still come through the pipes after the command's process exited. */
const PIPE_GRACE_MS = 50;
/** Standard output kept (as execFile's default maxBuffer). */
const STDOUT_LIMIT = 1024 * 1024;

function userIds(user: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, '--', user], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Runs argv (no shell) in its own process group and resolves with how it ended; never rejects.
 * The command runs inside the guard's kill scope: its own group (killed whole at the timeout or
 * on abort), `--pdeathsig KILL` (it dies with the guard), the guard's cgroup (a child stays in its
 * parent's). Settles when the process exits, not when its pipes close: a grandchild that keeps
 * them open (a daemon it started) cannot keep the call pending; the pipes are destroyed then.
 * Hooks, systemctl, sc.exe, taskkill and reg.exe all go through it.
 */
export const runCommand: RunCommand = (argv, opts) =>
  new Promise((resolve) => {
    const fail = (failure: string, stdout = '') => resolve({ code: -1, stdout, failure });
    // an abort that came while a database step ran must not let the program start at all
    if (opts.signal?.aborted) return fail('aborted: the app is being stopped');
    let ids = {};
    try {
      ids = opts.user && process.platform !== 'win32' ? userIds(opts.user) : {};
    } catch (e) {
      return fail(`${argv[0]}: user ${opts.user}: ${(e as Error).message}`);
    }
    const [file, ...args] = [...(SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--'] : []), ...argv];
    const child = spawn(file, args, {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
      ...ids,
    });
    let stdout = '';
    let tail = '';
    const keep = (d: Buffer) => (tail = (tail + d.toString()).slice(-1000));
    child.stdout!.on('data', (d: Buffer) => {
      if (stdout.length < STDOUT_LIMIT) stdout = (stdout + d.toString()).slice(0, STDOUT_LIMIT);
      keep(d);
    });
    child.stderr!.on('data', keep);
    let why: string | undefined;
    const kill = (reason: string) => {
      why ??= reason;
      try {
        if (child.pid && process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // gone already
      }
    };
    const timer = setTimeout(() => kill(`timed out after ${Math.round(opts.timeoutMs / 1000)} s`), Math.max(0, opts.timeoutMs));
    const onAbort = () => kill('aborted: the app is being stopped');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (e) => {
      done();
      fail(`${argv[0]}: ${e.message}`);
    });
    child.once('exit', (code, sig) => {
      done();
      const settle = () => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        if (code === 0 && !why) return resolve({ code: 0, stdout });
        const last = tail.trim().split('\n').slice(-3).join(' | ');
        resolve({ code: why || code === null ? -1 : code, stdout, failure: `${why ?? (sig ? `killed by ${sig}` : `exit code ${code}`)}${last ? `: ${last}` : ''}` });
      };
      // the last output is usually still in the pipes: read it unless something else holds them
      const grace = setTimeout(settle, PIPE_GRACE_MS);
      child.once('close', () => {
        clearTimeout(grace);
        settle();
      });
    });
  });

/** Throws the command's failure (hooks: a failed command fails the start). */
export function throwIfFailed(result: CommandResult): void {
  if (result.failure !== undefined) throw new Error(result.failure);
}
