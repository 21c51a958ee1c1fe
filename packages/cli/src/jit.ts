// V8 settings of our own process. V8 flags are the whole process's, so the library leaves them alone.
import { setFlagsFromString } from 'node:v8';

/**
 * A smaller TurboFan inlining budget, for a sweep: its hot loops (in four threads) run for well under a second, and
 * optimizing them with V8's default budget (920 bytecode bytes inlined per function) cost a /16 sweep ~270 ms of
 * CPU on V8's compiler threads, competing with ours on 2 vCPUs; at 150, ~90 ms less, and the sweep takes ~9 % less
 * time on Node 20, a second sweep in the same process no more (issue #12 note, interleaved runs; Node 24, whose V8
 * optimizes in two tiers, showed no difference either way). Call it once the link is open: any flag change also
 * changes the hash that Node's built-in code cache is checked against, so a thread started after it compiles Node's
 * internal modules from source (the three threads' start took ~20–40 ms more, measured).
 */
export function tuneJitForSweep(): void {
  setFlagsFromString('--max-inlined-bytecode-size-cumulative=150');
}
