// The hostile station of the hardening tests. It runs INSIDE a lab's peer namespace (lab.start/exec with `node`)
// and puts crafted Ethernet frames on the lab's veth through its own AF_PACKET socket (koffi: socket, bind, send),
// independent of the ersatz pipeline under test. It only ever sends on the interface it is given, which the test
// created; every run is bounded in frames and in time.
//
//   node hardening-attacker.js repeat '{"ifname":"ez1","frames":["ffff…"],"everyMs":20,"ms":3000}'
//       sends each hex frame, in order, every `everyMs` for `ms`
//   node hardening-attacker.js flood '{"ifname":"ez1","ms":4000,"maxFrames":2000000,"seed":1}'
//       sends garbage as fast as the socket takes it for `ms` (at most `maxFrames`): mostly frames with the ARP
//       EtherType (the capture filter lets those through to the decoder) and random bodies, some wholly random;
//       with `"valid":true` well-formed broadcast ARP requests instead (from 02:00:5e:00:53:xx, asking for addresses
//       in 203.0.113.0/24 that nobody has), each of which the decoder turns into an event
//
// It prints `started` once the socket is open and sending, `sent N` every 10 000 frames, then one JSON line {sent,
// failed, ms} when done (also on SIGTERM, which ends a run early).
import koffi from 'koffi';
import { endianness } from 'node:os';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const LE = endianness() === 'LE';

interface Args {
  readonly ifname: string;
  readonly frames?: readonly string[];
  readonly everyMs?: number;
  readonly ms?: number;
  readonly maxFrames?: number;
  readonly seed?: number;
  readonly valid?: boolean;
}

const self = koffi.load(null);
const socket = self.func('int socket(int domain, int type, int protocol)');
const bind = self.func('int bind(int fd, const void *addr, uint32_t len)');
const send = self.func('intptr_t send(int fd, const void *buf, size_t len, int flags)');
const close = self.func('int close(int fd)');
const ifNameToIndex = self.func('unsigned int if_nametoindex(const char *ifname)');

/** A packet socket bound to `ifname` that only sends (protocol 0 receives nothing). Throws with the errno. */
function openSocket(ifname: string): number {
  const ifindex = ifNameToIndex(ifname) as number;
  if (ifindex === 0) throw new Error(`no interface ${ifname} (errno ${koffi.errno()})`);
  const fd = socket(AF_PACKET, SOCK_RAW, 0) as number;
  if (fd < 0) throw new Error(`socket(AF_PACKET): errno ${koffi.errno()}`);
  const sll = new Uint8Array(20); // struct sockaddr_ll
  const dv = new DataView(sll.buffer);
  dv.setUint16(0, AF_PACKET, LE);
  dv.setInt32(4, ifindex, LE);
  if ((bind(fd, sll, sll.length) as number) < 0) throw new Error(`bind: errno ${koffi.errno()}`);
  return fd;
}

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/** xorshift32: a fast, seeded source, so a failing flood can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

function main(): void {
  const [mode, json] = process.argv.slice(2);
  const args = JSON.parse(json ?? '{}') as Args;
  const fd = openSocket(args.ifname);
  // Hard bounds whatever the caller asks; above what a run stopped by its test (UNTIL_STOPPED_MS, SIGTERM once what it
  // must overlap is done) can reach: a flood that ended by its own bound first would stop covering a slow resolve.
  const ms = Math.min(args.ms ?? 3000, 120_000);
  const maxFrames = Math.min(args.maxFrames ?? 1_000_000, 100_000_000);
  const t0 = performance.now();
  let stopped = false;
  process.once('SIGTERM', () => (stopped = true));
  let sent = 0;
  let failed = 0;
  const put = (frame: Uint8Array): void => {
    if ((send(fd, frame, frame.length, 0) as number) === frame.length) sent++;
    else failed++;
    // Progress for a test that waits until enough has been sent: `sent N` every 10 000 frames.
    if ((sent + failed) % 10_000 === 0) process.stdout.write(`sent ${sent}\n`);
  };
  const done = (): void => {
    close(fd);
    process.stdout.write(`${JSON.stringify({ sent, failed, ms: Math.round(performance.now() - t0) })}\n`);
  };
  process.stdout.write('started\n');

  if (mode === 'repeat') {
    const frames = (args.frames ?? []).map(hex);
    const every = Math.max(1, args.everyMs ?? 20);
    const tick = (): void => {
      for (const f of frames) put(f);
      if (!stopped && performance.now() - t0 + every < ms && sent + failed < maxFrames) setTimeout(tick, every);
      else done();
    };
    tick();
    return;
  }
  if (mode === 'flood' && args.valid) {
    // ff:ff:ff:ff:ff:ff < 02:00:5e:00:53:00, ARP, Request who-has 203.0.113.1 tell 203.0.113.200, length 28
    const f = new Uint8Array(Buffer.from('ffffffffffff02005e00530008060001080006040001' + '02005e005300cb0071c8' + '000000000000cb007101' + '00'.repeat(18), 'hex'));
    const burst = (): void => {
      for (let i = 0; i < 4096 && sent + failed < maxFrames; i++) {
        const n = sent + failed;
        f[11] = f[27] = n & 0xff; // the sender's MAC, in the Ethernet header and in the ARP body
        f[41] = 1 + (n % 254); // who-has 203.0.113.(1..254)
        put(f);
      }
      if (!stopped && performance.now() - t0 < ms && sent + failed < maxFrames) setImmediate(burst);
      else done();
    };
    burst();
    return;
  }
  if (mode === 'flood') {
    const next = rng(args.seed ?? 1);
    // Garbage to send from: each frame is a window of this pool at a random offset, its header bytes overwritten in
    // place, so a frame costs a few stores and the send, not a fill.
    const pool = new Uint8Array(1 << 20);
    const words = new Uint32Array(pool.buffer);
    for (let w = 0; w < words.length; w++) words[w] = next();
    const MTU_FRAME = 1514; // the veth MTU of 1500 plus the Ethernet header
    // Synchronous bursts with a turn of the event loop in between, so the process still notices SIGTERM.
    const burst = (): void => {
      for (let i = 0; i < 4096 && sent + failed < maxFrames; i++) {
        const r = next();
        // Lengths 14 (an Ethernet header, the least a packet socket sends) to 1514, most of them small, as ARP is.
        const len = 14 + (r & 0x100 ? next() % 1501 : next() % 64);
        const at = next() % (pool.length - MTU_FRAME);
        const f = pool.subarray(at, at + len);
        if ((r & 0xf) !== 0) {
          // The ARP EtherType (or a VLAN tag before it): past the capture filter, into the decoder.
          f[12] = 0x08;
          f[13] = 0x06;
          if ((r & 0xf0) === 0) {
            f[12] = 0x81;
            f[13] = 0x00;
            if (len >= 18) {
              f[16] = 0x08;
              f[17] = 0x06;
            }
          }
          // Half of them with a plausible fixed header (htype 1, ptype 0x0800, 6, 4): deeper into the codec.
          if (r & 0x200 && len >= 22) f.set([0x00, 0x01, 0x08, 0x00, 0x06, 0x04], 14);
          else if (len >= 22) f[14] = r >>> 24; // and the others with a random htype again
        }
        put(f);
      }
      if (!stopped && performance.now() - t0 < ms && sent + failed < maxFrames) setImmediate(burst);
      else done();
    };
    burst();
    return;
  }
  close(fd);
  throw new Error(`unknown mode ${String(mode)}`);
}

main();
