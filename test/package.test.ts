// Issue #18: what `npm pack` makes is a package a user can install. The tarball is linted (publint, and
// @arethetypeswrong/cli for its types), installed into an empty project in a fresh private folder with nothing but
// Node and npm, and used there: the bin answers --version and --help and resolves a real kernel peer in a namespace
// lab from where npm put it, and a typed import of the public API compiles under `strict` and loads.
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { twoHostLab } from '@ersatz/lab';
import { scratchDir } from './helpers/cmd-run.js';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };
const installed = (name: string): string => (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
/**
 * A watchdog for each command (a hang fails the test), not a timing assertion: far past a slow run (the npm install
 * below took over 120 s on a fresh machine while another process held a CPU). The tests raise AVA's timeout to match.
 */
const HANG_MS = 600_000;
const LIMIT = { timeout: HANG_MS, maxBuffer: 16 << 20 };

// The public surface a user imports, used with its types: every entry point the README names.
const APP = `
import { resolve$, resolve, scan$, scan, arping$, ping$, eachOf, openLink, neighbours$, discoverInterface, Ipv4, type Mac, type ScanEvent, type NeighEvent } from '${pkg.name}';
import { filter, type Observable } from 'rxjs';

export const mac$: Observable<Mac> = resolve$('192.0.2.1', { tries: 2 });
export const once: (ip: string) => Promise<Mac> = (ip) => resolve(ip, { signal: AbortSignal.timeout(1000) });
export async function sweep(target: Ipv4): Promise<Observable<ScanEvent>> {
  const link = await openLink(await discoverInterface({ target }));
  void arping$(link, target, { count: 1 });
  void ping$(link, target, { count: 1 });
  void neighbours$({ ifname: link.ifname });
  return scan$(link, [target], { ratePps: 100 }).pipe(filter((e) => e.type === 'host'));
}
export async function hosts(target: Ipv4, signal: AbortSignal): Promise<string[]> {
  const link = await openLink(await discoverInterface({ target }));
  const found: string[] = [];
  for await (const e of scan(link, [target], { signal })) if (e.type === 'host') found.push(Ipv4.format(e.ip));
  return found;
}
export const changes = (ifname: string): AsyncIterable<NeighEvent> => eachOf(neighbours$({ ifname }));
`;

test.serial('npm pack gives a package that installs into an empty project: the bin runs, the typed API compiles and loads', async (t) => {
  t.timeout(HANG_MS);
  const dir = scratchDir(t); // mkdtemp: mode 0700, as a home folder often is
  // The build is done (npm test's set-up); prepack would build again.
  const { stdout: packed } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], LIMIT);
  const [{ filename, files }] = JSON.parse(packed) as [{ filename: string; files: { path: string }[] }];
  const tarball = join(dir, filename);
  const paths = files.map((f) => f.path);
  for (const must of ['dist/main.js', 'dist/index.js', 'dist/index.d.ts', 'dist/oui.bin', 'dist/capture-worker.cjs', 'dist/decode-worker.cjs', 'dist/transmit-worker.cjs', 'LICENSE', 'README.md', 'CHANGELOG.md', 'package.json']) {
    t.true(paths.includes(must), `${must} is in the tarball`);
  }
  t.false(paths.some((p) => /^(test|packages|workers|src|build)\//.test(p)), `no sources or tests shipped: ${paths.join(' ')}`);

  const lint = await run('npx', ['publint', '--strict'], LIMIT);
  t.regex(lint.stdout, /All good/, lint.stdout);
  // ESM only (no CommonJS entry), so the profile that checks the ESM resolutions; it exits 1 on any problem.
  const attw = await run('npx', ['attw', tarball, '--profile', 'esm-only', '--format', 'ascii'], LIMIT);
  t.regex(attw.stdout, /node16 \(from ESM\): 🟢 \(ESM\)/, attw.stdout);

  const app = join(dir, 'app');
  await run('mkdir', [app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  // The exact versions this checkout uses, so npm's cache serves them as it served `npm ci`. Without the optional
  // better-sqlite3 (watch's database on a Node without node:sqlite), as an install whose native build failed ends.
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=optional', tarball, `typescript@${installed('typescript')}`, `@types/node@${installed('@types/node')}`], { ...LIMIT, cwd: app });
  const deps = JSON.parse(readFileSync(join(app, 'node_modules', pkg.name, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const manifest = deps as typeof deps & { optionalDependencies?: Record<string, string> };
  t.deepEqual(Object.keys(deps.dependencies).sort(), ['koffi', 'piscina', 'rxjs'], 'only runtime dependencies ship');
  t.deepEqual(Object.keys(manifest.optionalDependencies ?? {}), ['better-sqlite3']);

  const version = await run('npx', ['ersatz', '--version'], { ...LIMIT, cwd: app });
  t.is(version.stdout, `ersatz ${pkg.version}\n`);
  const help = await run('npx', ['ersatz', 'help', 'scan'], { ...LIMIT, cwd: app });
  t.regex(help.stdout, /^usage: ersatz scan/m);

  // watch's database: node:sqlite where this Node has it, else a one-line error naming both ways out.
  const hasBuiltin = await import('node:sqlite' as string).then(() => true, () => false);
  const stations = await run('npx', ['ersatz', 'watch', '--replay', '/dev/null', '--db', join(dir, 'w.db')], { ...LIMIT, cwd: app }).catch((e: { code: number; stderr: string }) => e);
  if (hasBuiltin) t.regex((stations as { stderr: string }).stderr, /--replay \/dev\/null: /, 'the database opened: the empty file is what is refused');
  else t.regex((stations as { stderr: string }).stderr, /^ersatz: watch: the station database .*: no SQLite binding: Node .* has no node:sqlite and better-sqlite3 did not load .*run on Node 22\.13 or later, or 'npm install better-sqlite3'\n$/);

  writeFileSync(join(app, 'index.ts'), APP);
  const tsconfig = { compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'] }, files: ['index.ts'] };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
  const tsc = await run('npx', ['tsc', '-p', '.'], { ...LIMIT, cwd: app }).catch((e: { stdout: string }) => ({ stdout: e.stdout, failed: true }));
  t.false('failed' in tsc, `tsc --strict on a typed import:\n${tsc.stdout}`);
  const names = ['resolve$', 'resolve', 'scan$', 'arping$', 'ping$', 'openLink', 'neighbours$'];
  const loaded = await run('node', ['--input-type=module', '-e', `const m = await import('${pkg.name}'); console.log(JSON.stringify(${JSON.stringify(names)}.map((n) => typeof m[n])))`], { ...LIMIT, cwd: app });
  t.deepEqual(JSON.parse(loaded.stdout), names.map(() => 'function'));

  // The installed bin, its bundled workers and its dependencies, from where npm put them, against a real kernel.
  const { lab, host, peer } = twoHostLab('pkg');
  t.teardown(() => lab.destroy());
  const r = await lab.exec(host.ns, [join(app, 'node_modules', '.bin', 'ersatz'), '--target', peer.ip, '--json']);
  t.is(r.code, 0, r.stderr);
  t.like(JSON.parse(r.stdout), { ip: peer.ip, mac: peer.mac });
  // A scan loads the vendor table at its start, from beside the installed bundle: no "vendor names unavailable".
  const scan = await lab.exec(host.ns, [join(app, 'node_modules', '.bin', 'ersatz'), 'scan', '--json', `${peer.ip}/32`]);
  t.is(scan.code, 0, scan.stderr);
  t.is(scan.stderr, '');
  t.like(JSON.parse(scan.stdout.split('\n')[0]!), { ip: peer.ip, mac: peer.mac, vendor: 'locally administered' });
});

test('the API reference builds from the doc comments (TypeDoc), a page per entry point with its comment', async (t) => {
  t.timeout(HANG_MS);
  const out = scratchDir(t);
  await run('npx', ['typedoc', '--out', out], LIMIT);
  for (const [page, words] of [
    ['functions/resolve.html', 'AbortSignal'],
    ['functions/scan_.html', 'the way arp-scan does'],
    ['functions/arping_.html', 'iputils arping'],
    ['functions/ping_.html', 'iputils ping'],
    ['functions/openLink.html', 'worker pipeline'],
    ['functions/neighbours_.html', 'RTNLGRP_NEIGH'],
  ] as const) {
    const text = readFileSync(join(out, page), 'utf8');
    t.true(text.includes(words), `${page} carries its doc comment ("${words}")`);
  }
});
