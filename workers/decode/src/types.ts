import type { RingHandle } from '@ersatz/ring';
import type { DecoderCounts } from './decoder.js';

/** What the worker is given as its first message (startThread). It becomes the reader of `rx` and the writer of the others. */
export interface DecodeHandles {
  /** Captured frames in (from the capture worker). */
  readonly rx: RingHandle;
  /** Event records out (to the main thread). */
  readonly events: RingHandle;
  /** Raw frames out, when the supervisor keeps them (for --pcap): see DecodeApi.forwardFrames. */
  readonly frames?: RingHandle;
  /** Per-hop timestamps for the bench (`createTrace()` in @ersatz/ring); absent: no tracing. */
  readonly trace?: SharedArrayBuffer;
}

export interface DecodeStats extends DecoderCounts {
  /** Events the events ring refused because it was full (the main thread fell behind). */
  readonly eventsDropped: number;
  /** Raw frames the frames ring refused. */
  readonly framesDropped: number;
  /** Whether raw frames are being forwarded into the frames ring. */
  readonly forwarding: boolean;
}

/** Control calls, over comlink. Frames and events never travel this way. */
export interface DecodeApi {
  /** Reads from `rx` from now on (after the capture worker was restarted with a new ring); drains the old one first. */
  setInput(rx: RingHandle): Promise<void>;
  /** Starts or stops copying every raw frame into the frames ring. Rejects when the worker has no frames ring. */
  forwardFrames(on: boolean): Promise<void>;
  stats(): Promise<DecodeStats>;
  /** Stops the loop and closes the events and frames rings (which wakes their reader). Idempotent. */
  close(): Promise<void>;
  /** Keeps this thread on `cpu` from now on (PipelineOptions.sameCpu; Linux, best effort). */
  pinTo(cpu: number): Promise<void>;
}
