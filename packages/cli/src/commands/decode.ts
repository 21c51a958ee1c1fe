import { UsageError, type ExitCode } from '../exit.js';

// PLACEHOLDER until the decode command lands: replaced by its owner, never shipped as done.
export async function run(_argv: string[]): Promise<ExitCode> {
  throw new UsageError('decode: not built yet');
}
