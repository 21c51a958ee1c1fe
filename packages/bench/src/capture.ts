// Wire timestamps from tcpdump in a lab namespace: the RTT every tool shares (request on the wire to reply on the
// wire), used to check what a peer prints about itself.
import type { Lab } from '@ersatz/lab';
import { Ipv4 } from '@ersatz/wire';

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

/**
 * Starts tcpdump for ARP on `ifname` in `ns` and resolves once it is capturing (Lab.capture). Not in immediate mode:
 * a capture woken for every frame makes the tool it watches pay for that wake (the reply reaches tcpdump's socket
 * inside arping's own sendto, and waking a halted vCPU costs tens of µs), which put arping's median at 88 µs against
 * 32 µs without the capture (by hand, 300 runs each). Without it libpcap's TPACKET_V3 ring wakes tcpdump once a block
 * is full or its 1 s timeout retires it; the kernel still stamps every frame. Each frame is still copied into that
 * ring inside arping's sendto (arping 35–36 µs against 31 alone), so the resolve scenario times arping without it
 * and runs a second loop under it only to check the correction.
 */
export async function startCapture(lab: Lab, ns: string, ifname: string): Promise<Capture> {
  const capture = await lab.capture(ns, ifname, ['-n', '-tt', '--time-stamp-precision=nano', '-B', '65536'], ['arp']);
  return { stop: async () => parseTcpdump(await capture.stop()) };
}
