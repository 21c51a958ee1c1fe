// The CPU of the thread that opens pipelines with sameCpu (PipelineOptions.sameCpu): the first such pipeline pins
// it, the last to close gives its CPUs back. Per thread, as module state is: a worker thread opening one has its own.
import { pinThread, unpinThread } from '@ersatz/os';

let open = 0;
let before: Uint8Array | undefined;

export function pinCaller(cpu: number): void {
  if (open++ === 0) before = pinThread(cpu);
}

export function unpinCaller(): void {
  if (--open > 0 || before === undefined) return;
  unpinThread(before);
  before = undefined;
}
