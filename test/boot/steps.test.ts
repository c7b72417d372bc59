import { readFileSync } from 'node:fs';
import { AZURE_SCHEDULED_EVENTS_WATCH, azureGuardBlob, azureNodePlatform } from '../../lib/azure/azure-node-platform';
import { join } from 'node:path';
import { renderLinuxBootScript, renderWindowsBootScript, type BootContext } from '../../lib/boot';
import { AWS_NODE_PLATFORM } from '../../lib/aws/aws-node-platform';
import { BOOT_STEPS, stepsFor, stepTitles, type BootOs } from '../../lib/boot/steps';
import { custom, papercut, parseClusterSpec, thinprint, type ClusterSpec } from '../../lib/spec';
import { APP, DB, SHA, linuxContext, linuxSpec } from '../harness/boot-contexts';

const windowsContext: BootContext = {
  share: { kind: 'smb', address: '//fgshare.file.core.windows.net/papercut', credentialsSecretRef: 'azure-keyvault:https://fg-kv.vault.azure.net/secrets/smb' },
  mode: 'guard', platform: azureNodePlatform(), guardBinary: azureGuardBlob({ url: 'https://fgassets.blob.core.windows.net/guard/g.exe', sha256: SHA }),
  database: DB,
  app: APP,
  loopbackVip: '10.20.0.100',
  replacement: AZURE_SCHEDULED_EVENTS_WATCH,
};

/** The step names a rendered script logs, in order. */
function loggedSteps(os: BootOs, script: string): string[] {
  const pattern = os === 'linux' ? /^step "([^"]+)"$/gm : /^Invoke-Step '([^']+)' \{$/gm;
  return [...script.matchAll(pattern)].map((m) => m[1]).filter((name) => name !== 'done');
}

const linuxDns = parseClusterSpec({
  name: 'app',
  profile: custom({
    displayName: 'App',
    os: 'linux',
    failoverMode: 'dns',
    ports: [{ name: 'web', port: 8080 }],
    installDir: '/opt/app',
    serviceName: 'app.service',
    readiness: { kind: 'tcp', port: 8080 },
    deleteOnClone: ['id.txt'],
  }),
});

describe('the boot steps table', () => {
  it('has unique ids and every step runs on at least one OS', () => {
    const ids = BOOT_STEPS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const step of BOOT_STEPS) expect(step.linux ?? step.windows).toBeDefined();
  });

  const cases: Array<[string, BootOs, ClusterSpec, BootContext, (spec: ClusterSpec, ctx: BootContext) => string]> = [
    ['Linux PaperCut on SMB with a VIP, Print Deploy and a lifecycle watcher', 'linux', linuxSpec('smb-azure', true, { profile: papercut({ printDeploy: true }) }), { ...linuxContext('smb-azure', SHA, true), replacement: AZURE_SCHEDULED_EVENTS_WATCH }, renderLinuxBootScript],
    ['Linux PaperCut on EFS', 'linux', linuxSpec('efs'), linuxContext('efs', SHA), renderLinuxBootScript],
    ['Linux dns app (no guard, no share)', 'linux', linuxDns, { mode: 'dns', platform: AWS_NODE_PLATFORM }, renderLinuxBootScript],
    ['Windows PaperCut with a VIP, Print Deploy and a watcher', 'windows', parseClusterSpec({ name: 'print', profile: papercut({ os: 'windows', printDeploy: true }), loadBalancer: { floatingIp: true } }), windowsContext, renderWindowsBootScript],
    ['Windows ThinPrint single-active', 'windows', parseClusterSpec({ name: 'tpcs', profile: thinprint() }), { ...windowsContext, loopbackVip: undefined, thinprint: {} }, renderWindowsBootScript],
  ];

  it.each(cases)('%s: the script logs exactly the table\'s steps for it, in order', (_name, os, spec, ctx, render) => {
    // when
    const script = render(spec, ctx);
    // then: the titles the table names are the names the script logs
    expect(loggedSteps(os, script)).toEqual(stepsFor(os, spec, ctx).flatMap((s) => (s.title ? [s.title] : [])));
  });

  it('a ThinPrint dns-multicast node: configuration, firewall, app service, then the port check and the IGMP reboot', () => {
    const spec = parseClusterSpec({ name: 'tpcs', profile: thinprint({ clusterMode: 'dns-multicast' }) });
    const script = renderWindowsBootScript(spec, { mode: 'dns', platform: AWS_NODE_PLATFORM, thinprint: { nodeSubnetCidrs: ['10.0.1.0/24'] } }, { wrap: false });
    expect(loggedSteps('windows', script)).toEqual([
      'configure the ThinPrint Connection Service node',
      'open the firewall for the load balancer and the clients',
      'start the app service',
      'check the server port',
      'reboot once for IGMPv2',
    ]);
  });

  it('docs/boot-scripts.md lists the table: same steps, same order, same names', () => {
    // given
    const doc = readFileSync(join(__dirname, '../../docs/boot-scripts.md'), 'utf8');
    const block = doc.split('<!-- boot-steps -->')[1]?.split('<!-- /boot-steps -->')[0] ?? '';
    // when: `| \`id\` | linux title | windows title |` rows
    const rows = [...block.matchAll(/^\| `([^`]+)` \| (.+?) \| (.+?) \|$/gm)].map((m) => ({ id: m[1], linux: m[2], windows: m[3] }));
    // then
    const titled = BOOT_STEPS.filter((s) => s.linux?.title ?? s.windows?.title);
    expect(rows).toEqual(titled.map((s) => ({ id: s.id, linux: s.linux?.title ?? '—', windows: s.windows?.title ?? '—' })));
    for (const os of ['linux', 'windows'] as const) expect(rows.map((r) => r[os]).filter((t) => t !== '—')).toEqual(stepTitles(os));
  });
});
