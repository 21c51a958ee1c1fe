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
