// Running the real `ersatz` command inside a lab namespace, and capturing what a peer sees with tcpdump.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ExecutionContext } from 'ava';
import { isEndMark, type Lab, type RunResult } from '@ersatz/lab';
import { readPcapFile, type PcapRecord } from '@ersatz/pcap';

/** The built command (ava runs from the repository root). */
export const MAIN = resolve('dist/main.js');

/**
 * Runs `ersatz ARGS...` in `ns` and waits for it. `timeoutMs` (default 60 s) only catches a hang: every command the
 * tests run ends by its own count, so a busy machine never gets near it, and a killed run reports where it was.
 */
export function ersatz(lab: Lab, ns: string, args: readonly string[], timeoutMs = 60_000): Promise<RunResult> {
  return lab.exec(ns, ['node', MAIN, ...args], { timeoutMs });
}

/** Starts `ersatz ARGS...` in `ns` without waiting; the lab kills it on destroy. */
export function startErsatz(lab: Lab, ns: string, args: readonly string[]): ReturnType<Lab['start']> {
  return lab.start(ns, ['node', MAIN, ...args]);
}

/** Every stdout line parsed as JSON (a line that is not JSON fails the parse, and so the test). */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** `r` printed for a failed assertion: exit code and both streams. */
export function show(r: RunResult): string {
  const stuck = r.stuck === undefined ? '' : `--- killed at its timeout, stuck in\n${r.stuck}\n`;
  return `exit ${r.code ?? r.signal}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}${stuck}`;
}

/** A scratch directory removed when the test ends. */
export function scratchDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ersatz-cmd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A running tcpdump writing `file`. */
export interface Capture {
  readonly file: string;
  /** Stops tcpdump once it has every frame that crossed before (Lab.capture) and returns them, the end mark left out. */
  stop(): Promise<PcapRecord[]>;
}

/**
 * Starts `tcpdump -i IF -w FILE FILTER` in `ns` (immediate, packet-buffered) and resolves once it is listening, so
 * nothing sent afterwards is missed. Rejects when tcpdump exits first (saying why) or hangs.
 */
export async function tcpdump(lab: Lab, ns: string, ifname: string, file: string, filter: readonly string[]): Promise<Capture> {
  // -Z root: tcpdump would otherwise drop to its own user and could not write into our private scratch directory.
  // --print: it also prints each frame, which is how stop() sees the end-of-capture mark arrive. -s 2048: whole
  // Ethernet frames, and a ring of ~1000 of them; at the default 256 KiB snap length immediate mode's 2 MiB ring holds
  // 8, and a burst of 200 pings lost 168 (test/lab-capture.test.ts).
  const capture = await lab.capture(ns, ifname, ['-Z', 'root', '-n', '-U', '--immediate-mode', '-s', '2048', '-w', file, '--print'], filter);
  return {
    file,
    async stop() {
      await capture.stop();
      const frames = [...(await readPcapFile(file))];
      const mark = frames.findIndex((f) => isEndMark(f.data));
      return mark < 0 ? frames : frames.slice(0, mark);
    },
  };
}

/** Reads a pcap file with `tcpdump -r` in `ns` (-n -e, one line per frame); throws when tcpdump fails. */
export function tcpdumpRead(lab: Lab, ns: string, file: string, extra: readonly string[] = []): string[] {
  return lab
    .sh(ns, ['tcpdump', '-r', file, '-n', '-e', ...extra])
    .split('\n')
    .filter((l) => l !== '');
}

/** Hex of bytes, for readable byte comparisons in failure output. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
