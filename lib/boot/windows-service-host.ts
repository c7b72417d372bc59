import type { ClusterSpec } from '../spec/cluster-spec';
import { WINDOWS, oneLine, usesShare } from './plan';

/**
 * The guard's Windows service host: WinSW 1.17 (winsw.exe from the `node-windows` npm package,
 * embedded in the guard's single executable and written next to it by `failover-guard
 * service-host`). WinSW speaks the Service Control Manager protocol, so the guard itself stays
 * a plain console program. WinSW reads `<exe name>.xml` from its own folder.
 */
export const SERVICE_HOST = {
  exe: 'C:\\Program Files\\failover-guard\\failover-guard-service.exe',
  xml: 'C:\\Program Files\\failover-guard\\failover-guard-service.xml',
  logDir: 'C:\\ProgramData\\failover-guard\\logs',
  /** The guard's TEMP (pid and watch files) in the SYSTEM-only data folder. */
  tempDir: 'C:\\ProgramData\\failover-guard\\run',
} as const;

/** Seconds WinSW waits for the guard after Ctrl+C before it kills it: drain, app stop, release, margin. */
export const RELEASE_MARGIN_SECS = 15;

/** Restart delays of the service recovery (1st, 2nd, later failures); reset after an hour without one. */
export const RESTART_DELAYS_SECS = [2, 5, 10] as const;

const xmlEscape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** WinSW's stop timeout for a spec: what a graceful release needs before WinSW kills the guard. */
export function serviceStopTimeoutSecs(spec: ClusterSpec): number {
  return Math.ceil(spec.guard.drainSecs + spec.guard.stopTimeoutSecs) + RELEASE_MARGIN_SECS;
}

/**
 * The WinSW configuration of the guard service. Service stop → WinSW sends Ctrl+C to the guard
 * (its SIGINT handler does the graceful release: 503, drain, stop the app, release the lease) and
 * waits `stoptimeout` before killing it; `stopparentprocessfirst` makes WinSW stop the guard
 * before any child (the app in exec mode), never the app first. `onfailure` is the service
 * recovery: a crashed guard restarts, and a guard that starts stops a leftover app first.
 */
export function renderServiceHostXml(spec: ClusterSpec): string {
  const x = xmlEscape;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!-- failover-guard service host (WinSW) for cluster ${x(oneLine(spec.name))}; written by the boot script. -->`,
    '<service>',
    `  <id>${x(WINDOWS.guardService)}</id>`,
    `  <name>${x(WINDOWS.guardService)}</name>`,
    `  <description>${x(oneLine(`Keeps at most one node of cluster ${spec.name} active (${spec.profile.displayName})`))}</description>`,
    `  <executable>${x(WINDOWS.guardBinary)}</executable>`,
    `  <arguments>run --config "${x(WINDOWS.guardConfig)}"</arguments>`,
    `  <workingdirectory>${x(WINDOWS.dataDir)}</workingdirectory>`,
    '  <startmode>Automatic</startmode>',
    // The share must be reachable before the guard starts the app on it.
    ...(usesShare(spec) ? ['  <depend>LanmanWorkstation</depend>'] : []),
    '  <stopparentprocessfirst>true</stopparentprocessfirst>',
    `  <stoptimeout>${serviceStopTimeoutSecs(spec)} sec</stoptimeout>`,
    ...RESTART_DELAYS_SECS.map((d) => `  <onfailure action="restart" delay="${d} sec"/>`),
    '  <resetfailure>1 hour</resetfailure>',
    `  <env name="TEMP" value="${x(SERVICE_HOST.tempDir)}"/>`,
    `  <env name="TMP" value="${x(SERVICE_HOST.tempDir)}"/>`,
    `  <logpath>${x(SERVICE_HOST.logDir)}</logpath>`,
    '  <log mode="roll-by-size">',
    '    <sizeThreshold>10240</sizeThreshold>',
    '    <keepFiles>8</keepFiles>',
    '  </log>',
    '</service>',
  ];
  return lines.join('\r\n') + '\r\n';
}
