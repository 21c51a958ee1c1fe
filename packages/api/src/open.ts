import { filter, type Observable } from 'rxjs';
import { Pipeline, type PipelineEvent } from '@ersatz/pipeline';
import { OptionError, type ArpObservation, type IcmpObservation, type NdpObservation } from '@ersatz/resolve';
import type { InterfaceInfo } from './host.js';
import type { Link, OpenLinkOptions } from './link.js';

type ArpEvent = Extract<PipelineEvent, { kind: 'arp' }>;
type IcmpEvent = Extract<PipelineEvent, { kind: 'icmp' }>;
type NdpEvent = Extract<PipelineEvent, { kind: 'ndp' }>;

/**
 * Opens the worker pipeline on `info.ifname` and presents it as the coordinator's link.
 * Resolves once capture is live (a request sent after this cannot miss its reply).
 * Throws the pipeline's typed errors (no permission → CAP_NET_RAW and how to grant it; unknown interface).
 * Afterwards arp$/icmp$/ndp$ error with InterfaceLostError when the interface goes down or away (see `linkLoss`), and
 * with WorkerCrashLoopError when a worker keeps dying.
 */
export async function openLink(info: InterfaceInfo, opts: OpenLinkOptions & { readonly trace?: SharedArrayBuffer } = {}): Promise<Link> {
  const { vlan } = opts;
  if (vlan !== undefined && (!Number.isInteger(vlan) || vlan < 0 || vlan > 0x0fff)) throw new OptionError('openLink', 'vlan', vlan, 'an 802.1Q VLAN id, 0..4095');
  const pipeline = await Pipeline.open({
    ifname: info.ifname,
    filter: ['arp', ...(opts.icmp ? ['icmp'] : []), ...(opts.ndp ? ['icmp6'] : [])].join(' or '),
    keepFrames: opts.keepFrames ?? false,
    promiscuous: opts.promiscuous ?? false,
    // Our own frames are needed only in a pcap recording: the coordinators time sends with departedNs.
    outgoing: opts.outgoing ?? opts.keepFrames ?? false,
    ...(opts.captureBufferBytes === undefined ? {} : { captureBufferBytes: opts.captureBufferBytes }),
    ...(opts.captureRing === undefined ? {} : { captureRing: opts.captureRing }),
    linkLoss: opts.linkLoss ?? 'fail',
    sameCpu: opts.sameCpu ?? false,
    idlePoll: opts.idlePoll ?? false,
    // Bench only (per-hop timestamps, see @ersatz/ring's TraceHop): not part of OpenLinkOptions' public surface.
    ...(opts.trace === undefined ? {} : { trace: opts.trace }),
  });
  // The monotonic clock the capture thread stamps frames with, tied once to the wall clock for pcap output.
  const epochOffsetNs = BigInt(Date.now()) * 1_000_000n - Pipeline.now();
  // Hot already (a Subject): each kind's subscribers attach to it directly, with no share() hop per event.
  const events$ = pipeline.events$;
  // An ArpEvent is an ArpObservation (and its `kind`): handed on as it is, not copied per frame.
  const arp$: Observable<ArpObservation> = events$.pipe(filter((e): e is ArpEvent => e.kind === 'arp'));
  const icmp$: Observable<IcmpObservation> = events$.pipe(filter((e): e is IcmpEvent => e.kind === 'icmp'));
  const ndp$: Observable<NdpObservation> = events$.pipe(filter((e): e is NdpEvent => e.kind === 'ndp'));
  let closed: Promise<void> | undefined;
  const link: Link = {
    info,
    ifname: info.ifname,
    mac: info.mac,
    ip: info.ip,
    addresses: info.addresses,
    ...(vlan === undefined ? {} : { vlan }),
    arp$,
    icmp$,
    ndp$,
    frames$: pipeline.frames$,
    warnings$: pipeline.warnings$,
    recovered$: pipeline.recovered$,
    send: (frame, notBeforeNs) => pipeline.send(frame, notBeforeNs),
    departures: () => pipeline.departures(),
    departedNs: (ticket) => pipeline.departedNs(ticket),
    heardUntilNs: () => pipeline.heardUntilNs(),
    now: Pipeline.now,
    wallClockNs: (tsNs) => tsNs + epochOffsetNs,
    stats: () => pipeline.stats(),
    close: () => (closed ??= pipeline.close()),
  };
  pipelines.set(link, pipeline);
  return link;
}

// Each open link's pipeline, for the test hooks in ./testing.ts (kept off the public Link type).
const pipelines = new WeakMap<Link, Pipeline>();

/** The pipeline under a link from openLink; undefined for any other object. */
export function pipelineOf(link: Link): Pipeline | undefined {
  return pipelines.get(link);
}
