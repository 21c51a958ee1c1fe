// `ersatz neigh show|add|del|flush|watch`: the kernel's IPv4 neighbour (ARP) table, over rtnetlink (or the old
// SIOCSARP/SIOCDARP ioctls with --via ioctl).
import { isIP } from 'node:net';
import { identity, lastValueFrom, take, takeUntil, tap, timer, type Observable } from 'rxjs';
import { Cidr, Ipv4, Ipv6, Mac, WireError } from '@ersatz/wire';
import {
  CAP_NET_ADMIN_HINT,
  DiscoveryError,
  InvalidNeighbourError,
  NetlinkPermissionError,
  NetlinkSystemError,
  addNeighbour,
  checkIp,
  checkMac,
  deleteNeighbour,
  flushNeighbours,
  flushNeighbours6,
  neighbours,
  neighbours$,
  neighbours6,
  Ntf,
  NtfExt,
  type Neighbour6Entry,
  parseNeighStates,
  SHOW_STATES,
  type NeighEvent,
  type Neigh6Event,
  type NeighState,
  type NeighbourEntry,
  type SettableNeighState,
} from '@ersatz/netlink';
import { Exit, UsageError, type ExitCode } from '../exit.js';
import { interruption } from '../interrupt.js';
import { intOption, parseSpec } from '../options.js';
import { Cap } from '@ersatz/os/caps';
import { giveUpRoot, privileges } from '../privileges.js';
import { ADD, DEL, FLUSH, NEIGH_HELP, SHOW, STATES, WATCH } from './neigh-spec.js';

export { SPECS } from './neigh-spec.js';

/** Runs `neigh` with its own argv; returns the exit code. Throws UsageError for bad usage or environment. */
export async function run(argv: string[]): Promise<ExitCode> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') return help();
  try {
    // As `ip neigh`: no subcommand (or options only) shows the table.
    if (sub === undefined || sub.startsWith('-')) return show(argv);
    switch (sub) {
      case 'show':
        return show(rest);
      case 'add':
        return await add(rest);
      case 'del':
      case 'delete':
        return await del(rest);
      case 'flush':
        return flush(rest);
      case 'watch':
        return await watch(rest);
      default:
        throw new UsageError(`neigh: unknown subcommand ${JSON.stringify(sub)}: choose show, add, del, flush or watch ('ersatz neigh --help')`);
    }
  } catch (err) {
    throw userFacing(err);
  }
}

function show(argv: string[]): ExitCode {
  const args = parseSpec(SHOW, argv);
  if (args === null) return Exit.OK;
  const { values, positionals } = args;
  const states = values.state === undefined ? SHOW_STATES : stateArgument(values.state, 'show');
  const table = tableArgument('neigh show', values.ipv6, positionals);
  const f = { ...(values.interface !== undefined && { ifname: values.interface }), proxy: values.proxy, states };
  const entries = table.v6 ? neighbours6({ ...f, ...(table.to && { to: table.to }) }) : neighbours({ ...f, ...(table.to && { to: table.to }) });
  process.stdout.write(values.json ? `${JSON.stringify(entries.map(toJson))}\n` : entries.map((e) => `${entryLine(e)}\n`).join(''));
  return Exit.OK;
}

function flush(argv: string[]): ExitCode {
  const args = parseSpec(FLUSH, argv);
  if (args === null) return Exit.OK;
  const { values, positionals } = args;
  const ifname = requireInterface('neigh flush', values.interface);
  const states = values.state === undefined ? {} : { states: stateArgument(values.state, 'flush') };
  const table = tableArgument('neigh flush', values.ipv6, positionals);
  const result = table.v6 ? flushNeighbours6({ ifname, ...states, ...(table.to && { to: table.to }) }) : flushNeighbours({ ifname, ...states, ...(table.to && { to: table.to }) });
  if (result.complete) return Exit.OK;
  process.stderr.write(`ersatz: neigh flush: entries still matched after 10 rounds (deleted ${result.deleted.length}): the kernel keeps re-creating them\n`);
  return Exit.NO_REPLY;
}

