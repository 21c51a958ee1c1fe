// PipelineOptions.idlePoll: the CPU latency request a pipeline holds while open, and what to say when it cannot.
import { CPU_LATENCY_DEVICE, errnoText, holdCpuLatency } from '@ersatz/os';
import { PipelineError } from './error.js';

/** Holds a 0 µs CPU latency request (Linux; elsewhere nothing) until the returned function is called. Throws PipelineError. */
export function holdIdlePoll(): () => void {
  if (process.platform !== 'linux') return () => {};
  try {
    return holdCpuLatency(0);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const code = e.code ?? 'error';
    const what =
      code === 'EACCES' || code === 'EPERM'
        ? 'it is root\'s alone: run as root, or open the link without idlePoll'
        : code === 'ENOENT'
          ? 'this kernel has no PM QoS device: open the link without idlePoll'
          : typeof e.errno === 'number'
            ? errnoText(-e.errno) // Node's fs errors carry the negative errno
            : e.message;
    // The system error stays as the cause (its code and errno), for a caller that tells them apart.
    throw new PipelineError(`idlePoll: cannot hold a CPU latency request on ${CPU_LATENCY_DEVICE} (${code}): ${what}`, { cause: err });
  }
}
