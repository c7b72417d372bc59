import type { AppHook, AppProfile } from './profile';

export interface PaperCutOptions {
  /** PaperCut MF or NG: only the install dir on Windows differs. @default 'mf' */
  readonly edition?: 'mf' | 'ng';
  /** @default 'linux' */
  readonly os?: 'linux' | 'windows';
  /**
   * Print Deploy on every node, made failover-aware (the guide's Print Deploy section) and its
   * port forwarded by the load balancer with the guard's health check. @default false
   */
  readonly printDeploy?: boolean;
  /** Print Deploy's client port. @default 9263 */
  readonly printDeployPort?: number;
  /** The app's own database user and database name. @default 'papercut_app' for both */
  readonly appDatabaseUser?: string;
  /** @default 'papercut_app' */
  readonly appDatabaseName?: string;
}

/** Where PaperCut keeps things per OS, below `[app-path]` (the parent of the server dir). */
function layout(os: 'linux' | 'windows', editionName: string) {
  if (os === 'linux') {
    const app = '/home/papercut';
    return {
      installDir: `${app}/server`,
      bin: `${app}/server/bin/linux-x64/`,
      exe: '',
      printDeployDir: `${app}/providers/print-deploy/linux-x64`,
      clientDir: `${app}/client`,
    };
  }
  const app = `C:\\Program Files\\PaperCut ${editionName}`;
  return {
    installDir: `${app}\\server`,
    bin: `${app}\\server\\bin\\win\\`,
    exe: '.exe',
    printDeployDir: `${app}\\providers\\print-deploy\\win`,
    clientDir: `${app}\\client`,
  };
}

/**
 * The guard's hooks for PaperCut on the managed database: before start, make sure the app's
 * user and database exist, write `database.*` into the shared server.properties from the secret,
 * and initialise an empty database once (`db-tools init-db`); once ready, set
 * `system.network-address` to the load balancer's name (the guide's "Server Address" steps).
 */
export function papercutHooks(os: 'linux' | 'windows', editionName = 'MF'): { beforeStart: AppHook[]; afterReady: AppHook[] } {
  const l = layout(os, editionName);
  const user = os === 'linux' ? { user: 'papercut' } : {};
  const sep = os === 'linux' ? '/' : '\\';
  return {
    beforeStart: [
      { kind: 'app-database', name: 'app-database', timeoutSecs: 30 },
      { kind: 'papercut-database-properties', name: 'database-properties', file: `${l.installDir}${sep}server.properties`, timeoutSecs: 30 },
      // -f: no prompt; the guard runs it only while the app database has no tables.
      { kind: 'schema-init', name: 'schema-init', argv: [`${l.bin}db-tools${l.exe}`, 'init-db', '-f'], timeoutSecs: 600, ...user },
    ],
    afterReady: [
      {
        kind: 'command',
        name: 'network-address',
        argv: [`${l.bin}server-command${l.exe}`, 'set-config', 'system.network-address', '{{network-address}}'],
        timeoutSecs: 60,
        ...user,
      },
    ],
  };
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
  const l = layout(os, editionName);
  const printDeploy = options.printDeploy
    ? { dir: l.printDeployDir, serviceName: os === 'linux' ? 'pc-print-deploy.service' : 'PCPrintDeploy', port: options.printDeployPort ?? 9263 }
    : undefined;
  return {
    app: 'papercut',
    displayName: `PaperCut ${editionName}`,
    os,
    failoverMode: 'guard',
    ports: [
      { name: 'http', port: 9191, protocol: 'tcp' },
      { name: 'https', port: 9192, protocol: 'tcp' },
      { name: 'device-rpc', port: 9193, protocol: 'tcp' },
      ...(printDeploy ? [{ name: 'print-deploy', port: printDeploy.port, protocol: 'tcp' as const }] : []),
    ],
    installDir: l.installDir,
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
    hooks: papercutHooks(os, editionName),
    appDatabase: { user: options.appDatabaseUser ?? 'papercut_app', database: options.appDatabaseName ?? 'papercut_app' },
    // the guide, step 5: printing and tracking are not hosted on failover application servers
    disableServices: os === 'linux' ? ['cups.service', 'cups.socket', 'cups.path', 'pc-event-monitor.service'] : ['Spooler', 'PCPrintProvider'],
    printDeploy,
    clientConfigDir: l.clientDir,
  };
}
