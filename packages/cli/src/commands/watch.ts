// `ersatz watch`: the LAN station monitor (arpwatch's job, with verdicts). Listens to all ARP on its interfaces,
// follows the kernel's neighbour events, optionally sweeps; keeps the stations in SQLite and prints one event per
// line. `--replay FILE` runs the same detector over a capture, with the capture's clock.
import { concatMap, filter, firstValueFrom, NEVER, race, Subject, Subscription, take, timer } from 'rxjs';
import { ArpOp, Cidr, Ipv4, Mac, parseTargets, type ArpObservation } from '@ersatz/wire';
import { discoverInterface, openLink, type InterfaceInfo, type Link } from '@ersatz/api';
import { arpFrame, scan$ } from '@ersatz/resolve';
import { Detector, StationStore, defaultDbPath, replayRecords, sightingOf, type EventKind, type ReplayCounts, type Sighting, type Suspect, type WatchedInterface, type WatchEvent } from '@ersatz/watch';
import { durationOption, intOption, ipArgument, parseSpec } from '../options.js';
import type { CommandSpec, Options } from '../spec.js';
import { Exit, UsageError, type ExitCode } from '../exit.js';
import { LineWriter } from '../line-writer.js';
import { interruption } from '../interrupt.js';
import { giveUpRoot, privileges, PRIVILEGE_OPTIONS, rawOnly } from '../privileges.js';
import { ownAddressInterface } from '../own-address.js';
import { warn } from '../warn.js';
import { vendorLookup } from '../vendor-names.js';
import { dropCounters } from './scan-sweep.js';
import { EventCommand, eventJson, eventLine, parseListen, serveMetrics, type MetricsSource } from './watch-outputs.js';

const DB = { type: 'string', arg: 'FILE', complete: 'file', help: 'the station database (default $XDG_STATE_HOME/ersatz/stations.db, else ~/.local/state/ersatz/stations.db; created 0600)' } as const;

const OPTIONS = {
  interface: { type: 'string', short: 'I', multiple: true, arg: 'IF', complete: 'interface', help: "watch IF; several -I watch several (default: the default route's interface). Replay: the name events carry (default replay; a pcapng capture's other interfaces keep their own names, else NAME#N)" },
  sweep: { type: 'string', arg: 'INTERVAL', help: "also sweep each interface's subnet every INTERVAL (30s, 5m, 1h), at --rate" },
  rate: { type: 'string', arg: 'PPS', help: 'requests per second of the sweeps (default 50: polite on any LAN)' },
  db: DB,
  json: { type: 'boolean', default: false, help: 'JSON Lines: one {"type":"event","kind",...} object per event, then {"type":"summary",...}' },
  'silent-after': { type: 'string', arg: 'DURATION', help: 'report a station unseen for DURATION as silent, and as back when it speaks again (default 10m)' },
  exec: { type: 'string', arg: 'CMD', help: 'run sh -c CMD per event: the event as JSON on stdin and in ERSATZ_* variables (4 at once, 10 s each at most)' },
  metrics: { type: 'string', arg: '[HOST:]PORT', help: 'serve Prometheus metrics on http://HOST:PORT/metrics; HOST defaults to 127.0.0.1 (loopback only), as in --metrics 9464' },
  'no-promisc': { type: 'boolean', short: 'p', default: false, help: 'no promiscuous mode (as arpwatch -p): only broadcast ARP and ARP to this host is seen' },
  replay: { type: 'string', arg: 'FILE', complete: 'file', help: 'judge the ARP in a pcap/pcapng file instead of listening, on its own clock; nothing is sent' },
  subnet: { type: 'string', multiple: true, arg: 'CIDR', help: 'replay: a local subnet (senders outside every one are bogons; none given: no bogon rule)' },
  gateway: { type: 'string', arg: 'IP', help: "replay: the default gateway, whose moves are alarms" },
  count: { type: 'string', arg: 'N', help: 'stop after N events (exit 0)' },
  timeout: { type: 'string', arg: 'DURATION', help: 'stop after DURATION (exit 0)' },
  ...PRIVILEGE_OPTIONS,
} as const satisfies Options;

