import { constants } from 'node:os';
import { setImmediate } from 'node:timers/promises';
import { DepartureLog, RingReader, TraceHop, closeRing, holdEventLoop, stamp, traceView, type RingHandle } from '@ersatz/ring';
import { TransmitError } from './error.js';
import { PacketSocket } from './packet-socket.js';
import { PcapSender } from './pcap-sender.js';
import { defaultTransmitVia, newSocketSlot, type Sender } from './sender.js';
import type { TransmitHandles, TransmitInfo, TransmitOptions, TransmitStats } from './types.js';

/** Frames per sendmmsg call at most (and staged at once). */
const BATCH = 64;
const DEFAULT_MAX_FRAME = 9216;
const MIN_FRAME = 14;
const MAX_FRAME = 65535;
const U32 = 2 ** 32;
/** The last stretch before a frame's time is spun, not slept: a futex sleep overshoots by tens of µs. */
const SPIN_NS = 50_000n;
/**
 * Gaps longer than this are waited without blocking (Atomics.waitAsync), so control calls (close, stats) are
 * answered meanwhile: the thread blocks under 2 ms per frame. waitAsync takes whole milliseconds and overshoots by
 * 0.15–0.45 ms (measured), so it wakes this early and Atomics.wait finishes the gap.
 */
const BLOCK_NS = 1_000_000n;

/**
 * tx ring → a Sender (packet socket, or libpcap's pcap_sendpacket). Frames go out in ring order; a frame whose "not before" time (the ring record's tsNs,
 * hrtime ns, 0 = now) is still ahead holds back the ones behind it, which is how sweeps are paced. Waiting:
 * Atomics.waitAsync on a private word for all but the last millisecond (the event loop stays free), Atomics.wait
 * for the rest, a spin for the last 50 µs.
 */
export class Transmitter {
  #txHandle: RingHandle;
  #tx: RingReader;
  readonly #onFailing: (err: TransmitError) => void;
  #socket: Sender | undefined;
  #info: TransmitInfo | undefined;
  readonly #notBefore = new BigUint64Array(BATCH);
  /** Each staged frame's number in ring order (see DepartureLog). */
  readonly #numbers = new Float64Array(BATCH);
  #staged = 0;
  readonly #departures: DepartureLog | undefined;
  /** The number of the next frame taken off the ring (mod 2^32). */
  #next = 0;
  /** A word only close notifies: waiting on it is a sleep with sub-ms resolution that close can cut short. */
  readonly #sleepWord = new Int32Array(new SharedArrayBuffer(4));
  #closing = false;
  #wake: (() => void) | undefined;
  #sent = 0;
  #bytes = 0;
  #failed = 0;
  #batches = 0;
  #paced = 0;
  #maxLateNs = 0n;
  #lastError = '';
  /** The errno name already reported to the supervisor (reported again only after a send succeeded). */
  #reportedCode = '';
  readonly done: Promise<void>;

  readonly #slot: SharedArrayBuffer;
  readonly #trace: BigInt64Array | undefined;

  /** See TransmitHandles; what a dead predecessor left in the socket slot is released now. */
  constructor({ tx, socketSlot = newSocketSlot(), trace, departures }: TransmitHandles, onFailing: (err: TransmitError) => void) {
    this.#slot = socketSlot;
    this.#trace = traceView(trace);
    this.#departures = departures === undefined ? undefined : new DepartureLog(departures);
    // A successor continues the numbering where the supervisor wrote off what its predecessor had not sent.
    this.#next = this.#departures?.taken ?? 0;
    PacketSocket.releaseOrphan(socketSlot);
    PcapSender.releaseOrphan(socketSlot);
    this.#txHandle = tx;
    this.#tx = new RingReader(tx);
    this.#onFailing = onFailing;
    this.done = this.#run();
  }

  /** See TransmitApi.open. Throws TransmitError. */
  open(o: TransmitOptions): TransmitInfo {
    const t0 = performance.now();
    const maxFrameBytes = o.maxFrameBytes ?? DEFAULT_MAX_FRAME;
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < MIN_FRAME || maxFrameBytes > MAX_FRAME) {
      throw new TransmitError('EINVAL', String(o.ifname), `maxFrameBytes ${String(maxFrameBytes)} (must be ${MIN_FRAME}..${MAX_FRAME})`);
    }
    const via = o.via ?? defaultTransmitVia();
    if (via !== 'packet-socket' && via !== 'pcap') throw new TransmitError('EINVAL', String(o.ifname), `via ${JSON.stringify(via)} (must be 'packet-socket' or 'pcap')`);
    this.#socket?.close();
    this.#socket = undefined;
    const socket = via === 'pcap' ? new PcapSender(o.ifname, BATCH, maxFrameBytes, this.#slot) : new PacketSocket(o.ifname, BATCH, maxFrameBytes, this.#slot);
    this.#socket = socket;
    this.#reportedCode = '';
    this.#info = { ifname: o.ifname, ifindex: socket.ifindex, via, batch: BATCH, maxFrameBytes, openMs: performance.now() - t0 };
    this.#wake?.();
    return this.#info;
  }