async function add(argv: string[]): Promise<ExitCode> {
  const args = parseSpec(ADD, argv);
  if (args === null) return Exit.OK;
  const { values, positionals } = args;
  const [ipText, macText, extra] = positionals;
  if (ipText === undefined || macText === undefined || extra !== undefined) throw new UsageError("neigh add: give IP and MAC: ersatz neigh add IP MAC --interface IF");
  const ip = parseIp('neigh add', ipText);
  const mac = parseMac('neigh add', macText);
  const ifname = requireInterface('neigh add', values.interface);
  const state = values.state as SettableNeighState;
  if (!STATES.includes(state)) throw new UsageError(`neigh add: --state ${JSON.stringify(values.state)}: choose ${STATES.join(', ')}`);
  const via = parseVia('neigh add', values.via);
  if (typeof ip === 'string' && via === 'ioctl') throw new UsageError("neigh add: --via ioctl is ARP's (SIOCSARP): IPv6 entries go through netlink");
  await giveUpRoot('neigh add', privileges('neigh add', values), [Cap.NET_ADMIN]); // through sudo: the store needs only this
  if (via === 'netlink' || typeof ip === 'string') {
    addNeighbour({ ip, mac, ifname, state, replace: values.replace });
    return Exit.OK;
  }
  if (state === 'reachable') throw new UsageError("neigh add: --via ioctl sets permanent or stale entries only (SIOCSARP has no REACHABLE): use --via netlink");
  const ioctl = await import('@ersatz/ioctl');
  // SIOCSARP always overwrites: keep 'add' meaning add, as it does over netlink.
  if (!values.replace && ioctl.arpGet(ip, ifname) !== null) throw new UsageError(`neigh add: ${ipText} already has an entry on ${ifname}: pass --replace to change it`);
  ioctl.arpSet({ ip, mac, ifname, permanent: state === 'permanent' });
  return Exit.OK;
}

async function del(argv: string[]): Promise<ExitCode> {
  const args = parseSpec(DEL, argv);
  if (args === null) return Exit.OK;
  const { values, positionals } = args;
  const [ipText, extra] = positionals;
  if (ipText === undefined || extra !== undefined) throw new UsageError('neigh del: give one IP: ersatz neigh del IP --interface IF');
  const ip = parseIp('neigh del', ipText);
  const ifname = requireInterface('neigh del', values.interface);
  const missing = (): ExitCode => {
    process.stderr.write(`ersatz: neigh del: no ${values.proxy ? 'proxy entry' : 'entry'} for ${ipText} on ${ifname}\n`);
    return Exit.NO_REPLY;
  };
  const via = parseVia('neigh del', values.via);
  if (typeof ip === 'string' && via === 'ioctl') throw new UsageError("neigh del: --via ioctl is ARP's (SIOCDARP): IPv6 entries go through netlink");
  if (values.proxy && via === 'ioctl') throw new UsageError('neigh del: --proxy entries go through netlink, not --via ioctl');
  await giveUpRoot('neigh del', privileges('neigh del', values), [Cap.NET_ADMIN]);
  if (via === 'netlink' || typeof ip === 'string') {
    try {
      deleteNeighbour({ ip, ifname, proxy: values.proxy });
    } catch (err) {
      if (err instanceof NetlinkSystemError && err.code === 'ENOENT') return missing();
      throw err;
    }
    return Exit.OK;
  }
  const ioctl = await import('@ersatz/ioctl');
  try {
    ioctl.arpDelete(ip, ifname);
  } catch (err) {
    if (err instanceof ioctl.ArpNoEntryError) return missing();
    throw err;
  }
  return Exit.OK;
}

