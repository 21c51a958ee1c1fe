// The peers the table compares against, found (or installed) on this machine. Each runs inside the lab's host
// namespace; here we only look for the binaries.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PeerTools {
  /** iputils arping, or why not. */
  readonly arping: string | { readonly missing: string };
  readonly arpScan: string | { readonly missing: string };
  /** A Python interpreter that imports scapy. */
  readonly scapyPython: string | { readonly missing: string };
  /** Our C AF_PACKET peer (baselines/arp-peer.c), built with cc: the physical limit. */
  readonly arpPeer: string | { readonly missing: string };
}

const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The first executable named `name` on PATH or in the usual system folders, or null. */
export function findExecutable(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH];
  for (const dir of dirs) {
    const path = `${dir}/${name}`;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here: keep looking
    }
  }
  return null;
}

/** Looks for arping (iputils: its options and output are what the scenario parses), arp-scan and scapy. */
export function findPeers(): PeerTools {
  const arping = findExecutable('arping');
  const iputils = arping !== null && /iputils/.test(run(arping, ['-V']));
  const arpScan = findExecutable('arp-scan');
  // apt's python3-scapy lives in /usr/lib/python3/dist-packages: only the system interpreter sees it (a pyenv or venv
  // python3 earlier on PATH would not), so try that one first.
  const pythons = ['/usr/bin/python3', findExecutable('python3')].filter((p): p is string => p !== null);
  const scapy = pythons.find((py) => spawnSync(py, ['-c', 'import scapy.all'], { stdio: 'ignore', timeout: 30_000 }).status === 0);
  const hint = 'not installed (npm run bench -- --install-peers)';
  return {
    arping: iputils ? arping : { missing: arping ? `${arping} is not iputils arping` : hint },
    arpScan: arpScan ?? { missing: hint },
    scapyPython: scapy ?? { missing: hint },
    arpPeer: buildArpPeer(),
  };
}

const ARP_PEER_SOURCE = fileURLToPath(new URL('../baselines/arp-peer.c', import.meta.url));
const ARP_PEER_CACHE = fileURLToPath(new URL('./c-cache/', import.meta.url)); // dist/c-cache, beside the compiled bench
const CFLAGS = ['-O2', '-Wall', '-Wextra'];

/**
 * Compiles the C peer with `cc -O2` into dist/c-cache, named by a hash of its source and flags (an edit or another
 * compiler means a new binary); returns its path, or why there is none.
 */
export function buildArpPeer(): string | { readonly missing: string } {
  const cc = findExecutable('cc');
  if (cc === null) return { missing: 'cc not found: no C compiler for the C peer (apt-get install gcc)' };
  const source = readFileSync(ARP_PEER_SOURCE);
  const hash = createHash('sha256').update(source).update(JSON.stringify([cc, CFLAGS])).digest('hex').slice(0, 16);
  const binary = join(ARP_PEER_CACHE, `arp-peer-${hash}`);
  if (existsSync(binary)) return binary;
  mkdirSync(ARP_PEER_CACHE, { recursive: true });
  // Built aside and renamed: a test and a bench building at once never run a half-written binary.
  const tmp = `${binary}.${process.pid}.tmp`;
  const r = spawnSync(cc, [...CFLAGS, '-o', tmp, ARP_PEER_SOURCE], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    return { missing: `cc failed: ${r.error?.message ?? (r.stderr ?? '').split('\n').find((l) => /error/.test(l)) ?? r.stderr}` };
  }
  renameSync(tmp, binary);
  return binary;
}

/** apt-gets the peers (iputils-arping, arp-scan, python3-scapy). Throws when apt-get fails. */
export function installPeers(): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'iputils-arping', 'arp-scan', 'python3-scapy'], { stdio: 'inherit', env });
}

function run(cmd: string, argv: string[]): string {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}
