// The `nud`-style state filter of `neigh show/flush`: parsing and matching, without a kernel.
import test from 'ava';
import { Cidr, Ipv4, Mac } from '@ersatz/wire';
import { FLUSH_STATES, InvalidNeighbourError, NEIGH_STATES, Ntf, SHOW_STATES, neighbourMatches, parseNeighStates, type NeighState, type NeighbourEntry } from '@ersatz/netlink';

test('every state ip neigh names is accepted, alone and in a comma list, case-insensitive', (t) => {
  for (const s of ['incomplete', 'reachable', 'stale', 'delay', 'probe', 'failed', 'noarp', 'permanent', 'none'] as const) {
    t.deepEqual(parseNeighStates(s), [s]);
    t.deepEqual(parseNeighStates(s.toUpperCase()), [s]);
  }
  t.deepEqual(parseNeighStates('reachable,stale'), ['reachable', 'stale']);
  t.deepEqual(parseNeighStates(' stale , stale,failed'), ['stale', 'failed']);
});

test('all means every state for show, and every state but noarp for flush (as ip neigh flush nud all)', (t) => {
  t.deepEqual(parseNeighStates('all'), [...NEIGH_STATES]);
  t.is(NEIGH_STATES.length, 9);
  t.deepEqual(parseNeighStates('all', 'flush').sort(), NEIGH_STATES.filter((s) => s !== 'noarp').sort());
  // noarp named alongside all is still deleted: naming it is how ip flushes NOARP entries.
  t.true(parseNeighStates('all,noarp', 'flush').includes('noarp'));
});

test('the defaults are ip neigh\'s: show hides noarp and none, flush spares permanent and noarp', (t) => {
  t.deepEqual([...SHOW_STATES].sort(), ['delay', 'failed', 'incomplete', 'permanent', 'probe', 'reachable', 'stale']);
  t.deepEqual([...FLUSH_STATES].sort(), ['delay', 'failed', 'incomplete', 'none', 'probe', 'reachable', 'stale']);
});

test('an unknown word, an empty item or an iproute2 abbreviation is refused, naming the word and the choices', (t) => {
  for (const [text, word] of [['bogus', 'bogus'], ['stale,', ''], ['', ''], ['perm', 'perm'], ['stale;failed', 'stale;failed']] as const) {
    const err = t.throws(() => parseNeighStates(text), { instanceOf: InvalidNeighbourError });
    t.is(err?.field, 'state');
    t.is(err?.message, `state ${JSON.stringify(word)} is not a neighbour state: choose from ${NEIGH_STATES.join(', ')} or all, joined by commas`);
  }
});

const entry = (ip: string, state: NeighState, flags = 0): NeighbourEntry => ({
  ip: Ipv4.parse(ip),
  mac: Mac.parse('02:00:5e:00:00:01'),
  ifindex: 2,
  ifname: 'ez0',
  state,
  flags,
  flagsExt: 0,
  proxy: (flags & Ntf.PROXY) !== 0,
  router: false,
});

test('neighbourMatches: prefix bounds are inclusive, an address is its /32, states select', (t) => {
  const to = Cidr.parse('198.51.100.16/30');
  t.true(neighbourMatches(entry('198.51.100.16', 'stale'), { to }));
  t.true(neighbourMatches(entry('198.51.100.19', 'stale'), { to }));
  t.false(neighbourMatches(entry('198.51.100.20', 'stale'), { to }));
  t.false(neighbourMatches(entry('198.51.100.15', 'stale'), { to }));
  t.true(neighbourMatches(entry('198.51.100.7', 'none'), { to: Cidr.of(Ipv4.parse('198.51.100.7'), 32) }));
  t.false(neighbourMatches(entry('198.51.100.8', 'none'), { to: Cidr.of(Ipv4.parse('198.51.100.7'), 32) }));
  t.true(neighbourMatches(entry('192.0.2.1', 'noarp'), { to: Cidr.parse('0.0.0.0/0') }));
  t.true(neighbourMatches(entry('192.0.2.1', 'failed'), { states: ['stale', 'failed'] }));
  t.false(neighbourMatches(entry('192.0.2.1', 'noarp'), { states: SHOW_STATES }));
  t.false(neighbourMatches(entry('192.0.2.1', 'none'), { states: [] }));
  t.true(neighbourMatches(entry('192.0.2.1', 'none'), {}));
});

test('neighbourMatches: proxy and externally learned entries pass any state filter (their state is not a cache state), not the prefix', (t) => {
  t.true(neighbourMatches(entry('192.0.2.1', 'none', Ntf.PROXY), { states: ['reachable'] }));
  t.true(neighbourMatches(entry('192.0.2.1', 'noarp', Ntf.EXT_LEARNED), { states: ['reachable'] }));
  t.false(neighbourMatches(entry('192.0.2.1', 'none', Ntf.PROXY), { to: Cidr.parse('198.51.100.0/24'), states: ['reachable'] }));
});
