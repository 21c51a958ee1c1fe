#!/usr/bin/env node
// @ts-check
// Baseline for scans: sweep a CIDR's usable hosts (network and broadcast excluded) with cap in the main thread, one
// request per host, as fast as Cap.send goes. Requests go out in batches of 256 with a setImmediate between them,
// so replies are read while sending (one long loop would leave them all in libpcap's buffer until the end). Ends
// when every host has answered or --timeout ms after the last request. Prints one JSON line:
// { hosts, sent, answered, elapsedMs, cpuMs (the whole process's, during the sweep), malformed }.
//
//   node sweep.mjs --interface ez0 --cidr 10.77.0.0/16
import { Cidr } from '@ersatz/wire';
import { args, openCapLink, wholeOption } from './cap-link.mjs';

const BATCH = 256;
// Room in libpcap's ring (~66 KiB a slot, see cap-link.mjs) for what arrives while a batch is sent: ~1000 replies
// for the large sweeps, every host's reply with room to spare for a small one. No larger: the ring counts in the peak
// RSS the bench compares, at about twice its size (measured).
const RING_MAX = 64 << 20;
const o = args('sweep.mjs --interface IF --cidr A.B.C.D/N [--timeout MS]', {
  cidr: { type: 'string' },
  timeout: { type: 'string', default: '500' },
});
let cidr;
try {
  cidr = Cidr.parse(String(o.cidr));
} catch (err) {
  process.stderr.write(`--cidr: ${/** @type {Error} */ (err).message}\n`);
  process.exit(2);
}
const timeoutMs = wholeOption('timeout', o.timeout);

const firstHost = cidr.firstHost;
const hosts = cidr.hostCount;
const link = openCapLink(o.interface, Math.min(RING_MAX, Math.max(2 << 20, hosts * (80 << 10))));
const seen = new Uint8Array(hosts);
let answered = 0;
let sent = 0;
const start = process.hrtime.bigint();
const cpuBefore = process.cpuUsage();

const finished = new Promise((resolve) => {
  let idle = /** @type {NodeJS.Timeout | undefined} */ (undefined);
  const finish = () => {
    clearTimeout(idle);
    resolve(undefined);
  };
  link.onReply((ip) => {
    const i = ip - firstHost;
    if (i < 0 || i >= hosts || seen[i]) return;
    seen[i] = 1;
    if (++answered === hosts) finish();
  });
  const sendBatch = () => {
    const end = Math.min(sent + BATCH, hosts);
    for (; sent < end; sent++) link.request(/** @type {import('@ersatz/wire').Ipv4} */ (firstHost + sent));
    if (sent < hosts) setImmediate(sendBatch);
    else if (answered < hosts) idle = setTimeout(finish, timeoutMs);
  };
  sendBatch();
});
await finished;
const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
const cpu = process.cpuUsage(cpuBefore);
link.close();
process.stdout.write(`${JSON.stringify({ hosts, sent, answered, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000, malformed: link.malformed })}\n`);
