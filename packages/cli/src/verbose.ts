// -v/--verbose on any command, or NODE_DEBUG=ersatz (Node's own switch for a module's debug output): what ersatz
// found and how its pipeline fared, on stderr, for a run that does not do what was expected.
import { debuglog } from 'node:util';
import { Ipv4 } from '@ersatz/wire';
import type { InterfaceInfo, Link } from '@ersatz/api';

let on = debuglog('ersatz').enabled;

/** Turns the trace on (parseCommand does it for -v); NODE_DEBUG=ersatz has it on from the start. */
export function beVerbose(): void {
  on = true;
}

/** One trace line, `ersatz: COMMAND: …`; `text` is only built when the trace is on. */
export function trace(command: string, text: () => string): void {
  if (on) process.stderr.write(`ersatz: ${command}: ${text()}\n`);
}

// Moments of a one-shot run, ms since the process started (performance.now()). Noted whether or not the trace is on
// (-v is only parsed once the command has loaded), printed by traceTimeline when it is: where a cold start's time
// goes, which the bench's cold-timeline rows read.
const moments: string[] = [];

/** Notes that the run reached `what` now. For moments that happen once a run (a handful of entries). */
export function mark(what: string): void {
  moments.push(`${what} ${performance.now().toFixed(1)}`);
}

/** `ersatz: COMMAND: timeline (ms since the process started): what ms, …` with the moments marked so far. */
export function traceTimeline(command: string): void {
  trace(command, () => `timeline (ms since the process started): ${moments.join(', ')}`);
}

/** What discovery found and how long the workers took to start. */
export function traceOpen(command: string, info: InterfaceInfo, openMs: number): void {
  trace(command, () => {
    const via = info.gateway === null ? 'on the link' : `via gateway ${Ipv4.format(info.gateway)}`;
    return `interface ${info.ifname} (index ${info.ifindex}), ${info.mac}, ${Ipv4.format(info.ip)}/${info.prefixLen}; ARP target ${Ipv4.format(info.target)} ${via}; pipeline open in ${openMs.toFixed(1)} ms`;
  });
}

/** The pipeline's counters as the run ends (every frame captured, decoded, sent or dropped, by stage). */
export async function traceStats(command: string, link: Link): Promise<void> {
  if (!on) return;
  try {
    const s = await link.stats();
    trace(command, () => `pipeline stats ${JSON.stringify(s)}`);
  } catch (err) {
    trace(command, () => `pipeline stats unavailable: ${(err as Error).message}`);
  }
}
