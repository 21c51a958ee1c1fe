// Tests that run ersatz as another user (nobody) need a checkout that user can reach. A clone in a 0700 folder (what
// `mktemp -d` makes, and many home folders are) is not: for those, a hard-linked copy in a fresh 0755 folder.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import type { ExecutionContext } from 'ava';

/** The repository root (ava runs from it). */
const ROOT = resolve('.');
// What running the CLI and the probes needs: the builds and the packages they import (.git and sources stay).
const PARTS = ['package.json', 'dist', 'build', 'packages', 'workers', 'node_modules'];

/** Whether every folder from `/` down to `dir` lets other users through. */
function othersReach(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === dirname(d)) return true;
  }
}

/**
 * The checkout's root as another user can reach it: ROOT itself when every folder above it lets others through,
 * else a copy (`cp -al`: hard links, so it costs folders only; a real copy across filesystems) that is removed when
 * the test ends. `path(p)` maps a path inside the checkout to the same file in that root.
 */
export function readableCheckout(t: ExecutionContext): { root: string; path(p: string): string } {
  if (othersReach(ROOT)) return { root: ROOT, path: (p) => p };
  const root = mkdtempSync(join(tmpdir(), 'ersatz-ro-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  chmodSync(root, 0o755);
  const from = PARTS.map((p) => join(ROOT, p));
  try {
    execFileSync('cp', ['-al', ...from, root], { stdio: 'pipe' });
  } catch {
    execFileSync('cp', ['-a', ...from, root], { stdio: 'pipe' });
  }
  return { root, path: (p) => join(root, relative(ROOT, p)) };
}
