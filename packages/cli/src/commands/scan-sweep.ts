// One `ersatz scan` sweep on one link, and how its results are printed: arp-scan's lines, --format, or JSON Lines.
import { lastValueFrom, merge, Subject, takeUntil, tap, type Observable } from 'rxjs';
import { Ipv4, type Mac, type TargetSet } from '@ersatz/wire';
import { kernelScan$, type InterfaceInfo, type Link } from '@ersatz/api';
import { scan$, type ScanOptions, type ScanSummary } from '@ersatz/resolve';
import { LOCALLY_ADMINISTERED } from '@ersatz/vendor';
import { Progress } from '@ersatz/progress';
import { HostJson } from '../host-json.js';
import { LineWriter } from '../line-writer.js';
import type { HostFields } from '../format.js';
import { warn } from '../warn.js';

/** The kernel's neighbour table size by default (gc_thresh3): what a kernel-tier sweep can hold at once. */
const KERNEL_TABLE = 1024;

export interface OutputOptions {
  readonly vendor: (mac: Mac) => string | null;
  /** A compiled --format template, or null. */
  readonly format: ((h: HostFields) => string) | null;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly plain: boolean;
  readonly ignoredups: boolean;
  /** Several -I: each human result line ends with the interface's name (JSON always names it). */
  readonly nameInterface: boolean;
}

/** The sweep's own settings, as the command line gave them. */
export type SweepSettings = Pick<ScanOptions, 'tries' | 'timeoutMs' | 'backoff' | 'settleMs' | 'random'> & {
  readonly ratePps: number | undefined;
  readonly bandwidthBps: number | undefined;
  readonly seed: number | undefined;
  readonly source: Ipv4 | undefined;
  readonly spoofSender: boolean;
};

/** Prints the sweeps of one run to stdout, with a progress line on stderr while a person watches. */
export class SweepOutput {
  #progress: Progress | undefined;
  // The progress line (stderr) and the results (stdout) share the terminal: the line steps aside for each write.
  readonly #out = new LineWriter(() => this.#progress?.clear());

  constructor(readonly o: OutputOptions) {}