async function watch(argv: string[]): Promise<ExitCode> {
  const args = parseSpec(WATCH, argv);
  if (args === null) return Exit.OK;
  const { values, positionals } = args;
  if (positionals.length) throw new UsageError(`neigh watch: unexpected ${JSON.stringify(positionals[0])}: run 'ersatz neigh --help'`);
  const count = values.count === undefined ? undefined : intOption('neigh watch', 'count', values.count, 1, Number.MAX_SAFE_INTEGER, 1);
  // At most what one timer can wait: a longer delay overflows setTimeout, which then fires at once.
  const timeoutMs = values.timeout === undefined ? undefined : intOption('neigh watch', 'timeout', values.timeout, 1, 2 ** 31 - 1, 1);
  let seen = 0;
  const interrupt = interruption();
  const where = values.interface === undefined ? {} : { ifname: values.interface };
  const events$: Observable<NeighEvent | Neigh6Event> = values.ipv6 ? neighbours$({ ...where, family: 6 }) : neighbours$(where);
  const done = lastValueFrom(
    events$.pipe(
      count === undefined ? identity : take(count),
      timeoutMs === undefined ? identity : takeUntil(timer(timeoutMs)),
      // While subscribed, SIGINT or SIGTERM ends the watch instead of killing the process: the socket is closed on
      // the way out.
      takeUntil(interrupt.stop$),
      tap((e: NeighEvent | Neigh6Event) => {
        seen++;
        process.stdout.write(values.json ? `${JSON.stringify({ type: e.type, entry: toJson(e.entry) })}\n` : `${e.type === 'del' ? 'Deleted ' : ''}${entryLine(e.entry)}\n`);
      }),
    ),
    { defaultValue: undefined },
  );
  // Subscribing opened the socket synchronously: from here on no change is missed, which scripts can wait for.
  process.stderr.write(`ersatz: watching IPv${values.ipv6 ? 6 : 4} neighbour changes${values.interface === undefined ? '' : ` on ${values.interface}`} (Ctrl-C to stop)\n`);
  await done.finally(() => interrupt.dispose());
  if (interrupt.fired) return interrupt.code;
  return count !== undefined && seen < count ? Exit.NO_REPLY : Exit.OK;
}

// ---------------------------------------------------------------------------------------------------------------

function help(): ExitCode {
  process.stdout.write(`${NEIGH_HELP}\n`);
  return Exit.OK;
}

/** An IPv4 or IPv6 neighbour address from the command line (the family chooses the table); a MAC in its place gets its own explanation. */
function parseIp(command: string, text: string): Ipv4 | Ipv6 {
  if (isIP(text) === 6) {
    const ip6 = parsed(command, () => Ipv6.parse(text));
    checkIp(ip6);
    return ip6;
  }
  if (looksLikeMac(text)) throw new UsageError(`${command}: ${text} is a MAC address where the IP goes: ersatz ${command} IP ${command.endsWith('add') ? 'MAC ' : ''}--interface IF`);
  const ip = parsed(command, () => Ipv4.parse(text));
  checkIp(ip);
  return ip;
}

/** A station MAC from the command line: not broadcast, multicast or all-zero, and not an IP address. */
function parseMac(command: string, text: string): Mac {
  if (isIP(text) !== 0) throw new UsageError(`${command}: ${text} is an IP address where the MAC goes: ersatz neigh add IP MAC --interface IF`);
  const mac = parsed(command, () => Mac.parse(text));
  checkMac(mac);
  return mac;
}

/** Runs a parser; its WireError (bad text) becomes a usage error naming the command. */
function parsed<T>(command: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof WireError) throw new UsageError(`${command}: ${err.message}`);
    throw err;
  }
}

