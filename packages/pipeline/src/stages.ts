// The three stages as data: how each spawns, which rings it reads and writes, how a live one moves to a fresh ring,
// what makes a new thread work, and its incidents. The pipeline restarts any of them with the same few lines.
import { setTimeout } from 'node:timers/promises';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { RingHandle } from '@ersatz/ring';
import { CaptureError, spawnCapture, type CaptureApi, type CaptureIncident, type CaptureOptions, type LinkInfo } from '@ersatz/capture-worker';
import { spawnDecode, type DecodeApi } from '@ersatz/decode-worker';
import { TransmitError, spawnTransmit, type TransmitApi, type TransmitIncident, type TransmitInfo, type TransmitOptions } from '@ersatz/transmit-worker';
import type { Stage } from './error.js';
import { Thread } from './thread.js';

/** The pipeline's rings. `frames` exists only when raw frames are kept. */
export interface Rings {
  rx: RingHandle;
  events: RingHandle;
  frames: RingHandle | undefined;
  tx: RingHandle;
}
export type RingName = keyof Rings;

/** Who writes and who reads each ring; 'main' is the pipeline's own thread. A ring's ends are claimed once. */
export const RING_ENDS: Record<RingName, readonly [writer: Stage | 'main', reader: Stage | 'main']> = {
  rx: ['capture', 'decode'],
  events: ['decode', 'main'],
  frames: ['decode', 'main'],
  tx: ['main', 'transmit'],
};

/** What every spawn may need besides the rings: the OS handle slots, the shared logs, the trace. */
export interface Shared {
  readonly captureSlot: SharedArrayBuffer;
  readonly transmitSlot: SharedArrayBuffer;
  readonly departures: SharedArrayBuffer;
  readonly trace: SharedArrayBuffer | undefined;
  readonly captureOpts: CaptureOptions;
  readonly transmitOpts: TransmitOptions;
  readonly keepFrames: boolean;
  /** The one CPU every thread keeps to (PipelineOptions.sameCpu); undefined: any. */
  readonly cpu: number | undefined;
}

/** What a stage's thread reports on its own: its socket stopped (interface down or gone), or sends are failing. */
export type Incident = { readonly stage: 'capture'; readonly error: CaptureError } | { readonly stage: 'transmit'; readonly error: TransmitError };

export interface StageSpec<Api, Opened> {
  /** The rings it reads or writes: a fresh thread needs fresh ones (a dead thread's end cannot be claimed again). */
  readonly rings: readonly RingName[];
  spawn(rings: Rings, shared: Shared, onIncident: (i: Incident) => void): Thread<Api>;
  /** Moves a live thread of this stage onto a fresh ring whose other end restarted. */
  attach(t: Thread<Api>, ring: RingName, handle: RingHandle): Promise<void>;
  /** Makes a fresh thread work: opens its socket, or starts forwarding frames. Returns what was opened. */
  start(t: Thread<Api>, shared: Shared): Promise<Opened>;
  /** Ends the thread the way a crash would. */
  crash(t: Thread<Api>): Promise<void>;
}

export interface Threads {
  capture: Thread<CaptureApi>;
  decode: Thread<DecodeApi>;
  transmit: Thread<TransmitApi>;
}

export const STAGES: { capture: StageSpec<CaptureApi, LinkInfo>; decode: StageSpec<DecodeApi, void>; transmit: StageSpec<TransmitApi, TransmitInfo> } = {
  capture: {
    rings: ['rx'],
    spawn: (r, s, onIncident) => {
      const incidents = channel<CaptureIncident>((m) => onIncident({ stage: 'capture', error: CaptureError.fromWire(m.error) as CaptureError }));
      const { worker, api } = spawnCapture({ rx: r.rx, handleSlot: s.captureSlot, incidents: incidents.port, ...traced(s), ...pinned(s) });
      return incidents.until(new Thread('capture', worker, api, CaptureError.fromWire));
    },
    attach: (t, _ring, rx) => t.call('setOutput', (a) => a.setOutput(rx)),
    start: (t, s) => t.call('open', (a) => a.open(s.captureOpts)),
    // Not terminate(): ending the thread while its libpcap poll is live aborts the process inside koffi (see
    // workers/capture/src/main.ts). An uncaught error closes the capture first; terminate only if it did not die.
    crash: async (t) => {
      await t.call('simulateCrash', (a) => a.simulateCrash()).catch(() => {});
      if (!(await Promise.race([t.exited.then(() => true), setTimeout(2000, false, { ref: false })]))) await t.terminate();
    },
  },
  decode: {
    rings: ['rx', 'events', 'frames'],
    spawn: (r, s) => {
      const { worker, api } = spawnDecode({ rx: r.rx, events: r.events, ...(r.frames ? { frames: r.frames } : {}), ...traced(s) });
      return new Thread('decode', worker, api, (e) => e);
    },
    attach: (t, _ring, rx) => t.call('setInput', (a) => a.setInput(rx)),
    start: async (t, s) => {
      // Awaited like the others' open: a thread ended while it loads koffi to pin itself would abort the process.
      const { cpu } = s;
      if (cpu !== undefined) await t.call('pinTo', (a) => a.pinTo(cpu));
      if (s.keepFrames) await t.call('forwardFrames', (a) => a.forwardFrames(true));
    },
    crash: (t) => t.terminate(),
  },
  transmit: {
    rings: ['tx'],
    spawn: (r, s, onIncident) => {
      const incidents = channel<TransmitIncident>((m) => onIncident({ stage: 'transmit', error: TransmitError.fromWire(m.error) as TransmitError }));
      const { worker, api } = spawnTransmit({ tx: r.tx, socketSlot: s.transmitSlot, departures: s.departures, incidents: incidents.port, ...traced(s), ...pinned(s) });
      return incidents.until(new Thread('transmit', worker, api, TransmitError.fromWire));
    },
    attach: async () => {}, // its only ring's other end is the main thread
    start: (t, s) => t.call('open', (a) => a.open(s.transmitOpts)),
    crash: (t) => t.terminate(),
  },
};

/** A stage's descriptor, for code that handles every stage alike (its Api and what it opens unknown there). */
export function specOf(stage: Stage): StageSpec<unknown, unknown> {
  return STAGES[stage] as StageSpec<unknown, unknown>;
}

function traced(s: Shared): { trace?: SharedArrayBuffer } {
  return s.trace === undefined ? {} : { trace: s.trace };
}

/** Capture and transmit pin themselves as they start (koffi is loaded there anyway); decode is asked in start(). */
function pinned(s: Shared): { cpu?: number } {
  return s.cpu === undefined ? {} : { cpu: s.cpu };
}

/**
 * A typed channel for one thread's incidents, apart from its comlink port: `port` goes to the worker, messages
 * reach `on`, and the channel closes when the thread ends. It never keeps the process alive by itself.
 */
function channel<M>(on: (m: M) => void): { port: MessagePort; until<T extends Thread<unknown>>(t: T): T } {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', on);
  port1.unref();
  return {
    port: port2,
    until: (t) => {
      void t.exited.then(() => port1.close());
      return t;
    },
  };
}
