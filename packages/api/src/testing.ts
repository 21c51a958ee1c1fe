// Test and chaos hooks: `@ersatz/api/testing`, inside this repository only (the published package bundles the
// main entry point alone), so they stay out of the public types.
import type { Stage } from '@ersatz/pipeline';
import type { Link } from './link.js';
import { pipelineOf } from './open.js';

/**
 * Terminates one of `link`'s worker threads as a crash would. Resolves once the pipeline has restarted it, or
 * given up (then every query on the link fails with WorkerCrashLoopError).
 */
export function simulateCrash(link: Link, stage: Stage): Promise<void> {
  const pipeline = pipelineOf(link);
  if (pipeline === undefined) throw new TypeError('simulateCrash: not a link from openLink');
  return pipeline.simulateCrash(stage);
}