export const SPEC: CommandSpec<typeof OPTIONS> = {
  name: 'watch',
  usage: 'ersatz watch [--interface IF]... [--sweep INTERVAL] [--db FILE] [--json] [--exec CMD] [--metrics [HOST:]PORT]\nersatz watch --replay FILE [--db FILE] [--subnet CIDR]... [--gateway IP] [--json]',
  about: `Keeps a table of the stations on the LAN (IP, MAC, vendor, first and last seen, how seen) from the ARP it hears, the
kernel's neighbour events and optional sweeps, and reports each change with the facts behind it: new, new-ip (a MAC
took another address), moved, gateway-moved (an alarm), silent, back, bogon (a sender that cannot be a station:
outside every local subnet, not a host address, a group or zero MAC; reported, not kept; an alarm when it claims the
gateway's address), mismatch (a frame whose Ethernet source is not the MAC its ARP names; still counted under that
MAC), flood (over 100 ARP frames a second from one Ethernet source). A move is verified before it is reported: both
MACs are asked for the address by unicast ARP. Only the new one answers: replaced. Only the old one: spoofing by the
new one. Both: conflict, or spoofing when the new MAC holds another address of its own. Neither: unverified.
Replaying, the capture's next 2 s stand in for the questions. Tagged frames (802.1Q) are kept apart by VLAN, as
IF.VID (replaying, stacked 802.1ad tags as IF.SVID.CVID), and their moves judged on the capture's next 30 s: there
is no address there to ask from. Passive: nothing is sent but those questions and the sweeps.`,
  options: OPTIONS,
  notes: `The database is SQLite in WAL mode, written once per batch (a quarter second): a kill -9 loses at most that batch.
Read it with 'ersatz stations'. Runs until Ctrl-C (exit 130) or SIGTERM (143), --count N events or --timeout (exit 0).
Exit codes: 0 done, 2 usage or environment error (bad argument, unknown interface, missing CAP_NET_RAW, no SQLite).`,
  positionals: false,
};

const FLUSH_MS = 250;
/** How long the MACs of a move have to answer, and how many times each is asked in that time. */
const VERIFY_MS = 1000;
const VERIFY_TRIES = 3;