  /**
   * Sweeps `targets` on `link` and prints each answer, then the summary. Stops early on `interrupt.stop$`, or once
   * `limit` hosts have answered (DUP lines do not count). Returns how many hosts answered.
   */
  async sweep(link: Link, targets: TargetSet, s: SweepSettings, limit: number | undefined, interrupt: { readonly stop$: Observable<unknown>; readonly fired: boolean }): Promise<number> {
    const o = this.o;
    const out = this.#out;
    const pace = s.ratePps !== undefined ? `${s.ratePps} requests/s` : `${s.bandwidthBps ?? 256_000} bit/s`;
    // The address the requests carry: ours in the subnet swept (-l on two subnets sweeps each from its own), or -s's.
    if (!o.json && !o.plain) out.line(`Interface: ${link.ifname}, MAC: ${link.mac}, IPv4: ${Ipv4.format(s.source ?? link.ip)}: scanning ${targets.size} hosts at ${pace}`);
    out.flush();
    // Only for a person watching: not with --json, nor when the results go down a pipe (stderr may still be a tty).
    const bar = (this.#progress = new Progress({ total: targets.size, enabled: !o.json && process.stdout.isTTY === true }));
    const tail = o.nameInterface ? `\t${link.ifname}` : '';
    const json = o.json ? new HostJson(link.ifname) : null;
    // arp-scan's "(DUP: n)": the how-many-th MAC this is for the IP; only IPs with several MACs are remembered.
    const macsPerIp = new Map<Ipv4, number>();
    let summary: ScanSummary | undefined;
    const enough = new Subject<void>();
    let answered = 0;
    const sweep$ = scan$(link, targets, {
      ...(s.ratePps === undefined ? {} : { ratePps: s.ratePps }),
      ...(s.bandwidthBps === undefined ? {} : { bandwidthBps: s.bandwidthBps }),
      tries: s.tries,
      timeoutMs: s.timeoutMs,
      backoff: s.backoff,
      settleMs: s.settleMs,
      random: s.random,
      ...(s.seed === undefined ? {} : { seed: s.seed }),
      ...(s.source === undefined ? {} : { source: s.source, spoofSender: s.spoofSender }),
      progressMs: bar.active ? 100 : 0,
      stop$: merge(interrupt.stop$, enough),
    });
    // forEach: one subscriber between scan$ and this handler (a tap and lastValueFrom's were two, per host).
    await sweep$.forEach((e) => {
      if (e.type === 'progress') bar.update(e.hosts - e.outstanding);
      else if (e.type === 'host') {
        const name = o.vendor(e.mac);
        const nth = e.dup ? (macsPerIp.get(e.ip) ?? 1) + 1 : 1;
        if (e.dup) macsPerIp.set(e.ip, nth);
        const proxy = e.ethSrc !== e.mac;
        if (json !== null) json.print(out, e.ip, e.mac, name, e.rttNs, e.dup, proxy ? e.ethSrc : null, e.reply.vlan);
        else if (!(e.dup && o.ignoredups)) {
          const rttMs = Number(e.rttNs) / 1e6;
          if (o.format !== null) {
            const vlan = e.reply.vlan;
            out.line(o.format({ ip: Ipv4.format(e.ip), mac: e.mac, hdrmac: proxy ? e.ethSrc : '', vendor: shownVendor(name), vlan: vlan === null || vlan === 0 ? '' : String(vlan), dup: nth > 1 ? String(nth) : '', rtt: rttMs.toFixed(3) }) + tail);
          } else out.line((o.quiet ? `${Ipv4.format(e.ip)}\t${e.mac}` : hostLine(e.ip, e.mac, name, nth, rttMs, proxy ? e.ethSrc : null, e.reply.vlan)) + tail);
        }
        if (!e.dup && ++answered === limit) enough.next(); // ends the sweep now: no host beyond the limit is printed
      } else summary = e.summary;
    });
    bar.stop();
    // scan$ always ends with a summary when it completes.
    if (summary === undefined) throw new Error('scan$ completed without its summary');
    this.#summary(link, summary, interrupt.fired, await dropCounters(link));
    return answered;
  }

  /**
   * The kernel tier's sweep of `targets` on `info.ifname` (no CAP_NET_RAW): each host the kernel resolves, with its
   * entry's state instead of an RTT. Returns how many hosts answered.
   */
  async sweepKernel(info: InterfaceInfo, targets: TargetSet, limit: number | undefined, interrupt: { readonly stop$: Observable<unknown>; readonly fired: boolean }): Promise<number> {
    const o = this.o;
    const out = this.#out;
    const tail = o.nameInterface ? `\t${info.ifname}` : '';
    if (targets.size > KERNEL_TABLE) {
      warn(`scan: ${targets.size} hosts through the kernel: its neighbour table holds about ${KERNEL_TABLE} entries (gc_thresh3), so past that each waits for the kernel to free one (a /20 took 80 s here); grant CAP_NET_RAW for the raw tier`);
    }
    if (!o.json && !o.plain) out.line(`Interface: ${info.ifname}, MAC: ${info.mac}, IPv4: ${Ipv4.format(info.ip)}: asking the kernel for ${targets.size} hosts (kernel tier: no CAP_NET_RAW)`);
    out.flush();
    let answered = 0;
    const enough = new Subject<void>();
    let summary: { hosts: number; answered: number; unasked: number; window: number; elapsedMs: number } | undefined;
    await lastValueFrom(
      kernelScan$(info, targets).pipe(
        takeUntil(merge(interrupt.stop$, enough)),
        tap((e) => {
          if (e.type === 'done') {
            summary = e.summary;
            return;
          }
          const { ip, mac, state } = e.answer;
          const name = o.vendor(mac);
          if (o.json) out.line(JSON.stringify({ type: 'host', ip: Ipv4.format(ip), mac, vendor: name, rttMs: null, dup: false, interface: info.ifname, tier: 'kernel', state }));
          else if (o.format !== null) out.line(o.format({ ip: Ipv4.format(ip), mac, hdrmac: '', vendor: shownVendor(name), vlan: '', dup: '', rtt: '' }) + tail);
          else out.line(`${Ipv4.format(ip)}\t${mac}${o.quiet ? '' : `\t${shownVendor(name)}\tkernel: ${state}`}${tail}`);
          if (++answered === limit) enough.next();
        }),
      ),
      { defaultValue: undefined },
    );
    const s = summary ?? { hosts: targets.size, answered, unasked: 0, window: 0, elapsedMs: 0 };
    const interrupted = interrupt.fired || summary === undefined;
    if (o.json) out.line(JSON.stringify({ type: 'summary', summary: { hosts: s.hosts, answered, unasked: s.unasked, elapsedMs: s.elapsedMs, tier: 'kernel', interrupted }, interface: info.ifname }));
    else if (!o.plain) {
      const full = s.unasked > 0 ? `; ${s.unasked} never asked: the kernel's neighbour table stayed full (use the raw tier for large sweeps)` : '';
      out.line(`${interrupted ? 'Interrupted: ' : ''}${s.hosts} hosts asked through the kernel${summary ? ` in ${(s.elapsedMs / 1000).toFixed(3)} s, ${s.window} at a time` : ''}: ${answered} responded${full}`);
    }
    return answered;
  }

  #summary(link: Link, s: ScanSummary, interrupted: boolean, drops: Record<string, number | null> | null): void {
    if (this.o.json) {
      const summary = { hosts: s.hosts, sent: s.sent, answered: s.answered, duplicates: s.duplicates, elapsedMs: s.elapsedMs, drops, interrupted };
      this.#out.line(JSON.stringify({ type: 'summary', summary, interface: link.ifname }));
    } else if (!this.o.plain) {
      const rate = s.elapsedMs > 0 ? Math.round((s.hosts * 1000) / s.elapsedMs) : s.hosts;
      const counts = drops === null ? [] : Object.entries(drops).filter(([, n]) => n !== 0);
      const lost = drops === null ? 'drop counters unavailable' : counts.length === 0 ? 'no frames dropped' : `dropped: ${counts.map(([k, n]) => `${k} ${n ?? 'unknown'}`).join(', ')}`;
      this.#out.line(
        `${interrupted ? 'Interrupted: ' : ''}${s.hosts} hosts scanned in ${(s.elapsedMs / 1000).toFixed(3)} s (${rate} hosts/s): ` +
          `${s.answered} responded, ${s.duplicates} duplicate${s.duplicates === 1 ? '' : 's'}; ${s.sent} requests sent; ${lost}`,
      );
    }
  }

  /** Takes the progress line down and writes what is buffered. */
  close(): void {
    this.#progress?.stop();
    this.#out.flush();
  }
}

