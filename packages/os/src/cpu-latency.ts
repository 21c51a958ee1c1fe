// A PM QoS CPU latency request (Linux, /dev/cpu_dma_latency): while its descriptor is open the kernel keeps every
// idle CPU in idle states it leaves within the requested µs, and 0 keeps them polling instead of halting (cyclictest
// holds the same request). Why a pipeline may want it: on a VM a halted vCPU takes tens of µs to wake (an exit to the
// hypervisor and back), and a query hands work between threads on different CPUs four times (see
// PipelineOptions.idlePoll for what it measured). What it costs: every idle CPU of the machine polls until the
// request is released (power on bare metal, the host's CPU time on a VM).
import { closeSync, constants, openSync, writeSync } from 'node:fs';

/** The kernel's PM QoS device for CPU wake-up latency: root's alone (mode 0600). */
export const CPU_LATENCY_DEVICE = '/dev/cpu_dma_latency';

/** The largest request the device takes: an s32. */
const MAX_US = 2 ** 31 - 1;

/**
 * Asks the kernel that idle CPUs wake within `us` µs (0: poll, never halt) until the returned function is called.
 * Throws RangeError for `us` that is not a whole number from 0 to 2^31 − 1 (the device reads an s32), else the open's
 * or write's system error as it is (`code` EACCES without root, ENOENT where the kernel has no such device); nothing
 * is held then. `device` is for tests.
 */
export function holdCpuLatency(us: number, device = CPU_LATENCY_DEVICE): () => void {
  if (!Number.isInteger(us) || us < 0 || us > MAX_US) throw new RangeError(`a CPU latency request is a whole number of µs from 0 to ${MAX_US}, not ${us}`);
  // O_WRONLY alone: `w` would add O_CREAT, and a missing device would become a plain file in /dev.
  const fd = openSync(device, constants.O_WRONLY);
  try {
    writeSync(fd, new Uint8Array(Int32Array.of(us).buffer)); // an s32 in the machine's byte order
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    closeSync(fd); // the kernel drops the request with the last reference to the open file
  };
}
