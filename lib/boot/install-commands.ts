import type { Problem } from '../problems/problems';

/**
 * Puts install commands (e.g. install the app when the image does not have it) before a boot
 * script: after the shebang on Linux, stopping at the first failure; at the top of the
 * (unwrapped) PowerShell script on Windows, with errors stopping it. The commands are the
 * user's own code, written verbatim.
 */
export function prependInstallCommands(os: 'linux' | 'windows', script: string, commands: readonly string[]): string {
  if (commands.length === 0) return script;
  if (os === 'windows') return `$ErrorActionPreference = 'Stop'\n${commands.join('\n')}\n${script}`;
  const newline = script.indexOf('\n');
  const [shebang, rest] = script.startsWith('#!') ? [script.slice(0, newline + 1), script.slice(newline + 1)] : ['#!/bin/bash\n', script];
  return `${shebang}# install commands\nset -euo pipefail\n${commands.join('\n')}\n${rest}`;
}

/** Each command must be a non-empty line of text without NUL. */
export function installCommandProblems(commands: readonly string[] | undefined, path = 'installCommands'): Problem[] {
  return (commands ?? []).flatMap((c, i) => (c.trim() === '' || c.includes('\0') ? [{ path: `${path}[${i}]`, message: 'must be a non-empty command' }] : []));
}
