import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { setImmediate } from 'node:timers/promises';
import koffi from 'koffi';
import { errnoText, ignoreOutgoing } from '@ersatz/os';
import { RingWriter, TraceHop, stamp, traceView, type RingHandle } from '@ersatz/ring';
import { CaptureError, activateError, linkState, stopCode, type CaptureErrorCode, type CaptureErrorWire } from './error.js';
import {
  DLT_EN10MB,
  PCAP_D_IN,
  PCAP_NETMASK_UNKNOWN,
  PKTHDR_BYTES,
  PKTHDR_CAPLEN,
  PKTHDR_CAPLEN_WORD,
  PKTHDR_LEN,
  PKTHDR_LEN_WORD,
  PKTHDR_USEC,
  PcapHandler,
  errbuf,
  errbufText,
  libpcap,
  pinFailed,
  type Libpcap,
  type Pointer,
} from '@ersatz/os/libpcap';
import type { CaptureOptions, CaptureStats, CaptureWait, LinkInfo } from './types.js';
import { settings, type Settings } from './settings.js';
import { SocketReader } from './socket-reader.js';
import { frameWaiter, type FrameWaiter } from './wait.js';

/**
 * Frames handled per poll callback before giving the event loop back (comlink calls, timers). The poll is level
 * triggered, so what is left is delivered on the next turn.
 */
const FRAMES_PER_TURN = 4096;
/**
 * The wait-loop's longest wait when no frame comes: also the longest a control call (stats, close) waits for an
 * answer, and a thread that must stop (terminate) for its wait to end.
 */
const WAIT_SLICE_MS = 50;
/** Frames per pcap_dispatch call (the poll's pump and the wait-loop): the rx ring is published after each. */
const FRAMES_PER_DISPATCH = 512;
/** Linux only: the mapping in /proc/self/maps that holds libpcap's ring (see Capture.#view). */
const HAS_PROC_MAPS = process.platform === 'linux';
const { ENETDOWN, ENODEV, ENXIO } = constants.errno;

/**
 * How the capture waits for frames when the caller does not say: on Windows, wpcap.dll has no selectable
 * descriptor (pcap_get_selectable_fd), so the capture waits in pcap_dispatch itself, bounded by the read timeout.
 */
export function defaultCaptureWait(platform: NodeJS.Platform = process.platform): CaptureWait {
  return platform === 'win32' ? 'wait-loop' : 'selectable-fd';
}

type PollHandle = ReturnType<typeof koffi.node.poll>;

/**
 * One capture at a time on one thread, driven by that thread's event loop: koffi.node.poll watches libpcap's
 * descriptor and each wake-up drains what the kernel has into the rx ring. The thread never blocks: a full rx ring
 * drops the frame and counts it.
 */
export class Capture {
  #rx: RingWriter;
  readonly #onStopped: (err: CaptureError) => void;
  #lib: Libpcap | undefined;
  #pcap: Pointer | null = null;
  /** Instead of #pcap when the capture has no ring (CaptureOptions.ring false). */
  #reader: SocketReader | null = null;
  #poll: PollHandle | null = null;
  /** Bumped by every close: a wait-loop runs only while the generation it started in is current. */
  #generation = 0;
  #ifname = '';
  #callback: Pointer | null = null;
  // The libpcap ring as one ArrayBuffer view (see #view).
  #ringBase = 0n;
  #ringU8 = new Uint8Array(0);
  // The packet header as a view, while libpcap passes it at the same address (see #onPacket).
  #hdrAt = -1n;
  #hdr = new Uint32Array(0);
  #lastHdrAt = -1n;
  // Counters (plain numbers: ~2^53 frames is beyond any capture's life).
  #frames = 0;
  #bytes = 0;
  #truncated = 0;
  #ringDropped = 0;
  #opens = 0;
  #pcapTotals = { received: 0, dropped: 0, ifDropped: 0 };
  readonly #ps = new Uint32Array(4);
  #lastError: CaptureErrorWire | undefined;

  readonly #slot: BigInt64Array;
  readonly #trace: BigInt64Array | undefined;
  readonly #wallMinusHrNs: bigint;

