import type { AppProfile } from './profile';

export interface PaperCutOptions {
  /** PaperCut MF or NG: only the install dir on Windows differs. @default 'mf' */
  readonly edition?: 'mf' | 'ng';
  /** @default 'linux' */
  readonly os?: 'linux' | 'windows';
}

/**
 * PaperCut NG/MF Application Server (20.0+), from the vendor's "Application Server Failover"
 * guide: ports 9191 HTTP, 9192 HTTPS, 9193 device RPC; shared `server.properties`,
 * `security.properties`, `application.license` (file links) and `data/` (holds
 * `web-print-hot-folder`), `custom/`, `reports/` (directory links); `server.uuid` deleted on
 * every clone. PaperCut's own `high-availability-guard` stays disabled: failover-guard replaces
 * it and runs the app on the active node only.
 */
export function papercut(options: PaperCutOptions = {}): AppProfile {
  const edition = options.edition ?? 'mf';
  const os = options.os ?? 'linux';
  const editionName = edition === 'mf' ? 'MF' : 'NG';
  return {
    app: 'papercut',
    displayName: `PaperCut ${editionName}`,
    os,
    failoverMode: 'guard',
    ports: [
      { name: 'http', port: 9191, protocol: 'tcp' },
      { name: 'https', port: 9192, protocol: 'tcp' },
      { name: 'device-rpc', port: 9193, protocol: 'tcp' },
    ],
    installDir: os === 'linux' ? '/home/papercut/server' : `C:\\Program Files\\PaperCut ${editionName}\\server`,
    sharedItems: [
      { path: 'server.properties', type: 'file' },
      { path: 'security.properties', type: 'file' },
      { path: 'application.license', type: 'file' },
      { path: 'data', type: 'directory' },
      { path: 'custom', type: 'directory' },
      { path: 'reports', type: 'directory' },
    ],
    deleteOnClone: ['server.uuid'],
    serviceName: os === 'linux' ? 'pc-app-server.service' : 'PCAppServer',
    serviceUser: os === 'linux' ? 'papercut' : undefined,
    // The login page answers once the app server has fully started; PaperCut's own health API
    // needs an auth key and costs a DB query, so it is not used for readiness.
    readiness: { kind: 'http', url: 'http://127.0.0.1:9191/app', expectStatus: [200, 399] },
  };
}
