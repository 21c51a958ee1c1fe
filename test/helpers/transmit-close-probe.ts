// Runs inside a lab namespace: a Transmitter in this thread (not a worker), frames queued and close() called in the
// same job, so its loop cannot have woken for them first: what close does with them is all that decides.
//
//   node transmit-close-probe.js close <json: { ifname, hostMac, hostIp, peerIp, count }>   (runProbe's argv)
//
// Queues `count` requests due now (targets peerIp, peerIp+1, ...), then one paced 10 s ahead, then closes. Prints
// { sent, failed }: the Transmitter's own counts.
import { RingWriter, createDepartureLog, createRing } from '@ersatz/ring';
import { Transmitter } from '@ersatz/transmit-worker/transmitter';
import { Ipv4 } from '@ersatz/wire';
import { arpRequest, out, type ProbeArgs } from './probe-common.js';

const args = JSON.parse(process.argv[3] ?? '{}') as ProbeArgs & { count: number };
const tx = createRing(1 << 16);
const transmitter = new Transmitter({ tx, departures: createDepartureLog() }, (err) => out({ failing: err.message }));
transmitter.open({ ifname: args.ifname });
const writer = new RingWriter(tx);
const first = Ipv4.parse(args.peerIp!);
for (let i = 0; i < args.count; i++) writer.tryStage(arpRequest({ ...args, peerIp: Ipv4.format(((first + i) >>> 0) as Ipv4) }), 0n);
writer.tryStage(arpRequest({ ...args, peerIp: Ipv4.format(((first + args.count) >>> 0) as Ipv4) }), process.hrtime.bigint() + 10_000_000_000n);
writer.publish();
await transmitter.close();
const { sent, failed } = transmitter.stats();
out({ sent, failed });
