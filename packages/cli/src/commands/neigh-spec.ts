// `ersatz neigh`'s option tables, one per subcommand (spec.ts), and its whole-command --help.
import type { SettableNeighState } from '@ersatz/netlink';
import type { CommandSpec, Options } from '../spec.js';
import { PRIVILEGE_OPTIONS } from '../privileges.js';

/** `ersatz neigh --help`: the whole command at once (each subcommand's --help renders its own SPEC below). */
export const NEIGH_HELP = `usage: ersatz neigh [show] [ADDR|PREFIX] [-6] [--interface IF] [--state STATES] [--proxy] [--json]
       ersatz neigh flush [ADDR|PREFIX] [-6] --interface IF [--state STATES]
       ersatz neigh add IP MAC --interface IF [--state permanent|reachable|stale] [--replace] [--via netlink|ioctl]
       ersatz neigh del IP --interface IF [--via netlink|ioctl]
       ersatz neigh watch [-6] [--interface IF] [--json] [--count N] [--timeout MS]

The kernel's IPv4 neighbour (ARP) table, and IPv6's (Neighbor Discovery), chosen by an IPv6 ADDR, PREFIX or IP, or by
-6 (show, flush, watch). (-I is short for --interface, as in the other commands.)
  show    one line per entry, like 'ip neigh': IP dev IF lladdr MAC [router] [extern_learn] [managed] STATE.
          ADDR or PREFIX (198.51.100.0/24) keeps the entries inside it, as 'ip neigh show to PREFIX'.
          --json prints one JSON array of {ip, mac, ifindex, ifname, state, flags, flagsExt, proxy, router,
          ageMs}: a snapshot is one value, as 'ip -j neigh' prints it; the streams (watch, scan, arping, ping)
          are JSON Lines.
          --proxy lists the proxy ARP entries instead.
  flush   deletes the entries of IF that match, as 'ip neigh flush dev IF': by default every state but
          permanent and noarp; --state all adds permanent, and noarp goes only when named. Prints nothing;
          exit 1 if entries still matched after 10 rounds (the kernel kept re-creating them).
  --state STATES   only entries in these states, as 'ip neigh ... nud STATE': names joined by commas or given
          in several --state options, from incomplete, reachable, stale, delay, probe, failed, noarp,
          permanent, none, or all. show's default is every state but noarp and none, as 'ip neigh show'.
  add     adds IP -> MAC on IF (default state permanent); an existing entry is an error unless --replace.
  del     deletes the entry for IP on IF (exit 1 when there is none).
  watch   prints each change the kernel announces until Ctrl-C (exit 130) or SIGTERM (143), N changes (--count, exit 0) or
          MS milliseconds (--timeout: exit 0, or 1 when --count changes did not all come).
          --json prints JSON Lines: one {type: "new"|"del", entry} object per line.
  --via   netlink (default): rtnetlink RTM_NEWNEIGH/RTM_DELNEIGH. ioctl: SIOCSARP/SIOCDARP, like 'arp -s'
          (permanent or stale entries only).
add, del and flush need CAP_NET_ADMIN. Exit codes: 0 done, 1 no such entry / not all changes seen, 2 usage or
environment (bad address, unknown interface, missing capability), 130 interrupted (SIGINT), 143 stopped by SIGTERM.`;

export const STATES: readonly SettableNeighState[] = ['permanent', 'reachable', 'stale'];

// One option table per subcommand. What several of them take is written once here.
const INTERFACE = { type: 'string', short: 'I', arg: 'IF', complete: 'interface' } as const;
const JSON_OUTPUT = { type: 'boolean', default: false } as const;
/** The names --state takes in show and flush (ip neigh's `nud` words). */
const STATE_NAMES = ['incomplete', 'reachable', 'stale', 'delay', 'probe', 'failed', 'noarp', 'permanent', 'none', 'all'] as const;
const STATE_FILTER = { type: 'string', multiple: true, arg: 'STATES', complete: STATE_NAMES } as const;
const STATE_FILTER_HELP =
  'only entries in these states: names joined by commas or given in several --state options, from incomplete, reachable, stale, ' +
  "delay, probe, failed, noarp, permanent, none, or all (as 'ip neigh ... nud STATE')";
const VIA = {
  type: 'string',
  default: 'netlink',
  arg: 'METHOD',
  complete: ['netlink', 'ioctl'],
  help:
    'how to change the table, netlink (the default) or ioctl. netlink: rtnetlink RTM_NEWNEIGH/RTM_DELNEIGH. ioctl: SIOCSARP/SIOCDARP, ' +
    "like 'arp -s' (permanent or stale entries only)",
} as const;
const NOTES = `add, del and flush need CAP_NET_ADMIN. Exit codes: 0 done, 1 no such entry / not all changes seen, 2 usage or
environment (bad address, unknown interface, missing capability), 130 interrupted (SIGINT), 143 stopped by SIGTERM.`;