/** The vendor field as arp-scan prints it. */
function shownVendor(vendor: string | null): string {
  return vendor === null ? '(Unknown)' : vendor === LOCALLY_ADMINISTERED ? '(Unknown: locally administered)' : vendor;
}

/**
 * One answering host as arp-scan prints it, tab-separated so that `cut -f` works (vendor names hold spaces): IP, MAC,
 * vendor with ` (DUP: n)` for the n-th MAC of an IP, `RTT=x.xxx ms` (arp-scan's --rtt field), then `(from MAC)` when
 * the Ethernet source differs from the ARP sender (a proxy or MAC-NAT bridge answering for the host).
 */
function hostLine(ip: Ipv4, mac: Mac, vendor: string | null, nth: number, rttMs: number, from: Mac | null, vlan: number | null): string {
  // arp-scan's words for a tagged reply (-Q), after the vendor.
  const tag = vlan === null ? '' : ` (802.1Q VLAN=${vlan})`;
  return `${Ipv4.format(ip)}\t${mac}\t${shownVendor(vendor)}${tag}${nth > 1 ? ` (DUP: ${nth})` : ''}\tRTT=${rttMs.toFixed(3)} ms${from === null ? '' : `\t(from ${from})`}`;
}

type PipelineStats = Awaited<ReturnType<Link['stats']>>;

/**
 * Frames lost on the way, by where: `kernel` (libpcap's buffer or the interface), `rxRing` (capture to decode),
 * `eventsRing` and `framesRing` (decode to the main thread), `send` (refused by the tx ring or the kernel). A stage
 * whose worker could not answer is null; the whole is null when the statistics cannot be read.
 */
export async function dropCounters(link: Link): Promise<Record<string, number | null> | null> {
  let s: PipelineStats;
  try {
    s = await link.stats();
  } catch {
    return null;
  }
  return {
    kernel: s.capture === null ? null : s.capture.pcap.dropped + s.capture.pcap.ifDropped,
    rxRing: s.capture?.ringDropped ?? null,
    eventsRing: s.decode?.eventsDropped ?? null,
    framesRing: s.decode?.framesDropped ?? null,
    send: s.main.sendRefused + (s.transmit?.failed ?? 0),
  };
}
