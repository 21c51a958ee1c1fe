// The peers the table compares against, found (or installed) on this machine. Each runs inside the lab's host
// namespace; here we only look for the binaries.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
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
const ARP_PEER_BINARY = fileURLToPath(new URL('./arp-peer', import.meta.url)); // beside the compiled bench (dist/)

/** Compiles the C peer with cc -O2 when the binary is missing or older than its source; returns its path. */
export function buildArpPeer(): string | { readonly missing: string } {
  const cc = findExecutable('cc');
  if (cc === null) return { missing: 'no C compiler (cc): apt-get install gcc' };
  const mtime = (path: string): number => {
    try {
      return statSync(path).mtimeMs;
    } catch {
      return -1;
    }
  };
  if (mtime(ARP_PEER_BINARY) >= mtime(ARP_PEER_SOURCE)) return ARP_PEER_BINARY;
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', ARP_PEER_BINARY, ARP_PEER_SOURCE], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? ARP_PEER_BINARY : { missing: `cc failed: ${(r.stderr ?? '').split('\n')[0]}` };
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
