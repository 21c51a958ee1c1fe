// Every error class the public entry point exports has the stable `code` docs/errors.md gives it, and the page
// lists every one: the table is checked against real instances, so neither can drift from the other.
import test from 'ava';
import { readFileSync } from 'node:fs';
import * as api from '@ersatz/api';
import { Ipv4, Mac } from '@ersatz/api';
import * as win32 from '@ersatz/win32';

const ip = Ipv4.parse('192.0.2.7');
const mac = Mac.parse('02:00:5e:10:00:07');
// Constructor arguments for the classes that need some; the rest are built with none.
const ARGS: Readonly<Record<string, readonly unknown[]>> = {
  AddressConflictError: [ip, [mac, mac]],
  ForeignSenderError: ['arping', 'ez0', ip, []],
  ChecksumError: ['ipv4', 0x1234, 0x4321],
  CaptureError: ['EPERM', 'ez0'],
  TransmitError: ['ENXIO', 'ez0', 'send'],
  InterfaceLostError: ['ez0', 'ENETDOWN', 'down'],
  NetlinkSystemError: ['add neighbour', 17],
  NetlinkPermissionError: ['add neighbour', 1],
  IpHelperError: ['add neighbour', 'CreateIpNetEntry2', 5, 'hint'],
};

function table(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readFileSync('docs/errors.md', 'utf8').split('\n')) {
    const m = /^\| (\w+) \| (.+?) \| .+ \|$/.exec(line);
    if (m && m[1] !== 'Class') rows.set(m[1]!, m[2]!);
  }
  return rows;
}

function errorClasses(module: object): [string, new (...args: unknown[]) => Error][] {
  return Object.entries(module).filter((e): e is [string, new (...args: unknown[]) => Error] => typeof e[1] === 'function' && e[1].prototype instanceof Error);
}

test('each exported error class has the code docs/errors.md gives it, and the page lists no class that is not exported', (t) => {
  const rows = table();
  const exported = errorClasses(api);
  t.true(exported.length >= 35, `${exported.length} classes`);
  for (const [name, Class] of exported) {
    const row = rows.get(name);
    if (row === undefined) {
      t.fail(`${name} is exported but not in docs/errors.md`);
      continue;
    }
    const err = new Class(...(ARGS[name] ?? []));
    t.is(err.name, name);
    const code = (err as Error & { code?: unknown }).code;
    if (row.startsWith('errno')) {
      t.regex(String(code), /^E[A-Z]+$/, name);
      t.true(row.includes(`\`${String(code)}\``) || row.includes('e.g.'), `${name}: ${String(code)} is listed`);
    } else t.is(row, `\`${String(code)}\``, name);
  }
  t.deepEqual([...rows.keys()].filter((name) => !exported.some(([n]) => n === name)), [], 'every row is an exported class');
});

test('ERSATZ_ codes are UPPER_SNAKE and one per condition: only the two invalid-option classes share one', (t) => {
  const byCode = new Map<string, string[]>();
  for (const [name, Class] of errorClasses(api)) {
    const code = String((new Class(...(ARGS[name] ?? [])) as Error & { code?: unknown }).code);
    if (!code.startsWith('ERSATZ_')) continue;
    t.regex(code, /^ERSATZ_[A-Z0-9]+(_[A-Z0-9]+)*$/);
    byCode.set(code, [...(byCode.get(code) ?? []), name]);
  }
  t.deepEqual(
    [...byCode].filter(([, names]) => names.length > 1),
    [['ERSATZ_INVALID_OPTION', ['OptionError', 'PipelineOptionError']]],
  );
});

test('the Windows family: IP Helper failures carry winerror.h names; the rest share the Linux codes for the same condition', (t) => {
  t.like(new win32.IpHelperError('add neighbour', 'CreateIpNetEntry2', 5, 'hint'), { code: 'ERROR_ACCESS_DENIED', winError: 5 });
  t.like(win32.ipHelperError('list', 'GetIpNetTable2', 31), { code: 'ERSATZ_WIN32', winError: 31 });
  t.is(new win32.InterfaceNotFoundError('eth9', []).code, new api.UnknownInterfaceError('eth9').code);
  t.is(new win32.DiscoveryError('no route').code, new api.DiscoveryError('no route').code);
  t.is(new win32.ArgumentError('bad').code, new api.OptionError('op', 'x', 1, 'y').code);
});

test('openLink refuses a VLAN id outside 0..4095 with an OptionError before opening anything', async (t) => {
  const info = { ifname: 'ez-none', ifindex: 0, mac: mac, ip, prefixLen: 24, gateway: null, target: ip, addresses: [ip] } as unknown as Parameters<typeof api.openLink>[0];
  for (const vlan of [4096, -1, 1.5]) await t.throwsAsync(api.openLink(info, { vlan }), { instanceOf: api.OptionError, message: `openLink: invalid vlan ${vlan}: expected an 802.1Q VLAN id, 0..4095` });
});
