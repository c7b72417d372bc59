import { renderLinuxBootScript, renderWindowsBootScript } from '../../lib/boot';
import { azureGuardBlob, azureNodePlatform } from '../../lib/azure/azure-node-platform';
import { clientPort } from '../../lib/boot/app-steps';
import { custom, papercut, parseClusterSpec } from '../../lib/spec';
import { APP, DB, linuxContext, SHA } from '../harness/boot-contexts';
import { powershellSyntaxErrors } from '../harness/powershell-syntax';

const windowsCtx = {
  share: { kind: 'smb' as const, address: '//fgshare.file.core.windows.net/papercut', credentialsSecretRef: 'azure-keyvault:https://fg-kv.vault.azure.net/secrets/smb' },
  mode: 'guard' as const, platform: azureNodePlatform(), guardBinary: azureGuardBlob({ url: 'https://fgassets.blob.core.windows.net/guard/g.exe', sha256: SHA }),
  database: DB,
  app: APP,
};

describe('the guide steps in the boot scripts', () => {
  it('Windows with Print Deploy: the three steps, values only as single-quoted literals', () => {
    // given
    const spec = parseClusterSpec({ name: 'print', profile: papercut({ os: 'windows', printDeploy: true }) });
    // when
    const script = renderWindowsBootScript(spec, { ...windowsCtx, app: { ...APP, networkAddress: "lb.example.internal" } }, { wrap: false });
    // then
    expect(script).toContain("Invoke-Step 'disable printing and tracking services'");
    expect(script).toContain("foreach ($name in @('Spooler', 'PCPrintProvider'))");
    expect(script).toContain("$pdDir = 'C:\\Program Files\\PaperCut MF\\providers\\print-deploy\\win'");
    expect(script).toContain("$pdTarget = [System.IO.Path]::Combine($ShareRoot, 'print-deploy\\data')");
    expect(script).toContain("'server-name' = 'lb.example.internal'; 'server-address' = 'lb.example.internal'; 'server-port' = '9191'");
    // PowerShell reads "$x:" as a scope-qualified name: no such string may appear
    expect(script).not.toMatch(/"[^"\n]*\$(?!env:|script:)[A-Za-z]+:[^"\n]*"/);
  });

  it('Windows with Print Deploy parses as PowerShell', async () => {
    const spec = parseClusterSpec({ name: 'print', profile: papercut({ os: 'windows', printDeploy: true }) });
    expect(await powershellSyntaxErrors(renderWindowsBootScript(spec, windowsCtx))).toEqual([]);
  });

  it('leaves the steps out of profiles that do not ask for them', () => {
    // given: a custom profile without hooks, services, Print Deploy or client config
    const spec = parseClusterSpec({
      name: 'app',
      profile: custom({ displayName: 'App', os: 'linux', ports: [{ name: 'web', port: 8080 }], installDir: '/opt/app', serviceName: 'app.service', readiness: { kind: 'tcp', port: 8080 } }),
    });
    // when
    const script = renderLinuxBootScript(spec, { ...linuxContext('nfs', SHA), app: undefined });
    // then
    expect(script).not.toMatch(/disable printing|Print Deploy|user client|set_property|hook\./);
  });

  it('needs the load balancer name for the client config, and refuses a bad one', () => {
    const spec = parseClusterSpec({ name: 'print', profile: papercut() });
    expect(() => renderLinuxBootScript(spec, { ...linuxContext('nfs', SHA), app: { database: APP.database } })).toThrow('app.networkAddress: is required: a hook uses {{network-address}}');
    expect(() => renderLinuxBootScript(spec, { ...linuxContext('nfs', SHA), app: { database: APP.database, networkAddress: "lb'$(reboot)" } })).toThrow('app.networkAddress: must be a DNS name or IP address');
  });

  it("the client port is the profile's http port, else its first", () => {
    expect(clientPort(parseClusterSpec({ name: 'print', profile: papercut() }))).toBe(9191);
    expect(clientPort(parseClusterSpec({ name: 'print', profile: papercut(), ports: [{ name: 'web', port: 80 }, { name: 'http', port: 8080 }] }))).toBe(8080);
    expect(clientPort(parseClusterSpec({ name: 'print', profile: papercut(), ports: [{ name: 'web', port: 80 }] }))).toBe(80);
  });
});
