// @ts-check
// What the single-thread baselines share: one `cap` handle on an interface, used from the main thread only (Cap.send
// to transmit, on('packet') to receive), ARP requests built and replies read by @ersatz/wire. No workers, no rings,
// no RxJS: the plain Node program ersatz's pipeline has to beat. These scripts run inside a lab namespace
// (lab.exec), never in the root namespace.
import { createRequire } from 'node:module';
import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import { ArpOp, Ipv4, Mac, emitArpFrame, parseArpFrame } from '@ersatz/wire';

/**
 * @typedef {object} CapHandle
 * @property {(device: string, filter: string, bufSize: number, buffer: Buffer) => string} open
 * @property {(buffer: Buffer, nbytes?: number) => void} send
 * @property {() => void} close
 * @property {(event: 'packet', listener: (nbytes: number, truncated: boolean) => void) => void} on
 */

// ERSATZ_BENCH_CAP: the directory of a cap package built for the Node running the bench when that is not the
// project's (scripts/bench-node.sh builds one): a native addon loads only into the Node ABI it was built for.
/** @type {{ Cap: new () => CapHandle }} */
const { Cap } = createRequire(import.meta.url)(process.env.ERSATZ_BENCH_CAP ?? 'cap');

// libpcap's default kernel buffer (2 MiB). In immediate mode (cap sets it when it can) libpcap uses TPACKET_V2, whose
// ring has fixed slots sized for cap's 65535-byte snaplen: about 66 KiB a frame, so 2 MiB holds ~30 frames. The ring
// is mapped whole into the process, so it counts in the resident set.
const PCAP_BUFFER = 2 << 20;

/**
 * Parses `--interface IF` plus the script's own string options (node:util parseArgs, strict). Returns the values;
 * on bad arguments prints the usage line and exits 2, as a CLI should.
 * @param {string} usage
 * @param {Record<string, { type: 'string', default?: string }>} options
 * @returns {Record<string, string | undefined> & { interface: string }}
 */
export function args(usage, options) {
  try {
    const values = /** @type {Record<string, string | undefined>} */ (
      parseArgs({ options: { interface: { type: 'string' }, ...options }, strict: true, allowPositionals: false }).values
    );
    const ifname = values.interface;
    if (ifname === undefined) throw new Error('--interface is required');
    return { ...values, interface: ifname };
  } catch (err) {
    process.stderr.write(`${/** @type {Error} */ (err).message}\nusage: ${usage}\n`);
    process.exit(2);
  }
}

/**
 * Parses a dotted-quad option, or prints why not and exits 2.
 * @param {string} name
 * @param {unknown} text
 */
export function ipOption(name, text) {
  try {
    return Ipv4.parse(String(text));
  } catch (err) {
    process.stderr.write(`--${name}: ${/** @type {Error} */ (err).message}\n`);
    process.exit(2);
  }
}

/**
 * Parses a whole-number option ≥ `min`, or prints why not and exits 2.
 * @param {string} name
 * @param {string | undefined} text
 * @param {number} [min]
 */
export function wholeOption(name, text, min = 1) {
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || n < min) {
    process.stderr.write(`--${name} takes a whole number ≥ ${min}, not ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
}

/**
 * Opens `ifname` for ARP replies (BPF `arp[6:2] = 2`, so our own requests are not captured and the single thread
 * spends nothing on them). Returns our MAC and IPv4 address (from os.networkInterfaces), `request(target)` which
 * broadcasts "who has target?", `onReply(cb)` which calls `cb(senderIp, senderMac)` for each reply addressed to us,
 * and `close()`. Throws when the interface has no IPv4 address or is not Ethernet.
 * @param {string} ifname
 * @param {number} [bufferBytes] libpcap's buffer: room for the replies that can arrive while the thread is busy
 */
export function openCapLink(ifname, bufferBytes = PCAP_BUFFER) {
  const entry = networkInterfaces()[ifname]?.find((a) => a.family === 'IPv4');
  if (!entry) throw new Error(`${ifname} has no IPv4 address in this namespace`);
  const mac = Mac.parse(entry.mac);
  const ip = Ipv4.parse(entry.address);
  const cap = new Cap();
  const rx = Buffer.alloc(65535);
  const linkType = cap.open(ifname, 'arp and arp[6:2] = 2', bufferBytes, rx);
  if (linkType !== 'ETHERNET') throw new Error(`${ifname} is ${linkType}, not Ethernet`);
  const tx = Buffer.alloc(60);
  let malformed = 0;
  return {
    mac,
    ip,
    /** @param {Ipv4} target */
    request(target) {
      const n = emitArpFrame(tx, {
        dst: Mac.BROADCAST,
        src: mac,
        arp: { operation: ArpOp.Request, senderMac: mac, senderIp: ip, targetMac: Mac.ZERO, targetIp: target },
      });
      cap.send(tx, n);
    },
    /** @param {(senderIp: Ipv4, senderMac: Mac) => void} cb */
    onReply(cb) {
      cap.on('packet', (nbytes) => {
        let frame;
        try {
          frame = parseArpFrame(rx.subarray(0, nbytes));
        } catch {
          malformed++; // a frame the codec refuses answers nothing; count it, never crash
          return;
        }
        const a = frame.arp;
        if (a.operation === ArpOp.Reply && a.targetIp === ip && a.targetMac === mac) cb(a.senderIp, a.senderMac);
      });
    },
    get malformed() {
      return malformed;
    },
    close() {
      cap.close();
    },
  };
}