function looksLikeMac(text: string): boolean {
  try {
    Mac.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * show's and flush's table and ADDR or PREFIX (`to` optional, as in `ip neigh show to PREFIX`): the IPv6 table with -6
 * or an IPv6 word (an address is its /128), else IPv4's (an address is its /32).
 */
function tableArgument(command: string, ipv6: boolean, positionals: string[]): { v6: false; to: Cidr | undefined } | { v6: true; to: { prefix: Ipv6; prefixLen: number } | undefined } {
  const words = positionals[0] === 'to' ? positionals.slice(1) : positionals;
  const [text, extra] = words;
  if (extra !== undefined) throw new UsageError(`${command}: unexpected ${JSON.stringify(extra)}: give at most one ADDR or PREFIX ('ersatz neigh --help')`);
  const isV6Word = text !== undefined && isIP(text.split('/')[0]!) === 6;
  if (!ipv6 && !isV6Word) return { v6: false, to: text === undefined ? undefined : parsed(command, () => (text.includes('/') ? Cidr.parse(text) : Cidr.of(Ipv4.parse(text), 32))) };
  if (text === undefined) return { v6: true, to: undefined };
  if (!isV6Word) throw new UsageError(`${command}: ${text} is not IPv6, and -6 is the IPv6 table: give an IPv6 ADDR or PREFIX, or leave -6 out`);
  const [addr, len = '128'] = text.split('/') as [string, string?];
  const prefixLen = Number(len);
  if (!/^\d+$/.test(len) || prefixLen > 128) throw new UsageError(`${command}: ${text}: the prefix length must be 0..128`);
  return { v6: true, to: { prefix: parsed(command, () => Ipv6.parse(addr)), prefixLen } };
}

/** `--state` given once or more, each a comma list: their union. */
function stateArgument(texts: string[], purpose: 'show' | 'flush'): NeighState[] {
  return [...new Set(texts.flatMap((t) => parseNeighStates(t, purpose)))];
}

function requireInterface(command: string, ifname: string | undefined): string {
  if (ifname === undefined || ifname === '') throw new UsageError(`${command}: --interface IF is required (list them with 'ip link')`);
  return ifname;
}

function parseVia(command: string, via: string): 'netlink' | 'ioctl' {
  if (via !== 'netlink' && via !== 'ioctl') throw new UsageError(`${command}: --via ${JSON.stringify(via)}: choose netlink or ioctl`);
  return via;
}

/** `198.51.100.2 dev ez0 lladdr 02:00:5e:10:00:02 REACHABLE`, as `ip neigh` prints it. */
export function entryLine(e: NeighbourEntry | Neighbour6Entry): string {
  const parts = [typeof e.ip === 'string' ? e.ip : Ipv4.format(e.ip), 'dev', e.ifname];
  if (e.mac !== null) parts.push('lladdr', e.mac);
  // iproute2's words for the flags, in its order.
  if (e.router) parts.push('router');
  if (e.proxy) parts.push('proxy');
  if ((e.flags & Ntf.EXT_LEARNED) !== 0) parts.push('extern_learn');
  if ((e.flags & Ntf.OFFLOADED) !== 0) parts.push('offload');
  if ((e.flagsExt & NtfExt.MANAGED) !== 0) parts.push('managed');
  // ip prints no word for NUD_NONE, nor a proxy entry's state.
  if (!e.proxy && e.state !== 'none') parts.push(e.state.toUpperCase());
  return parts.join(' ');
}

/** The JSON shape: the entry with its IP as text. */
export function toJson(e: NeighbourEntry | Neighbour6Entry): Record<string, unknown> {
  return { ...e, ip: typeof e.ip === 'string' ? e.ip : Ipv4.format(e.ip) };
}

/** Errors the user can fix, reworded for `neigh`; the rest go to `report` as they are (typed errors: one line, exit 2). */
function userFacing(err: unknown): unknown {
  if (err instanceof UsageError) return err;
  if (err instanceof NetlinkPermissionError) return new UsageError(`${err.operation}: ${CAP_NET_ADMIN_HINT}`);
  if (err instanceof Error && err.name === 'ArpPermissionError') {
    const e = err as Error & { operation: string; ip: Ipv4; ifname: string };
    return new UsageError(`arp ${e.operation} ${Ipv4.format(e.ip)} dev ${e.ifname}: ${CAP_NET_ADMIN_HINT}`);
  }
  if (err instanceof NetlinkSystemError && err.code === 'EEXIST') return new UsageError(`${err.operation}: an entry already exists: pass --replace to change it`);
  if (err instanceof DiscoveryError || err instanceof InvalidNeighbourError) return new UsageError(`neigh: ${err.message}`);
  // Other NetlinkError and IoctlError messages already say what happened and what to do: `report` prints them as
  // they are (one line, exit 2).
  return err;
}
