import { UsageError, type ExitCode } from '../exit.js';

// PLACEHOLDER until the resolve command lands: replaced by its owner, never shipped as done.
export async function run(_argv: string[]): Promise<ExitCode> {
  throw new UsageError('resolve: not built yet');
}
