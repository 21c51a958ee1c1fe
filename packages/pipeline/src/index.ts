/**
 * @ersatz/pipeline: the live capture → decode → transmit pipeline on one interface (see Pipeline).
 *
 * ```ts
 * const p = await Pipeline.open({ ifname: 'ez0', filter: 'arp' });
 * p.events$.subscribe((ev) => console.log(ev));          // { kind: 'arp', tsNs, ethSrc, ethDst, vlan, arp }
 * const ticket = p.send(frame);                            // copied into the tx ring; -1 when it is full
 * await p.close();                                         // no thread, socket or timer left behind
 * ```
 */
export { Pipeline } from './pipeline.js';
export type { PipelineOptions, PipelineStats, CapturedFrame, Recovery } from './options.js';
export { PipelineError, PipelineOptionError, WorkerExitError, WorkerTimeoutError, WorkerCrashLoopError, InterfaceLostError, type Stage } from './error.js';
export type { ArpEvent, IcmpEvent, PipelineEvent, DecodeStats } from '@ersatz/decode-worker';
export { CaptureError, type CaptureErrorCode, type CaptureStats, type CaptureWait, type LinkInfo } from '@ersatz/capture-worker';
export { TransmitError, type TransmitStats, type TransmitInfo, type TransmitVia } from '@ersatz/transmit-worker';
export { Supervisor, DEFAULT_POLICY, type SupervisorPolicy, type SupervisorOptions, type Action, type LinkStage } from './supervisor.js';
