// `ersatz claim ADDR -I IF`: RFC 5227 address conflict detection, probes through announcements (claim$).
import { lastValueFrom, tap } from 'rxjs';
import { Ipv4, type Mac } from '@ersatz/wire';
import { discoverInterface, type InterfaceInfo } from '@ersatz/api';
import { claim$, type ClaimEvent } from '@ersatz/resolve';
import { ipArgument, parseSpec } from '../options.js';
import type { CommandSpec, Options } from '../spec.js';
import { Exit, UsageError, type ExitCode } from '../exit.js';
import { ownAddressInterface } from '../own-address.js';
import { LineWriter } from '../line-writer.js';
import { openSession } from '../session.js';
import { interruption } from '../interrupt.js';
import { privileges, PRIVILEGE_OPTIONS, rawOnly } from '../privileges.js';

const OPTIONS = {
  interface: { type: 'string', short: 'I', arg: 'IF', complete: 'interface', help: 'claim on IF (required; IF need not have ADDR, nor any IPv4 address, yet)' },
  defend: {
    type: 'boolean',
    default: false,
    help:
      'after announcing, keep ADDR (RFC 5227 2.4 b): answer a conflicting ARP with one announcement, unless the previous conflict came ' +
      'within 10 s: then report it and stop. Runs until Ctrl-C.',
  },
  json: {
    type: 'boolean',
    default: false,
    help:
      'JSON Lines: {"type":"event","event":"probing"|"announcing","n"}, {"type":"event","event":"announced"}, ' +
      '{"type":"event","event":"defended"|"conflict","mac",...}, then {"type":"summary","summary":{...}}',
  },
  ...PRIVILEGE_OPTIONS,
} as const satisfies Options;

export const SPEC: CommandSpec<typeof OPTIONS> = {
  name: 'claim',
  usage: 'ersatz claim ADDR --interface IF [--defend] [--json]',
  about: `Claims ADDR on IF as RFC 5227 says, before (or after) the address is configured: waits a random 0-1 s, sends 3
ARP Probes (who-has ADDR from 0.0.0.0, target MAC 00:00:00:00:00:00) a random 1-2 s apart, and if no other host
has spoken for ADDR by 2 s after the last one, sends 2 ARP Announcements (ADDR is-at our MAC: a request with
sender IP = target IP = ADDR) 2 s apart. A conflict is any ARP request or reply from another MAC with sender IP
ADDR (the owner answering our probe, say), or, while probing, another host's probe for ADDR (both back off).
The probes are the safety: an address another host holds is never announced.`,
  options: OPTIONS,
  notes: `ersatz does not configure ADDR on IF: after exit 0, add it ('ip addr add ADDR/LEN dev IF').
Exit codes: 0 claimed (announced), 1 conflict (the other host's MAC is printed), 2 usage or environment error,
130 interrupted (also how --defend ends when no conflict stops it), 143 the same by SIGTERM.`,
  positionals: true,
};

/** `ersatz claim ADDR -I IF`. */
export async function run(argv: string[]): Promise<ExitCode> {
  const args = parseSpec(SPEC, argv, 1);
  if (args === null) return Exit.OK;
  const { values, positionals } = args;
  const become = privileges('claim', values);
  const ip = ipArgument('claim', 'ADDR', positionals[0]);
  if (values.interface === undefined || values.interface === '') throw new UsageError("claim: --interface IF is required: the link to claim ADDR on (list them with 'ip link')");
  if (Ipv4.isUnspecified(ip) || Ipv4.isBroadcast(ip) || Ipv4.isMulticast(ip) || Ipv4.isLoopback(ip)) {
    throw new UsageError(`claim: ${Ipv4.format(ip)} is not an address a host can hold: give a unicast address`);
  }
  const info = await claimInterface(values.interface, ip);
  const out = new LineWriter();
  const interrupt = interruption();
  const session = await openSession('claim', info, { privileges: become }).catch((err: unknown) => {
    throw rawOnly('claim', err);
  });
  const started = Date.now();
  let result: 'announced' | 'conflict' | 'interrupted' = 'interrupted';
  let conflictMac: Mac | null = null;
  let probes = 0;
  let announcements = 0;
  let defences = 0;
  try {
    const link = session.link;
    const who = `${Ipv4.format(ip)} on ${link.ifname} (${link.mac})`;
    if (!values.json) out.line(`Claiming ${who}: RFC 5227, 3 probes then 2 announcements`);
    const line = (e: ClaimEvent): string => {
      switch (e.type) {
        case 'probing':
          return `probe ${e.n}: who-has ${Ipv4.format(ip)} tell 0.0.0.0`;
        case 'announcing':
          return `announcement ${e.n}: ${Ipv4.format(ip)} is-at ${link.mac}`;
        case 'announced':
          return `${Ipv4.format(ip)} claimed on ${link.ifname}${values.defend ? ': defending it (Ctrl-C to stop)' : ''}`;
        case 'defended':
          return `defended ${Ipv4.format(ip)} against ${e.mac} with one announcement`;
        case 'conflict':
          return `conflict: ${Ipv4.format(ip)} is in use by ${e.mac} (${e.kind === 'probe' ? 'it is probing for it too' : 'it sent ARP as that address'}${e.phase === 'probing' ? '' : `, while ${e.phase}`})`;
      }
    };
    await lastValueFrom(
      claim$(link, ip, { defend: values.defend, stop$: interrupt.stop$ }).pipe(
        tap((e) => {
          if (e.type === 'probing') probes = e.n;
          else if (e.type === 'announcing') announcements = e.n;
          else if (e.type === 'defended') defences++;
          else if (e.type === 'announced') result = 'announced';
          else if (e.type === 'conflict') {
            result = 'conflict';
            conflictMac = e.mac;
          }
          if (!values.json) return out.line(line(e));
          const fields = e.type === 'probing' || e.type === 'announcing' ? { n: e.n } : e.type === 'defended' ? { mac: e.mac } : e.type === 'conflict' ? { mac: e.mac, kind: e.kind, phase: e.phase } : {};
          out.line(JSON.stringify({ type: 'event', event: e.type, ...fields, atMs: Date.now() - started }));
        }),
      ),
      { defaultValue: undefined },
    );
    if (interrupt.fired) result = 'interrupted';
    if (values.json) {
      out.line(JSON.stringify({ type: 'summary', summary: { ip: Ipv4.format(ip), interface: link.ifname, mac: link.mac, result, conflictMac, probes, announcements, defences, elapsedMs: Date.now() - started } }));
    }
    return result === 'interrupted' ? interrupt.code : result === 'conflict' ? Exit.NO_REPLY : Exit.OK;
  } finally {
    out.flush();
    interrupt.dispose();
    await session.close();
  }
}

/**
 * IF, which need not have any IPv4 address yet. When ADDR is already one of IF's (claiming it again, as RFC 5227
 * asks after a link comes back), the route lookup calls it local: then IF's own description serves.
 */
async function claimInterface(ifname: string, ip: Ipv4): Promise<InterfaceInfo> {
  try {
    return await discoverInterface({ ifname, target: ip, unaddressed: true });
  } catch (err) {
    const info = await ownAddressInterface(err, ip, ifname, true);
    if (!info.addresses.includes(ip)) throw new UsageError(`claim: ${Ipv4.format(ip)} is an address of this host on another interface, not ${ifname}: claim it there`);
    return info;
  }
}
