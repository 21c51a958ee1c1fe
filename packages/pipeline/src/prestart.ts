// Starting the pipeline's threads before it exists: much of a one-shot command's time is Node starting threads
// (profiled here: ~40 ms of CPU per thread, with its code and koffi), and they can start while the command still
// loads its own code and discovers the interface. The pipeline opened next takes them (startThread); unused, they
// hold the process only until their code is loaded (see prestartThread). A module of its own that loads no worker
// code, koffi or rxjs: the CLI calls it first.
import { prestartThread, type ThreadScript } from '@ersatz/ring';
import { captureThread } from '@ersatz/capture-worker/script';
import { decodeThread } from '@ersatz/decode-worker/script';
import { transmitThread } from '@ersatz/transmit-worker/script';

/** The pipeline's three threads by stage: their scripts and names (what their OS threads are called on Linux). */
export function stageThreads(): Record<'capture' | 'decode' | 'transmit', ThreadScript> {
  return { capture: captureThread(), decode: decodeThread(), transmit: transmitThread() };
}

/** Starts the capture, decode and transmit threads for the next pipeline this process opens. */
export function prestartPipeline(): void {
  for (const thread of Object.values(stageThreads())) prestartThread(thread);
}
