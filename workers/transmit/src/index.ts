/**
 * The transmit worker: reads frames from the tx ring and puts them on the wire through an AF_PACKET socket
 * (koffi: socket, bind, sendmmsg) or, on Windows and on request, libpcap's pcap_sendpacket (wpcap.dll / libpcap.so),
 * honouring each frame's "do not send before" time. Control calls go over comlink;
 * frames never do.
 */
import type { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { startThread } from '@ersatz/ring';
import { transmitThread } from './script.js';
import type { TransmitApi, TransmitHandles } from './types.js';

export { newSocketSlot, defaultTransmitVia, type TransmitVia } from './sender.js';
export { sendErrorCode } from './pcap-sender.js';
export { TransmitError, CAP_NET_RAW_HINT, errnoName, type TransmitErrorWire } from './error.js';
export type { TransmitApi, TransmitHandles, TransmitIncident, TransmitInfo, TransmitOptions, TransmitStats } from './types.js';

/**
 * Starts a transmit worker reading `handles.tx` (it becomes the ring's only reader); nothing is sent before open().
 * Returns the thread and its comlink proxy. Rejections carry `TransmitErrorWire`: rebuild with
 * `TransmitError.fromWire`. The worker posts `TransmitIncident`s on `handles.incidents` when given.
 */
export function spawnTransmit(handles: TransmitHandles): { worker: Worker; api: Comlink.Remote<TransmitApi> } {
  const worker = startThread(transmitThread(), handles, handles.incidents ? [handles.incidents] : []);
  return { worker, api: Comlink.wrap<TransmitApi>(nodeEndpoint(worker)) };
}
