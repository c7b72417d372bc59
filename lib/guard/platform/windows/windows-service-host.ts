import { win32 } from 'path';
import { RELEASE_MARGIN_SECS } from '../../../contracts/timing';
import type { GuardConfig } from '../../config';

/**
 * The guard's Windows service host: WinSW 1.17 (winsw.exe from the `node-windows` npm package,
 * embedded in the guard's single executable). WinSW speaks the Service Control Manager
 * protocol, so the guard stays a plain console program; it reads `<its exe name>.xml`.
 * `failover-guard service-host --out FILE` writes FILE, FILE.config and this XML next to them.
 */

/** Restart delays of the service recovery (1st, 2nd, later failures); the count resets after an hour. */
export const RESTART_DELAYS_SECS = [2, 5, 10] as const;

export interface ServiceHostInput {
  /** The guard executable the service runs. */
  readonly guardExe: string;
  /** Its properties file. */
  readonly configFile: string;
  readonly config: Pick<GuardConfig, 'clusterName' | 'drainSecs' | 'service'>;
}

const xmlEscape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** The stop timeout WinSW gives the guard: what a graceful release needs before WinSW kills it. */
export function serviceStopTimeoutSecs(config: ServiceHostInput['config']): number {
  return Math.ceil(config.drainSecs + config.service.stopTimeoutSecs) + RELEASE_MARGIN_SECS;
}

/** `C:\…\failover-guard-service.exe` → `C:\…\failover-guard-service.xml` (WinSW finds its config by its own name). */
export const serviceHostXmlPath = (exe: string): string => exe.replace(/(\.exe)?$/i, '.xml');

/**
 * The WinSW configuration of the guard service. Service stop → WinSW sends Ctrl+C to the guard
 * (its SIGINT handler does the graceful release: 503, drain, stop the app, release the lease)
 * and kills it only after `stoptimeout`; `stopparentprocessfirst` stops the guard before any
 * child (the app in exec mode), never the app first. `onfailure` is the service recovery: a
 * crashed guard restarts, and a starting guard stops a leftover app first. Logs and TEMP (pid
 * and watch files) go under the config's folder (SYSTEM and Administrators only).
 */
export function renderServiceHostXml(input: ServiceHostInput): string {
  const x = xmlEscape;
  const dataDir = win32.dirname(input.configFile);
  const temp = win32.join(dataDir, 'run');
  // No XML declaration and no comment before <service>: WinSW 1.17 reads <stoptimeout>,
  // <resetfailure>, <waithint> and <sleeptime> only under the document's first node
  // (SingleTimeSpanElement(dom.FirstChild, …)); ahead of them it silently uses its defaults
  // (15 s stop timeout, failure count reset after a day). UTF-8 is XML's default encoding.
  return [
    '<service>',
    `  <!-- failover-guard service host (WinSW) for cluster ${x(input.config.clusterName)}; written by failover-guard service-host. -->`,
    '  <id>failover-guard</id>',
    '  <name>failover-guard</name>',
    `  <description>Keeps at most one node of cluster ${x(input.config.clusterName)} active</description>`,
    `  <executable>${x(input.guardExe)}</executable>`,
    `  <arguments>run --config "${x(input.configFile)}"</arguments>`,
    `  <workingdirectory>${x(dataDir)}</workingdirectory>`,
    '  <startmode>Automatic</startmode>',
    // SMB: the share the app lives on needs the workstation service.
    '  <depend>LanmanWorkstation</depend>',
    '  <stopparentprocessfirst>true</stopparentprocessfirst>',
    `  <stoptimeout>${serviceStopTimeoutSecs(input.config)} sec</stoptimeout>`,
    ...RESTART_DELAYS_SECS.map((d) => `  <onfailure action="restart" delay="${d} sec"/>`),
    '  <resetfailure>1 hour</resetfailure>',
    `  <env name="TEMP" value="${x(temp)}"/>`,
    `  <env name="TMP" value="${x(temp)}"/>`,
    `  <logpath>${x(win32.join(dataDir, 'logs'))}</logpath>`,
    '  <log mode="roll-by-size">',
    '    <sizeThreshold>10240</sizeThreshold>',
    '    <keepFiles>8</keepFiles>',
    '  </log>',
    '</service>',
    '',
  ].join('\r\n');
}
