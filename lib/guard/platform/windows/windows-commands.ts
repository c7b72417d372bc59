import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { dirname } from 'path';
import type { GuardConfig } from '../../config';
import { watchService } from './windows-app-watch';
import { renderServiceHostXml, serviceHostXmlPath } from './windows-service-host';

/** SEA asset names of the embedded service host (see scripts/build-guard.ts). */
export const SERVICE_HOST_ASSETS = ['winsw.exe', 'winsw.exe.config'] as const;

/** An embedded file of the single executable; undefined when not running as one. */
export function embeddedAsset(name: string): Buffer | undefined {
  try {
    const sea = require('node:sea') as { isSea(): boolean; getAsset(key: string): ArrayBuffer };
    return sea.isSea() ? Buffer.from(sea.getAsset(name)) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `bytes` unless the file already holds them; true when written. */
export function writeIfChanged(file: string, bytes: Buffer): boolean {
  if (existsSync(file) && readFileSync(file).equals(bytes)) return false;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return true;
}

/**
 * Windows-only commands of the guard CLI: `service-host --out FILE` writes the embedded WinSW
 * (FILE, FILE.config) and its XML for the guard service (from the --config file) for the boot
 * script; `watch-service` is the app watcher the guard starts itself in windows-service mode
 * (hidden from help).
 */
export function registerWindowsCommands(program: Command, out: (line: string) => void, config: () => { file: string; config: GuardConfig }): void {
  program
    .command('service-host')
    .description('write the embedded Windows service host (WinSW) to --out FILE, FILE.config and its XML (only what differs)')
    .requiredOption('--out <file>', 'where winsw.exe goes, e.g. C:\\Program Files\\failover-guard\\failover-guard-service.exe')
    .action((opts: { out: string }) => {
      const c = config();
      const [exe, exeConfig] = SERVICE_HOST_ASSETS.map(embeddedAsset);
      if (!exe || !exeConfig) throw new Error('service-host: the service host is embedded only in the single executable (npm run build:guard)');
      const xml = renderServiceHostXml({ guardExe: process.execPath, configFile: c.file, config: c.config });
      const written = [writeIfChanged(opts.out, exe), writeIfChanged(`${opts.out}.config`, exeConfig), writeIfChanged(serviceHostXmlPath(opts.out), Buffer.from(xml))];
      out(written.some(Boolean) ? `ok: wrote ${opts.out} and its configuration` : `ok: ${opts.out} is up to date`);
    });

  program
    .command('watch-service', { hidden: true })
    .description('stop the app service when the guard behind --socket ends without dismissing this watcher')
    .requiredOption('--service <name>')
    .requiredOption('--stop-timeout-secs <secs>')
    .requiredOption('--marker <file>')
    .requiredOption('--socket <path>')
    .option('--stage <n>', '', '1')
    .action(async (opts: { service: string; stopTimeoutSecs: string; marker: string; socket: string; stage: string }) => {
      await watchService({ service: opts.service, stopTimeoutSecs: Number(opts.stopTimeoutSecs), marker: opts.marker, socket: opts.socket, stage: Number(opts.stage) });
    });
}
