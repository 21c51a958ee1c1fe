/**
 * The decode worker: reads captured frames from the rx ring, decodes them with @ersatz/wire and writes compact event
 * records (ARP, ICMP echo) into the events ring, which the main thread turns back into objects with `readEvent`.
 * Malformed frames are counted by reason and skipped; no input can stop the worker.
 */
import type { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { startThread } from '@ersatz/ring';
import { decodeThread } from './script.js';
import type { DecodeApi, DecodeHandles } from './types.js';

export type { DecodeApi, DecodeHandles, DecodeStats } from './types.js';
export { FrameDecoder, Outcome, reasonOf, type DecoderCounts } from './decoder.js';
export {
  ARP_RECORD_LEN,
  BODY,
  EventKind,
  EventRecordError,
  IcmpRec,
  MAX_RECORD_BYTES,
  NdpRec,
  readEvent,
  type ArpEvent,
  type IcmpErrorQuote,
  type IcmpEvent,
  type IcmpObservation,
  type NdpEvent,
  type NdpObservation,
  type PipelineEvent,
} from './event-record.js';

/** Starts a decode worker on the given rings (it starts reading at once). Returns the thread and its comlink proxy. */
export function spawnDecode(handles: DecodeHandles): { worker: Worker; api: Comlink.Remote<DecodeApi> } {
  const worker = startThread(decodeThread(), handles);
  return { worker, api: Comlink.wrap<DecodeApi>(nodeEndpoint(worker)) };
}