/** `ersatz watch`. */
export async function run(argv: string[]): Promise<ExitCode> {
  const args = parseSpec(SPEC, argv, 0);
  if (args === null) return Exit.OK;
  const v = args.values;
  const maxEvents = intOption('watch', 'count', v.count, 1, Number.MAX_SAFE_INTEGER, Infinity);
  const timeoutMs = durationOption('watch', 'timeout', v.timeout, Infinity);
  const silentAfterMs = durationOption('watch', 'silent-after', v['silent-after'], 600_000);
  const listen = v.metrics === undefined ? null : parseListen(v.metrics);
  const vendorOf = vendorLookup('watch');
  if (v.replay !== undefined) {
    for (const o of ['sweep', 'rate', 'metrics', 'no-promisc'] as const) if (v[o] !== undefined && v[o] !== false) throw new UsageError(`watch: --${o} has no meaning with --replay`);
    const watched: WatchedInterface = {
      ifname: v.interface?.[0] ?? 'replay',
      mac: null,
      subnets: (v.subnet ?? []).map((c) => Cidr.parse(c)),
      gateway: v.gateway === undefined ? null : ipArgument('watch', '--gateway', v.gateway),
    };
    const store = await openStore(v.db);
    const detector = new Detector([watched], { silentAfterMs, vendorOf });
    detector.load(store.stations());
    return replay(v.replay, watched.ifname, detector, store, new Outputs(v.json, v.exec, maxEvents));
  }
  for (const o of ['subnet', 'gateway'] as const) if (v[o] !== undefined) throw new UsageError(`watch: --${o} is for --replay: live, the interface says`);
  const sweepMs = v.sweep === undefined ? null : durationOption('watch', 'sweep', v.sweep, 0);
  const ratePps = intOption('watch', 'rate', v.rate, 1, 100_000, 50);
  const become = privileges('watch', v);
  const watched = await Promise.all((v.interface ?? [undefined]).map(watchedInterface));
  const store = await openStore(v.db);
  const detector = new Detector(
    watched.map(({ info, subnets }) => ({ ifname: info.ifname, mac: info.mac, subnets, gateway: info.gateway })),
    // The capture's verdict only stands in when a probe's never came (the link failed meanwhile).
    { silentAfterMs, vendorOf, captureVerifyMs: 30 * VERIFY_MS },
  );
  detector.load(store.stations());
  const links: Link[] = [];
  const subs: Subscription[] = [];
  const interrupt = interruption();
  const outputs = new Outputs(v.json, v.exec, maxEvents);
  const framesByInterface = new Map<string, number>();
  let server: Awaited<ReturnType<typeof serveMetrics>> | null = null;
  try {
    for (const { info } of watched) {
      links.push(await openLink(info, { promiscuous: !v['no-promisc'], linkLoss: 'reopen' }).catch((err: unknown) => Promise.reject(rawOnly('watch', err))));
    }
    await giveUpRoot('watch', become);
    for (const [i, link] of links.entries()) {
      const { info, subnets } = watched[i]!;
      const gateway = info.gateway === null ? 'no default gateway' : `gateway ${Ipv4.format(info.gateway)}`;
      process.stderr.write(`watch: listening on ${link.ifname} (${subnets.map(String).join(', ')}, ${gateway}${v['no-promisc'] ? '' : ', promiscuous'}), database ${store.path} (${store.driver})\n`);
    }
    if (listen !== null) {
      const source: MetricsSource = {
        stationsByInterface: () => countBy([...detector.stations].map((s) => s.ifname)),
        eventsByKind: outputs.byKind,
        framesByInterface,
        dropsByInterface: async () => new Map(await Promise.all(links.map(async (l) => [l.ifname, captureDrops(await dropCounters(l))] as [string, number]))),
      };
      server = await serveMetrics(listen, source);
    }
    const observe = (link: Link, s: Sighting | null): void => {
      if (s === null) return;
      const suspect = detector.observe(s);
      if (suspect === null) return;
      verify(link, suspect).then(
        (answered) => detector.settle(suspect, answered, Date.now()),
        (err: unknown) => warn(`watch: ${link.ifname}: could not ask about ${Ipv4.format(suspect.ip)}: ${(err as Error).message}`),
      );
    };
    for (const [i, link] of links.entries()) {
      framesByInterface.set(link.ifname, 0);
      const atMs = (o: ArpObservation): number => Number(link.wallClockNs(o.tsNs) / 1_000_000n);
      subs.push(
        link.arp$.subscribe((o) => {
          framesByInterface.set(link.ifname, framesByInterface.get(link.ifname)! + 1);
          observe(link, sightingOf(o, link.ifname, atMs(o)));
        }),
        link.warnings$.subscribe((w) => warn(`watch: ${link.ifname}: ${w}`)),
      );
      subs.push(kernelSightings(link, (s) => observe(link, s)));
      if (sweepMs !== null) {
        const targets = parseTargets(watched[i]!.subnets.map((c) => `${Ipv4.format(c.network)}/${c.prefix}`).join(','));
        subs.push(
          timer(0, sweepMs)
            .pipe(concatMap(() => scan$(link, targets, { ratePps, tries: 2 })))
            .subscribe({
              next: (e) => {
                if (e.type === 'host') observe(link, { atMs: Date.now(), ifname: link.ifname, ip: e.ip, mac: e.mac, seenAs: 'sweep' });
              },
              error: (err: unknown) => warn(`watch: ${link.ifname}: sweep stopped: ${(err as Error).message}`),
            }),
        );
      }
    }
    const flush = (): void => {
      detector.tick(Date.now());
      outputs.write(detector.take(), store);
    };
    subs.push(timer(FLUSH_MS, FLUSH_MS).subscribe(flush));
    await firstValueFrom(race(interrupt.stop$, outputs.done$, timeoutMs === Infinity ? NEVER : timer(timeoutMs)).pipe(take(1)), { defaultValue: undefined });
    flush();
    outputs.summary({ interfaces: links.map((l) => l.ifname), db: store.path, stations: [...detector.stations].length, frames: [...framesByInterface.values()].reduce((a, b) => a + b, 0) });
    return interrupt.fired ? interrupt.code : Exit.OK;
  } finally {
    for (const s of subs) s.unsubscribe();
    interrupt.dispose();
    await Promise.all(links.map((l) => l.close()));
    await outputs.close();
    server?.close();
    store.close();
  }
}

