// Which CPUs a thread may run on (Linux sched_setaffinity on the calling thread). A pipeline whose threads share one
// CPU hands work from one to the next with a context switch; across CPUs, on a VM, each hand-off first wakes a
// halted vCPU (measured here: ~40 µs per hop, 4 hops per query). Best effort: where it cannot be done (not Linux,
// a CPU gone offline) nothing changes.
import { libc } from './libc.js';

/** cpu_set_t as glibc sizes it: 1024 CPUs. */
const CPU_SET_BYTES = 128;

/** The CPU the calling thread runs on now; undefined where that cannot be asked. */
export function currentCpu(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  const cpu = libc().sched_getcpu();
  return cpu >= 0 && cpu < CPU_SET_BYTES * 8 ? cpu : undefined;
}

/** Keeps the calling thread on `cpu` from now on. Returns the CPUs it was allowed before, or undefined if unchanged. */
export function pinThread(cpu: number): Uint8Array | undefined {
  if (process.platform !== 'linux' || !Number.isInteger(cpu) || cpu < 0 || cpu >= CPU_SET_BYTES * 8) return undefined;
  const before = new Uint8Array(CPU_SET_BYTES);
  if (libc().sched_getaffinity(0, CPU_SET_BYTES, before) < 0) return undefined;
  const only = new Uint8Array(CPU_SET_BYTES);
  only[cpu >> 3] = 1 << (cpu & 7);
  return libc().sched_setaffinity(0, CPU_SET_BYTES, only) === 0 ? before : undefined;
}

/** Gives the calling thread back the CPUs pinThread returned. */
export function unpinThread(before: Uint8Array): void {
  libc().sched_setaffinity(0, CPU_SET_BYTES, before);
}