  stats(): TransmitStats {
    return {
      open: this.#socket !== undefined,
      sent: this.#sent,
      bytes: this.#bytes,
      failed: this.#failed,
      batches: this.#batches,
      paced: this.#paced,
      maxLateUs: Number(this.#maxLateNs) / 1e3,
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
  }

  async close(): Promise<void> {
    this.#closing = true;
    closeRing(this.#txHandle);
    this.#wake?.();
    Atomics.notify(this.#sleepWord, 0); // a paced wait ends now
    await this.done;
    await this.#sendDue();
    this.#socket?.close();
    this.#socket = undefined;
  }

  /**
   * Close's last turn: the frames queued before it and due by now still leave (a claim's last announcement, an
   * arping's last request: queued, then the command ends and closes, and under load this close can come before the
   * loop has woken for them); those paced for later are cancelled, as a paced wait is.
   */
  async #sendDue(): Promise<void> {
    if (this.#socket === undefined) return;
    // #flush waits for nothing once closing: it sends what is due and cancels from the first frame that is not.
    while (this.#tx.drain(this.#stage, BATCH) > 0) await this.#flush();
  }

  async #run(): Promise<void> {
    // Waits without a timeout (a frame or close's closeRing ends one): no timer per wake.
    const release = holdEventLoop();
    try {
      await this.#loop();
    } finally {
      release();
    }
  }

  async #loop(): Promise<void> {
    while (!this.#closing) {
      const tx = this.#tx;
      if (!this.#socket) {
        // Not open yet (or reopening): frames wait in the ring, which refuses and counts what does not fit.
        await this.#idle();
        continue;
      }
      const ready = await tx.waitAsync(Infinity, false);
      if (this.#closing || tx !== this.#tx) continue;
      if (!ready) {
        if (tx.closed) await this.#idle();
        continue;
      }
      stamp(this.#trace, TraceHop.TX_AWAKE);
      tx.drain(this.#stage, BATCH);
      await this.#flush();
      // waitAsync resolves in a microtask when frames are waiting: give macrotasks (comlink) a turn between batches.
      await setImmediate();
    }
  }

  #idle(): Promise<void> {
    return new Promise<void>((resolve) => (this.#wake = resolve)).finally(() => (this.#wake = undefined));
  }

  readonly #stage = (frame: Uint8Array, notBefore: bigint): void => {
    const socket = this.#socket!;
    const n = this.#next;
    this.#next = (n + 1) % U32;
    if (frame.length > socket.slotBytes || frame.length < MIN_FRAME) {
      this.#fail('EMSGSIZE', constants.errno.EMSGSIZE, 'stage', 1);
      this.#departures?.record(n, 0n); // published with the frames around it, in order
      return;
    }
    socket.stage(this.#staged, frame);
    this.#numbers[this.#staged] = n;
    this.#notBefore[this.#staged++] = notBefore;
  };

  /**
   * Sends the staged frames in order, waiting for each one's time; once closing, it waits for none: a frame still
   * early is cancelled with every one behind it.
   */
  async #flush(): Promise<void> {
    const n = this.#staged;
    const socket = this.#socket!;
    let i = 0;
    while (i < n) {
      if (this.#socket !== socket) {
        // Reopened while we waited: the staged bytes lived in the old socket's memory. Count them, do not guess.
        this.#fail('ECANCELED', constants.errno.ECANCELED, 'reopen', n - i);
        break;
      }
      let now = process.hrtime.bigint();
      let j = i;
      while (j < n && this.#notBefore[j]! <= now) j++;
      if (j > i) {
        this.#send(socket, i, j);
        i = j;
        continue;
      }
      // Frame i is early: wait for its time, then send it (and whatever is due with it) on the next pass.
      if (this.#closing) break;
      const due = this.#notBefore[i]!;
      this.#paced++;
      let gap = due - now;
      if (gap > BLOCK_NS) {
        const wait = Atomics.waitAsync(this.#sleepWord, 0, 0, Number((gap - BLOCK_NS) / 1_000_000n));
        if (wait.async) await wait.value;
        if (this.#closing) break;
        now = process.hrtime.bigint();
        gap = due - now;
      }
      if (gap > SPIN_NS) Atomics.wait(this.#sleepWord, 0, 0, Number(gap - SPIN_NS) / 1e6);
      while (process.hrtime.bigint() < due) {
        // spin: the last few tens of µs
      }
      const late = process.hrtime.bigint() - due;
      if (late > this.#maxLateNs) this.#maxLateNs = late;
    }
    for (; i < n; i++) this.#departures?.record(this.#numbers[i]!, 0n); // cancelled by a reopen, or closing
    this.#staged = 0;
    this.#departures?.publish(this.#next); // everything taken off the ring is now sent or recorded as not
  }

  #send(socket: Sender, from: number, to: number): void {
    // The departure time is read before the call, as arping reads its clock before sendto: on a veth the reply is
    // often captured before sendmmsg returns. Published first, so a reply can never reach the main thread before it.
    const log = this.#departures;
    if (log !== undefined) {
      const ns = process.hrtime.bigint();
      for (let k = from; k < to; k++) log.record(this.#numbers[k]!, ns);
      log.publish(this.#numbers[to - 1]! + 1);
    }
    while (from < to) {
      const { sent, code, errno, operation } = socket.send(from, to);
      stamp(this.#trace, TraceHop.TX_SENT);
      this.#batches++;
      if (sent > 0) {
        for (let k = from; k < from + sent; k++) this.#bytes += socket.stagedLength(k);
        this.#sent += sent;
        from += sent;
        this.#reportedCode = '';
        continue;
      }
      // The frame at `from` was refused: count it and go on with the rest.
      this.#fail(code, errno, operation, 1);
      log?.record(this.#numbers[from]!, 0n);
      from++;
    }
  }

  #fail(code: string, errno: number, operation: string, frames: number): void {
    this.#failed += frames;
    this.#lastError = code;
    if (code !== this.#reportedCode) {
      this.#reportedCode = code;
      this.#onFailing(new TransmitError(code, this.#info?.ifname ?? '?', operation, errno));
    }
  }
}