  /**
   * `onStopped` hears about a capture that ended without close() (the interface went down or away). `handleSlot`:
   * see CaptureHandles; a handle found there was left open by a worker that died, and is closed now.
   */
  constructor(rx: RingHandle, onStopped: (err: CaptureError) => void, handleSlot = newHandleSlot(), trace?: SharedArrayBuffer) {
    this.#rx = new RingWriter(rx);
    this.#trace = traceView(trace);
    // realtime − hrtime, for the kernel's (realtime) timestamps in the trace: both clocks read once, here.
    this.#wallMinusHrNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)) - process.hrtime.bigint();
    this.#onStopped = onStopped;
    this.#slot = new BigInt64Array(handleSlot, 0, HANDLE_SLOT_WORDS);
    SocketReader.releaseOrphan(this.#slot);
    const orphan = Atomics.exchange(this.#slot, 0, 0n);
    // The thread that opened it has exited, so nothing else touches the handle, and pcap_close is thread-agnostic
    // (munmap, close, free). libpcap stays mapped at the same address (see pinLibrary), so its function pointers hold.
    if (orphan !== 0n) {
      const lib = libpcap((tried) => new CaptureError('ELIBACC', '(orphan)', tried));
      if (!pinFailed) lib.close(BigInt.asUintN(64, orphan));
    }
  }

  /** See CaptureApi.open. Throws CaptureError. */
  open(o: CaptureOptions): LinkInfo {
    const t0 = performance.now();
    this.close();
    const s = settings(o, defaultCaptureWait());
    const { ifname, waitVia } = s;
    const lib = (this.#lib ??= libpcap((tried) => new CaptureError('ELIBACC', ifname, tried)));
    if (waitVia === 'selectable-fd' && !lib.selectableFd) {
      throw new CaptureError('EINVAL', ifname, `${lib.loaded} has no pcap_get_selectable_fd: use waitVia 'wait-loop'`);
    }
    const want = { ...s, outgoing: o.outgoing ?? true };
    this.#ifname = ifname; // before anything can stop: a wait-loop's first wait runs within this call
    const reader = o.ring === false && process.platform === 'linux' && waitVia === 'selectable-fd' ? SocketReader.open(want, lib, this.#slot) : null;
    const got = reader === null ? this.#openPcap(lib, want) : this.#startReader(reader, want.outgoing);
    this.#opens++;
    this.#lastError = undefined;
    return { ifname, linkType: 'EN10MB', filter: s.filter, snaplen: s.snaplen, promiscuous: s.promiscuous, waitVia, ...got, openMs: performance.now() - t0 };
  }

  /** Starts polling the socket of a capture without a ring. */
  #startReader(reader: SocketReader, outgoing: boolean): Opened {
    try {
      this.#poll = koffi.node.poll(reader.fd, { readable: true }, (status: unknown) => this.#pumpSocket(typeof status === 'number' ? status : 0));
    } catch (err) {
      reader.close();
      throw err;
    }
    this.#reader = reader;
    return { bufferBytes: reader.bufferBytes, outgoing, ring: false, fd: reader.fd };
  }

  /** Opens libpcap's handle (its socket and ring) and starts waiting for frames on it. */
  #openPcap(lib: Libpcap, want: Settings & { outgoing: boolean }): Opened {
    const { ifname, filter, bufferBytes, snaplen, promiscuous, waitVia } = want;
    let { outgoing } = want;
    const eb = errbuf();
    const p = lib.create(ifname, eb);
    if (p === null || p === 0n) throw new CaptureError('EIO', ifname, errbufText(eb));
    try {
      lib.setSnaplen(p, snaplen);
      lib.setPromisc(p, promiscuous ? 1 : 0);
      // Without immediate mode libpcap (TPACKET_V3) hands over a block only when it is full or the timeout fires:
      // a lone ARP reply would wait up to the timeout. Immediate mode makes it TPACKET_V2, one frame per slot.
      lib.setImmediateMode(p, 1);
      lib.setBufferSize(p, bufferBytes);
      lib.setTimeout(p, 100);
      const status = lib.activate(p);
      if (status < 0) throw activateError(status, ifname, lib.geterr(p));
      if (lib.datalink(p) !== DLT_EN10MB) throw new CaptureError('EPROTONOSUPPORT', ifname, `libpcap link type ${lib.datalink(p)}`);
      if (lib.setNonblock(p, 1, eb) < 0) throw new CaptureError('EIO', ifname, errbufText(eb));
      if (!outgoing) {
        outgoing = lib.setDirection(p, PCAP_D_IN) < 0; // not fatal: the coordinators ignore our own frames
        // libpcap 1.10 drops them in user space, after the kernel has queued each one for us (measured: pcap_stats
        // still counts them); PACKET_IGNORE_OUTGOING (Linux 4.20) stops them in the kernel. Best effort.
        if (!outgoing && lib.selectableFd !== undefined) ignoreOutgoing(lib.selectableFd(p));
      }
      const prog: Record<string, unknown> = {};
      if (lib.compile(p, prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        throw new CaptureError('EINVAL', ifname, `bad capture filter ${JSON.stringify(filter)}: ${lib.geterr(p)} (see pcap-filter(7))`);
      }
      try {
        if (lib.setFilter(p, prog) < 0) throw new CaptureError('EIO', ifname, lib.geterr(p));
      } finally {
        lib.freeCode(prog);
      }
      this.#callback ??= koffi.register(this.#onPacket, koffi.pointer(PcapHandler));
      this.#pcap = p;
      Atomics.store(this.#slot, 0, BigInt.asIntN(64, p));
      if (waitVia === 'selectable-fd') {
        const fd = lib.selectableFd!(p);
        // The poll runs on this worker's own event loop (napi_get_uv_event_loop), unlike cap's uv_default_loop.
        this.#poll = koffi.node.poll(fd, { readable: true }, (status: unknown) => this.#pump(typeof status === 'number' ? status : 0));
      } else {
        let wait: FrameWaiter;
        try {
          wait = frameWaiter(lib, p);
        } catch (err) {
          throw new CaptureError('EIO', ifname, (err as Error).message);
        }
        void this.#waitLoop(this.#generation, wait);
      }
    } catch (err) {
      if (this.#pcap === null) lib.close(p);
      else this.close();
      throw err;
    }
    return { bufferBytes, outgoing, ring: true, fd: lib.selectableFd?.(p) ?? -1 };
  }

  /** Writes into `rx` from now on; the old ring is left to its reader (it is being replaced). */
  setOutput(rx: RingHandle): void {
    this.#rx.publish();
    this.#rx = new RingWriter(rx);
  }

  stats(): CaptureStats {
    const live = this.#livePcapStats();
    return {
      open: this.#pcap !== null || this.#reader !== null,
      frames: this.#frames,
      bytes: this.#bytes,
      truncated: this.#truncated,
      ringDropped: this.#ringDropped,
      pcap: {
        received: this.#pcapTotals.received + live.received,
        dropped: this.#pcapTotals.dropped + live.dropped,
        ifDropped: this.#pcapTotals.ifDropped + live.ifDropped,
      },
      opens: this.#opens,
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
  }

  /** Stops the poll and closes libpcap's handle (socket and ring), or the socket of a capture without a ring. Idempotent. */
  close(): void {
    this.#poll?.close();
    this.#poll = null;
    this.#generation++;
    const p = this.#pcap;
    if (p === null && this.#reader === null) return;
    const live = this.#livePcapStats();
    this.#pcapTotals.received += live.received;
    this.#pcapTotals.dropped += live.dropped;
    this.#pcapTotals.ifDropped += live.ifDropped;
    if (p === null) {
      this.#reader!.close();
      this.#reader = null;
      return;
    }
    this.#pcap = null;
    // Cleared before closing: a thread killed in between leaks the handle rather than have it closed twice.
    Atomics.store(this.#slot, 0, 0n);
    // The ring view must not outlive the mapping pcap_close removes: touching it afterwards would fault.
    this.#ringBase = 0n;
    this.#ringU8 = new Uint8Array(0);
    this.#lib!.close(p);
  }

  #livePcapStats(): { received: number; dropped: number; ifDropped: number } {
    if (this.#reader !== null) return { ...this.#reader.stats(), ifDropped: 0 };
    const p = this.#pcap;
    if (p === null || this.#lib!.stats(p, this.#ps) < 0) return { received: 0, dropped: 0, ifDropped: 0 };
    return { received: this.#ps[0]!, dropped: this.#ps[1]!, ifDropped: this.#ps[2]! };
  }

  /** One poll wake-up: drain what libpcap has, up to FRAMES_PER_TURN. */
  #pump(status: number): void {
    const p = this.#pcap;
    if (p === null) return;
    let done = 0;
    // A poll error (POLLERR: the interface went down) still goes through pcap_dispatch, which turns the socket
    // error into libpcap's own message and a -1.
    while (done < FRAMES_PER_TURN) {
      const n = this.#lib!.dispatch(p, FRAMES_PER_DISPATCH, this.#callback!, null);
      this.#rx.publish(); // one store and at most one wake per pcap_dispatch, not per frame
      if (n > 0) {
        done += n;
        continue;
      }
      if (n === 0 && status >= 0) return;
      // libuv reports POLLERR as a bare status (EBADF) and libpcap may return 0 then: ask the link itself.
      const text = n < 0 ? this.#lib!.geterr(p) : linkState(this.#ifname);
      this.#stopWith(new CaptureError(stopCode(text), this.#ifname, text));
      return;
    }
  }

  /** #pump for a capture without a ring: recvmmsg instead of pcap_dispatch. */
  #pumpSocket(status: number): void {
    const r = this.#reader;
    if (r === null) return;
    let done = 0;
    while (done < FRAMES_PER_TURN) {
      const n = r.read(this.#onSocketFrame);
      this.#rx.publish();
      if (n > 0) {
        done += n;
        continue;
      }
      if (n === 0 && status >= 0) return;
      // The words libpcap would use, so that stopCode reads both paths alike.
      const text = n === 0 || n === -ENETDOWN ? linkState(this.#ifname) : n === -ENODEV || n === -ENXIO ? 'The interface disappeared' : errnoText(-n);
      this.#stopWith(new CaptureError(stopCode(text), this.#ifname, text));
      return;
    }
  }

  /** SocketReader's callback: as #onPacket, without libpcap's header (and so without the kernel's timestamp to trace). */
  readonly #onSocketFrame = (frame: Uint8Array, wireLength: number): void => {
    const ts = process.hrtime.bigint();
    if (frame.length < wireLength) this.#truncated++;
    if (this.#rx.tryStage(frame, ts)) {
      if (this.#trace !== undefined) {
        stamp(this.#trace, TraceHop.RX_CALLBACK, ts);
        stamp(this.#trace, TraceHop.RX_RING);
      }
      this.#frames++;
      this.#bytes += frame.length;
    } else this.#ringDropped++;
  };

  /**
   * The wait-loop (Windows, where libpcap has no selectable descriptor; on Linux when asked): a wait of at most
   * WAIT_SLICE_MS on this thread (see wait.ts), a nonblocking pcap_dispatch when it says frames are there, then a
   * turn of the event loop, so comlink calls are answered between rounds. close() runs only in such a turn: it
   * bumps the generation and this loop ends without touching the closed handle.
   */
  async #waitLoop(generation: number, wait: FrameWaiter): Promise<void> {
    const lib = this.#lib!;
    while (generation === this.#generation) {
      const p = this.#pcap!;
      // Wait first, as the selectable-fd path's poll handle does: a socket error (the interface went down) is
      // reported once, and pcap_dispatch would consume it silently (libpcap 1.10 treats ENETDOWN as "keep waiting").
      const w = wait(WAIT_SLICE_MS);
      if (w !== 'timeout') {
        const n = lib.dispatch(p, FRAMES_PER_DISPATCH, this.#callback!, null);
        this.#rx.publish();
        if (n < 0 || (n === 0 && w === 'error')) {
          // libpcap's words when it has them; else, as #pump does, ask the link itself.
          const text = n < 0 ? lib.geterr(p) : process.platform === 'win32' ? 'waiting for frames failed' : linkState(this.#ifname);
          this.#stopWith(new CaptureError(stopCode(text), this.#ifname, text));
          return;
        }
      }
      await setImmediate();
    }
  }

  #stopWith(err: CaptureError): void {
    this.close();
    this.#lastError = err.toWire();
    this.#onStopped(err);
  }

  /**
   * pcap_dispatch's callback: copy the frame into the rx ring before returning (libpcap reuses the slot).
   * libpcap 1.10 on Linux builds each frame's `struct pcap_pkthdr` in the same stack frame, so the header comes at
   * one address: once it has come there twice in a row, caplen and len are read through a view of it (two loads
   * instead of two koffi calls on bigint sums: the capture thread's CPU in a cold /16 sweep 117 → 107 ms, medians of
   * 12 interleaved runs). Npcap hands over a header inside its buffer, at a new address per frame: those are decoded.
   */
  readonly #onPacket = (_user: unknown, h: Pointer, data: Pointer): void => {
    const ts = process.hrtime.bigint();
    let caplen: number;
    let len: number;
    if (h === this.#hdrAt) {
      caplen = this.#hdr[PKTHDR_CAPLEN_WORD]!;
      len = this.#hdr[PKTHDR_LEN_WORD]!;
    } else {
      caplen = koffi.decode.uint32(h + PKTHDR_CAPLEN);
      len = koffi.decode.uint32(h + PKTHDR_LEN);
      if (h === this.#lastHdrAt) {
        this.#hdrAt = h;
        this.#hdr = new Uint32Array(koffi.view(h, PKTHDR_BYTES));
      }
      this.#lastHdrAt = h;
    }
    if (caplen < len) this.#truncated++;
    const frame = this.#view(data, caplen);
    // Published by #pump/#waitLoop once pcap_dispatch returns: the decode thread is woken once per batch.
    if (this.#rx.tryStage(frame, ts)) {
      if (this.#trace !== undefined) this.#traceFrame(h, ts);
      this.#frames++;
      this.#bytes += caplen;
    } else this.#ringDropped++;
  };

  /** Bench only: the kernel's timestamp (struct timeval at the header's start), the callback's and the ring's. */
  #traceFrame(h: Pointer, callbackNs: bigint): void {
    const wallNs = BigInt(koffi.decode.long(h)) * 1_000_000_000n + BigInt(koffi.decode.long(h + PKTHDR_USEC)) * 1000n;
    stamp(this.#trace, TraceHop.RX_KERNEL, wallNs - this.#wallMinusHrNs);
    stamp(this.#trace, TraceHop.RX_CALLBACK, callbackNs);
    stamp(this.#trace, TraceHop.RX_RING);
  }

  /**
   * The `len` bytes at `ptr`, without a copy. libpcap's TPACKET ring is one mmap'd region and every frame pointer
   * lies in it, so one ArrayBuffer over the whole region (found in /proc/self/maps on the first frame) serves every
   * frame: a subarray costs ~0.8 µs per frame less than a koffi.view per frame (~4.0 against ~0.8 µs for the whole
   * callback, measured). A pointer outside any mapping found falls back to koffi.view.
   */
  #view(ptr: Pointer, len: number): Uint8Array {
    let off = Number(ptr - this.#ringBase); // one bigint operation per frame
    if (off < 0 || off + len > this.#ringU8.length) {
      const m = HAS_PROC_MAPS ? mappingOf(ptr) : undefined;
      if (!m) return new Uint8Array(koffi.view(ptr, len));
      this.#ringBase = m.start;
      this.#ringU8 = new Uint8Array(koffi.view(m.start, Number(m.end - m.start)));
      off = Number(ptr - this.#ringBase);
    }
    return this.#ringU8.subarray(off, off + len);
  }
}

/** What an open chose that the options alone do not say (see LinkInfo). */
type Opened = Pick<LinkInfo, 'bufferBytes' | 'outgoing' | 'ring' | 'fd'>;

/** A capture handle slot's words: libpcap's handle, and a ringless capture's descriptor + 1 and receive area. */
const HANDLE_SLOT_WORDS = 3;

/** A slot for CaptureHandles.handleSlot. */
export function newHandleSlot(): SharedArrayBuffer {
  return new SharedArrayBuffer(HANDLE_SLOT_WORDS * 8);
}

/** The shared mapping (libpcap's packet ring is MAP_SHARED on the socket) that holds `ptr`, if any. */
function mappingOf(ptr: Pointer): { start: bigint; end: bigint } | undefined {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) rw-s /.exec(line);
    if (!m) continue;
    const start = BigInt(`0x${m[1]!}`);
    const end = BigInt(`0x${m[2]!}`);
    if (ptr >= start && ptr < end) return { start, end };
  }
  return undefined;
}

export type { CaptureErrorCode };