const SHOW_OPTIONS = {
  interface: { ...INTERFACE, help: 'only the entries on IF' },
  state: { ...STATE_FILTER, help: `${STATE_FILTER_HELP}. Default: every state but noarp and none, as 'ip neigh show'` },
  proxy: { type: 'boolean', default: false, help: 'list the proxy ARP entries instead' },
  ipv6: { type: 'boolean', short: '6', default: false, help: "the IPv6 neighbour table instead (as 'ip -6 neigh'); an IPv6 ADDR or PREFIX chooses it too" },
  json: {
    ...JSON_OUTPUT,
    help:
      "print one JSON array of {ip, mac, ifindex, ifname, state, flags, flagsExt, proxy, router, ageMs}: a snapshot is one value, as 'ip -j neigh' " +
      'prints it; the streams (watch, scan, arping, ping) are JSON Lines',
  },
} as const satisfies Options;

export const SHOW: CommandSpec<typeof SHOW_OPTIONS> = {
  name: 'neigh show',
  usage: 'ersatz neigh [show] [ADDR|PREFIX] [-6] [--interface IF] [--state STATES] [--proxy] [--json]',
  about: `The kernel's IPv4 neighbour (ARP) table, or with -6 (or an IPv6 ADDR or PREFIX) its IPv6 one, one line per entry,
like 'ip neigh': IP dev IF lladdr MAC [router] [extern_learn] [managed] STATE. ADDR or PREFIX (198.51.100.0/24,
2001:db8::/64) keeps the entries inside it, as 'ip neigh show to PREFIX'.`,
  options: SHOW_OPTIONS,
  notes: NOTES,
  positionals: true,
};

const FLUSH_OPTIONS = {
  interface: { ...INTERFACE, help: 'delete the entries of IF (required)' },
  ipv6: { type: 'boolean', short: '6', default: false, help: "flush the IPv6 table instead (as 'ip -6 neigh flush'); an IPv6 ADDR or PREFIX chooses it too" },
  state: {
    ...STATE_FILTER,
    help: `${STATE_FILTER_HELP}. Default: every state but permanent and noarp; --state all adds permanent, and noarp goes only when named`,
  },
} as const satisfies Options;

export const FLUSH: CommandSpec<typeof FLUSH_OPTIONS> = {
  name: 'neigh flush',
  usage: 'ersatz neigh flush [ADDR|PREFIX] [-6] --interface IF [--state STATES]',
  about: `Deletes the entries of IF that match --state (inside ADDR or PREFIX if given), as 'ip neigh flush dev IF'.
Prints nothing; exit 1 if entries still matched after 10 rounds (the kernel kept re-creating them).`,
  options: FLUSH_OPTIONS,
  notes: NOTES,
  positionals: true,
};

const ADD_OPTIONS = {
  interface: { ...INTERFACE, help: 'the interface of the entry (required)' },
  state: { type: 'string', default: 'permanent', arg: 'STATE', complete: STATES, help: "the entry's state, permanent (default), reachable or stale" },
  replace: { type: 'boolean', default: false, help: 'change an existing entry for IP (without it, one is an error)' },
  via: VIA,
  ...PRIVILEGE_OPTIONS,
} as const satisfies Options;

export const ADD: CommandSpec<typeof ADD_OPTIONS> = {
  name: 'neigh add',
  usage: 'ersatz neigh add IP MAC --interface IF [--state permanent|reachable|stale] [--replace] [--via netlink|ioctl]',
  about: 'Adds IP -> MAC on IF (default state permanent); an existing entry is an error unless --replace. IP may be IPv6 (netlink only).',
  options: ADD_OPTIONS,
  notes: NOTES,
  positionals: true,
};

const DEL_OPTIONS = {
  interface: { ...INTERFACE, help: 'the interface of the entry (required)' },
  proxy: { type: 'boolean', default: false, help: "the proxy ARP entry for IP instead (as 'ip neigh del proxy IP dev IF'; netlink)" },
  via: VIA,
  ...PRIVILEGE_OPTIONS,
} as const satisfies Options;

export const DEL: CommandSpec<typeof DEL_OPTIONS> = {
  name: 'neigh del',
  usage: 'ersatz neigh del IP --interface IF [--proxy] [--via netlink|ioctl]',
  about: 'Deletes the entry for IP on IF (exit 1 when there is none).',
  options: DEL_OPTIONS,
  notes: NOTES,
  positionals: true,
};

const WATCH_OPTIONS = {
  interface: { ...INTERFACE, help: 'only the changes on IF' },
  ipv6: { type: 'boolean', short: '6', default: false, help: "the IPv6 table's changes instead (as 'ip -6 monitor neigh')" },
  json: { ...JSON_OUTPUT, help: 'print JSON Lines: one {type: "new"|"del", entry} object per line' },
  count: { type: 'string', arg: 'N', help: 'stop after N changes (exit 0)' },
  timeout: { type: 'string', arg: 'MS', help: 'stop after MS milliseconds (exit 0, or 1 when --count changes did not all come)' },
} as const satisfies Options;

export const WATCH: CommandSpec<typeof WATCH_OPTIONS> = {
  name: 'neigh watch',
  usage: 'ersatz neigh watch [-6] [--interface IF] [--json] [--count N] [--timeout MS]',
  about: `Prints each change the kernel announces until Ctrl-C (exit 130) or SIGTERM (143), N changes (--count, exit 0) or
MS milliseconds (--timeout: exit 0, or 1 when --count changes did not all come).`,
  options: WATCH_OPTIONS,
  notes: NOTES,
  positionals: true,
};

export const SPECS: readonly CommandSpec[] = [SHOW, FLUSH, ADD, DEL, WATCH];
