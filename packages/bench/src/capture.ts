// Wire timestamps from tcpdump in a lab namespace: the RTT every tool shares (request on the wire to reply on the
// wire), used to check what a peer prints about itself.
import type { ChildProcess } from 'node:child_process';
import { withEndMark, type Lab } from '@ersatz/lab';
import { Ipv4 } from '@ersatz/wire';
import { BenchError } from './error.js';

/** One ARP frame as tcpdump printed it. */
export interface WireArp {
  /** Capture time, ns since the epoch (tcpdump --time-stamp-precision=nano -tt). */
  readonly tsNs: bigint;
  readonly op: 'request' | 'reply';
  /** The address asked about (request) or answered for (reply). */
  readonly ip: Ipv4;
}

// 1700000000.302246058 ARP, Request who-has 198.51.100.2 (ff:ff:ff:ff:ff:ff) tell 198.51.100.1, length 28
// 1700000000.302263784 ARP, Reply 198.51.100.2 is-at aa:09:db:b3:71:e6, length 28
const LINE = /^(\d+)\.(\d{9}) ARP, (Request who-has|Reply) (\d+\.\d+\.\d+\.\d+)/;

/** Parses tcpdump's `-n -tt --time-stamp-precision=nano` lines; other lines are skipped. */
export function parseTcpdump(text: string): WireArp[] {
  const out: WireArp[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    out.push({ tsNs: BigInt(m[1]!) * 1_000_000_000n + BigInt(m[2]!), op: m[3] === 'Reply' ? 'reply' : 'request', ip: Ipv4.parse(m[4]!) });
  }
  return out;
}

/**
 * Wire RTTs in ns: each reply for an IP paired with the latest request for that IP captured before it (a reply with
 * no request before it, or a second reply to one request, is not counted).
 */
export function wireRtts(frames: readonly WireArp[]): number[] {
  const asked = new Map<Ipv4, bigint>();
  const out: number[] = [];
  for (const f of frames) {
    if (f.op === 'request') asked.set(f.ip, f.tsNs);
    else {
      const t = asked.get(f.ip);
      if (t === undefined) continue;
      out.push(Number(f.tsNs - t));
      asked.delete(f.ip);
    }
  }
  return out;
}

/** A tcpdump running in a lab namespace; `stop()` ends it and returns the ARP frames it printed. */
export interface Capture {
  stop(): Promise<WireArp[]>;
}

/** Starts tcpdump for ARP on `ifname` in `ns` and resolves once it is capturing. Throws BenchError when it fails. */
export async function startCapture(lab: Lab, ns: string, ifname: string, tcpdump = 'tcpdump'): Promise<Capture> {
  const child: ChildProcess = lab.start(ns, [tcpdump, '-i', ifname, '-n', '-l', '-tt', '--time-stamp-precision=nano', '--immediate-mode', '-B', '65536', ...withEndMark(['arp'])]);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BenchError(`tcpdump in ${ns} did not start within 10 s: ${stderr.trim()}`)), 10_000);
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      // tcpdump says so on stderr once the capture is open and the filter installed.
      if (/listening on/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new BenchError(`tcpdump in ${ns} exited with ${code}: ${stderr.trim()}`));
    });
  });
  return {
    async stop() {
      // Once tcpdump has printed every frame (-l: line-buffered) up to the lab's end mark, SIGINT ends it.
      await lab.stopCapture(child, ns, ifname, () => stdout);
      await exited;
      return parseTcpdump(stdout);
    },
  };
}