/** Events to stdout, the database and --exec, counted by kind; `done$` fires at the --count'th. */
class Outputs {
  readonly byKind = new Map<EventKind, number>();
  readonly done$ = new Subject<void>();
  readonly #out = new LineWriter();
  readonly #exec: EventCommand | null;
  #events = 0;

  constructor(
    private readonly json: boolean,
    exec: string | undefined,
    private readonly maxEvents: number,
  ) {
    this.#exec = exec === undefined ? null : new EventCommand(exec);
  }

  /** One batch: into the database first (a crash after it loses no printed event), then out. */
  write(batch: { events: WatchEvent[]; stations: Parameters<StationStore['write']>[0]['stations'] }, store: StationStore): void {
    store.write(batch);
    for (const e of batch.events) {
      if (this.#events >= this.maxEvents) return;
      this.byKind.set(e.kind, (this.byKind.get(e.kind) ?? 0) + 1);
      this.#out.line(this.json ? eventJson(e) : eventLine(e));
      this.#exec?.push(e);
      if (++this.#events === this.maxEvents) this.done$.next();
    }
  }

  summary(facts: Record<string, unknown>): void {
    const fields = { ...facts, events: Object.fromEntries(this.byKind), execFailed: this.#exec?.failed ?? 0, execDropped: this.#exec?.dropped ?? 0 };
    if (this.json) this.#out.line(JSON.stringify({ type: 'summary', summary: fields }));
    this.#out.flush();
    if (!this.json) process.stderr.write(`watch: ${this.#events} events, ${String(facts.stations)} stations in ${String(facts.db)}\n`);
  }

  async close(): Promise<void> {
    this.#out.flush();
    await this.#exec?.drain();
  }
}

async function replay(file: string, ifname: string, detector: Detector, store: StationStore, outputs: Outputs): Promise<ExitCode> {
  const { streamPcapFile, PcapError, linkTypeLabel } = await import('@ersatz/pcap');
  // Read as it is judged, a chunk at a time: a capture of any size replays in a few MiB (pcapng is read whole).
  let reader: Awaited<ReturnType<typeof streamPcapFile>>;
  try {
    reader = await streamPcapFile(file);
  } catch (err) {
    throw err instanceof PcapError ? new UsageError(`watch: --replay ${file}: ${err.message}`) : err;
  }
  const counts: ReplayCounts = { frames: 0, malformed: 0, undecoded: {} };
  try {
    replayRecords(reader, ifname, detector, (batch) => outputs.write(batch, store), counts);
  } catch (err) {
    if (!(err instanceof PcapError)) throw err;
    warn(`watch: --replay ${file}: ${err.message}; judged the frames before it`);
  } finally {
    const undecoded = Object.entries(counts.undecoded).map(([l, n]) => `${n} of link type ${linkTypeLabel(Number(l))}`);
    if (undecoded.length > 0) warn(`watch: --replay ${file}: frames skipped, ARP is read from Ethernet and Linux cooked captures only: ${undecoded.join(', ')}`);
    outputs.summary({ replay: file, db: store.path, stations: [...detector.stations].length, ...counts });
    await outputs.close();
    store.close();
  }
  return Exit.OK;
}

/**
 * Asks both MACs of a move for its address, by unicast ARP requests from our address (VERIFY_TRIES each within
 * VERIFY_MS); resolves with those that answered. A reply counts only when it is to us (our MAC, our address): a
 * forger's broadcast replies are not answers.
 */
async function verify(link: Link, s: Suspect): Promise<Mac[]> {
  const answered = new Set<Mac>();
  const mine = (o: ArpObservation): boolean =>
    o.arp.operation === ArpOp.Reply && o.arp.senderIp === s.ip && o.ethDst === link.mac && o.arp.targetIp === link.ip && (o.arp.senderMac === s.from || o.arp.senderMac === s.to);
  const sub = link.arp$.pipe(filter(mine)).subscribe((o) => answered.add(o.arp.senderMac));
  try {
    for (let i = 0; i < VERIFY_TRIES && answered.size < 2; i++) {
      for (const mac of [s.from, s.to]) {
        if (!answered.has(mac)) link.send(arpFrame(link, mac, { operation: ArpOp.Request, senderMac: link.mac, senderIp: link.ip, targetMac: Mac.ZERO, targetIp: s.ip }));
      }
      await firstValueFrom(timer(VERIFY_MS / VERIFY_TRIES));
    }
  } finally {
    sub.unsubscribe();
  }
  return [...answered];
}

/** The kernel's neighbour events on the link as sightings (Linux; elsewhere, or when refused, a warning once). */
function kernelSightings(link: Link, observe: (s: Sighting) => void): Subscription {
  const sub = new Subscription();
  if (process.platform !== 'linux') return sub;
  void import('@ersatz/netlink').then((nl) => {
    sub.add(
      nl.neighbours$({ ifname: link.ifname }).subscribe({
        next: (e) => {
          const { entry } = e;
          if (e.type !== 'new' || entry.mac === null || entry.state === 'failed' || entry.state === 'incomplete' || entry.state === 'noarp') return;
          observe({ atMs: Date.now(), ifname: link.ifname, ip: entry.ip, mac: entry.mac, seenAs: 'kernel' });
        },
        error: (err: unknown) => warn(`watch: ${link.ifname}: the kernel's neighbour events stopped: ${(err as Error).message}`),
      }),
    );
  });
  return sub;
}

/**
 * IF as discovery describes it (its default gateway when the default route uses it, else none) and its subnets, every
 * address with its own prefix.
 */
async function watchedInterface(ifname: string | undefined): Promise<{ info: InterfaceInfo; subnets: Cidr[] }> {
  const info = await describe(ifname);
  const nl = process.platform === 'linux' ? await import('@ersatz/netlink') : null;
  const subnets = nl === null ? [Cidr.of(info.ip, info.prefixLen)] : nl.addresses(info.ifindex).map(nl.linkPrefix);
  return { info, subnets };
}

async function describe(ifname: string | undefined): Promise<InterfaceInfo> {
  try {
    return await discoverInterface(ifname === undefined ? {} : { ifname });
  } catch (err) {
    const name = (err as Error).name;
    if (ifname === undefined || (name !== 'NoDefaultRouteError' && name !== 'NoRouteError') || process.platform !== 'linux') throw err;
    const nl = await import('@ersatz/netlink');
    const lk = nl.checkArpCapable(nl.link(ifname));
    const own = nl.addresses(lk.index)[0];
    if (own === undefined) throw nl.noIpv4Address(lk);
    return discoverInterface({ ifname, target: own.address }).catch((e: unknown) => ownAddressInterface(e, own.address, ifname));
  }
}

async function openStore(path: string | undefined): Promise<StationStore> {
  const file = path ?? defaultDbPath();
  try {
    return await StationStore.open(file);
  } catch (err) {
    const e = err as Error & { code?: string };
    throw new UsageError(`watch: the station database ${file}: ${e.message.split('\n')[0]}${e.code === 'ERSATZ_SQLITE_UNAVAILABLE' ? '' : ' (give another with --db FILE)'}`);
  }
}

function countBy(keys: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/** Frames the kernel handed over that did not reach the detector (what is sent is not counted). */
function captureDrops(counts: Record<string, number | null> | null): number {
  return counts === null ? 0 : (counts.kernel ?? 0) + (counts.rxRing ?? 0) + (counts.eventsRing ?? 0);
}
