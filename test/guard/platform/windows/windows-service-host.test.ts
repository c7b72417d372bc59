import { DOMParser, type Element } from '@xmldom/xmldom';
import { loadGuardConfig } from '../../../../lib/guard/config';
import { RELEASE_MARGIN_SECS } from '../../../../lib/contracts/timing';
import { renderServiceHostXml, serviceHostXmlPath } from '../../../../lib/guard/platform/windows/windows-service-host';

const CONFIG_FILE = 'C:\\ProgramData\\failover-guard\\guard.properties';
const GUARD_EXE = 'C:\\Program Files\\failover-guard\\failover-guard.exe';

function config(extra: string[] = []) {
  const text = [
    'cluster.name=print',
    'database.url=postgres://guard@db.example.com:5432/papercut',
    'database.password-source=azure-keyvault:https://kv.vault.azure.net/secrets/db',
    'service.mode=windows-service',
    'service.name=PCAppServer',
    'high-availability-guard.fail-over-interval-secs=60',
    'service.stop-timeout-secs=20',
    'health.drain-secs=11',
    ...extra,
  ].join('\n');
  const r = loadGuardConfig(text, {}, 'node-a');
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

/**
 * Top-level elements of the parsed XML as [name, text, attributes], read the way WinSW 1.17
 * reads its time spans (<stoptimeout>, <resetfailure>): `dom.FirstChild.SelectSingleNode(name)`,
 * under the document's first node, whatever that node is (a declaration, a comment).
 */
function parse(xml: string) {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, msg) => errors.push(`${level}: ${msg}`) }).parseFromString(xml, 'text/xml');
  expect(errors).toEqual([]);
  const root = doc.firstChild as unknown as Element;
  expect(root.nodeType).toBe(1);
  expect(root.tagName).toBe('service');
  const elements = Array.from(root.childNodes).filter((n) => n.nodeType === 1) as unknown as Element[];
  return elements.map((e) => ({
    name: e.tagName,
    text: e.childNodes.length === 1 && e.firstChild!.nodeType === 3 ? e.textContent : undefined,
    attrs: Object.fromEntries(Array.from(e.attributes as unknown as ArrayLike<{ name: string; value: string }>).map((a) => [a.name, a.value])),
    children: (Array.from(e.childNodes as unknown as ArrayLike<{ nodeType: number }>).filter((n) => n.nodeType === 1) as unknown as Element[]).map((c) => [c.tagName, c.textContent]),
  }));
}

describe('WinSW configuration of the guard service', () => {
  it('sets every setting: identity, command, stop by Ctrl+C to the guard first, recovery, environment, logs', () => {
    // given
    const xml = renderServiceHostXml({ guardExe: GUARD_EXE, configFile: CONFIG_FILE, config: config() });
    // when
    const elements = parse(xml);
    // then: every element, in order, and nothing else
    expect(elements.map((e) => e.name)).toEqual([
      'id', 'name', 'description', 'executable', 'arguments', 'workingdirectory', 'startmode', 'depend',
      'stopparentprocessfirst', 'stoptimeout', 'onfailure', 'onfailure', 'onfailure', 'resetfailure', 'env', 'env', 'logpath', 'log',
    ]);
    const text = Object.fromEntries(elements.filter((e) => e.text !== undefined).map((e) => [e.name, e.text]));
    expect(text).toMatchObject({
      id: 'failover-guard',
      name: 'failover-guard',
      description: 'Keeps at most one node of cluster print active',
      executable: GUARD_EXE,
      arguments: `run --config "${CONFIG_FILE}"`,
      workingdirectory: 'C:\\ProgramData\\failover-guard',
      startmode: 'Automatic',
      depend: 'LanmanWorkstation',
      stopparentprocessfirst: 'true',
      // drain 11 + app stop 20 + release margin
      stoptimeout: `${11 + 20 + RELEASE_MARGIN_SECS} sec`,
      resetfailure: '1 hour',
      logpath: 'C:\\ProgramData\\failover-guard\\logs',
    });
    expect(elements.filter((e) => e.name === 'onfailure').map((e) => e.attrs)).toEqual([
      { action: 'restart', delay: '2 sec' },
      { action: 'restart', delay: '5 sec' },
      { action: 'restart', delay: '10 sec' },
    ]);
    expect(elements.filter((e) => e.name === 'env').map((e) => e.attrs)).toEqual([
      { name: 'TEMP', value: 'C:\\ProgramData\\failover-guard\\run' },
      { name: 'TMP', value: 'C:\\ProgramData\\failover-guard\\run' },
    ]);
    const log = elements.find((e) => e.name === 'log')!;
    expect(log.attrs).toEqual({ mode: 'roll-by-size' });
    expect(log.children).toEqual([
      ['sizeThreshold', '10240'],
      ['keepFiles', '8'],
    ]);
    // no stop executable: WinSW's Ctrl+C path is the one with a kill after the stop timeout
    expect(xml).not.toMatch(/stopexecutable|stopargument/);
  });

  it("puts the stop timeout and the failure reset under the document's first node, where WinSW 1.17 reads them", () => {
    // given
    const xml = renderServiceHostXml({ guardExe: GUARD_EXE, configFile: CONFIG_FILE, config: config() });
    // when: 1.17's XmlDocument skips no node: a declaration or a comment would be FirstChild
    const first = new DOMParser().parseFromString(xml, 'text/xml').firstChild as unknown as Element;
    const under = (name: string) => Array.from(first.childNodes as unknown as ArrayLike<Element>).find((n) => n.nodeType === 1 && n.tagName === name)?.textContent;
    // then
    expect(xml.startsWith('<service>')).toBe(true);
    expect(under('stoptimeout')).toBe(`${11 + 20 + RELEASE_MARGIN_SECS} sec`);
    expect(under('resetfailure')).toBe('1 hour');
  });

  it('escapes what XML would read as markup', () => {
    const xml = renderServiceHostXml({ guardExe: 'C:\\A&B <x>\\guard.exe', configFile: "C:\\it's\\guard.properties", config: config() });
    const byName = Object.fromEntries(parse(xml).map((e) => [e.name, e.text]));
    expect(byName.executable).toBe('C:\\A&B <x>\\guard.exe');
    expect(byName.arguments).toBe(`run --config "C:\\it's\\guard.properties"`);
  });

  it('is found by WinSW next to the exe under the same name', () => {
    expect(serviceHostXmlPath('C:\\Program Files\\failover-guard\\failover-guard-service.exe')).toBe('C:\\Program Files\\failover-guard\\failover-guard-service.xml');
  });
});
