import test from 'ava';
import fc from 'fast-check';
import { AddressParseError, Cidr, Ipv4, MAX_TARGETS, Mac, TargetSet, netmaskToPrefix, parseTargets, prefixToNetmask } from '@ersatz/wire';
import { a5 } from './fixtures/wire/helpers.js';

const ip = Ipv4.parse;
const fmt = (xs: Iterable<number>) => Array.from(xs, (x) => Ipv4.format(x as Ipv4));

test('Mac.write reproduces every byte value at every position (charCodeAt path)', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.nat(8), (bytes, at) => {
      const out = a5(at + 8);
      Mac.write(Mac.fromBytes(bytes), out, at);
      return out.subarray(at, at + 6).every((b, i) => b === bytes[i]) && out[at + 6] === 0xa5 && (at === 0 || out[at - 1] === 0xa5);
    }),
  );
  // A Mac made with a cast rather than Mac.parse may be upper case: still written right.
  const out = new Uint8Array(6);
  Mac.write('0A:BC:DE:F0:12:9F' as Mac, out);
  t.deepEqual(out, new Uint8Array([0x0a, 0xbc, 0xde, 0xf0, 0x12, 0x9f]));
  t.true(Mac.isMulticast(Mac.parse('03:00:00:00:00:00')));
  t.true(Mac.isLocallyAdministered('0E:00:00:00:00:00' as Mac));
});

test('Cidr.parse: network, prefix, netmask, broadcast, hosts', (t) => {
  const c = Cidr.parse('198.51.100.0/24');
  t.is(c.prefix, 24);
  t.deepEqual(fmt([c.network, c.netmask, c.broadcast, c.firstHost, c.lastHost]), ['198.51.100.0', '255.255.255.0', '198.51.100.255', '198.51.100.1', '198.51.100.254']);
  t.is(c.hostCount, 254);
  t.is([...c.hosts()].length, 254);
  t.is(String(c), '198.51.100.0/24');
});

test('Cidr keeps the address as given and masks host bits for the network (10.1.2.3/16)', (t) => {
  const c = Cidr.parse('10.1.2.3/16');
  t.is(Ipv4.format(c.address), '10.1.2.3');
  t.is(Ipv4.format(c.network), '10.1.0.0');
  t.is(Ipv4.format(c.broadcast), '10.1.255.255');
  t.is(c.hostCount, 65534);
  t.is(String(c), '10.1.2.3/16');
});

test('Cidr.hosts: /30 excludes network and broadcast, /31 has both (RFC 3021), /32 the one', (t) => {
  t.deepEqual(fmt(Cidr.parse('192.0.2.4/30').hosts()), ['192.0.2.5', '192.0.2.6']);
  t.deepEqual(fmt(Cidr.parse('192.0.2.4/31').hosts()), ['192.0.2.4', '192.0.2.5']);
  t.deepEqual(fmt(Cidr.parse('192.0.2.4/32').hosts()), ['192.0.2.4']);
  t.deepEqual([Cidr.parse('192.0.2.4/31').hostCount, Cidr.parse('192.0.2.4/32').hostCount], [2, 1]);
  const all = Cidr.parse('0.0.0.0/0');
  t.is(all.hostCount, 2 ** 32 - 2);
  t.is(Ipv4.format(all.broadcast), '255.255.255.255');
  t.true(all.contains(ip('255.255.255.255')));
});

test('Cidr.contains covers network and broadcast and nothing outside, at the top of the space too', (t) => {
  const c = Cidr.parse('255.255.255.0/25');
  t.true(c.contains(ip('255.255.255.0')));
  t.true(c.contains(ip('255.255.255.127')));
  t.false(c.contains(ip('255.255.255.128')));
  t.false(c.contains(ip('255.255.254.255')));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 0xffffffff }), (a, prefix, b) => {
      const cidr = Cidr.of(a as Ipv4, prefix);
      const inside = prefix === 0 || a >>> (32 - prefix) === b >>> (32 - prefix);
      return cidr.contains(b as Ipv4) === inside && cidr.contains(cidr.network) && cidr.contains(cidr.broadcast);
    }),
  );
});

test('Cidr refuses prefixes over 32 and malformed text', (t) => {
  for (const bad of ['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0/2a', '10.0.0.0', '10.0.0.256/8']) {
    t.throws(() => Cidr.parse(bad), { instanceOf: AddressParseError }, bad);
  }
  t.throws(() => Cidr.parse('10.0.0.0/33'), { message: 'invalid CIDR "10.0.0.0/33": prefix 33 is over 32' });
  t.throws(() => Cidr.of(ip('10.0.0.0'), 33), { instanceOf: AddressParseError });
});

test('netmask and prefix convert both ways; non-contiguous masks are refused', (t) => {
  for (let p = 0; p <= 32; p++) t.is(netmaskToPrefix(prefixToNetmask(p)), p);
  t.is(netmaskToPrefix(ip('255.255.240.0')), 20);
  for (const bad of ['255.0.255.0', '0.255.255.255', '255.255.255.253']) {
    t.throws(() => netmaskToPrefix(ip(bad)), { instanceOf: AddressParseError }, bad);
  }
});

test('parseTargets: a /16 has 65534 hosts, in order', (t) => {
  const s = parseTargets('10.1.0.0/16');
  t.is(s.size, 65534);
  t.is(Ipv4.format(s.at(0)), '10.1.0.1');
  t.is(Ipv4.format(s.at(65533)), '10.1.255.254');
  const all = s.toUint32Array();
  t.is(all.length, 65534);
  t.deepEqual(Array.from(s), Array.from(all));
  t.true(all.every((v, i) => i === 0 || v === all[i - 1]! + 1));
});

test('parseTargets accepts every arp-scan form and masks host bits like arp-scan', (t) => {
  t.deepEqual(fmt(parseTargets('192.0.2.0:255.255.255.252')), ['192.0.2.1', '192.0.2.2']);
  t.deepEqual(fmt(parseTargets('192.0.2.9/30')), ['192.0.2.9', '192.0.2.10']);
  t.deepEqual(fmt(parseTargets('198.51.100.250-198.51.100.255')), ['198.51.100.250', '198.51.100.251', '198.51.100.252', '198.51.100.253', '198.51.100.254', '198.51.100.255']);
  t.deepEqual(fmt(parseTargets('203.0.113.7')), ['203.0.113.7']);
  t.deepEqual(fmt(parseTargets('203.0.113.7-203.0.113.7')), ['203.0.113.7']);
});

test('parseTargets merges several items, overlaps and duplicates', (t) => {
  const s = parseTargets('192.0.2.5, 192.0.2.0/29 192.0.2.6-192.0.2.9,,192.0.2.5\n203.0.113.1');
  t.deepEqual(fmt(s), ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5', '192.0.2.6', '192.0.2.7', '192.0.2.8', '192.0.2.9', '203.0.113.1']);
  t.is(s.size, 10);
  t.deepEqual(s.ranges.map((r) => [Ipv4.format(r.first), Ipv4.format(r.last)]), [['192.0.2.1', '192.0.2.9'], ['203.0.113.1', '203.0.113.1']]);
  t.true(s.has(ip('192.0.2.9')));
  t.false(s.has(ip('192.0.2.10')));
  t.false(s.has(ip('192.0.2.0')));
  t.true(s.has(ip('203.0.113.1')));
  t.is(Ipv4.format(s.at(9)), '203.0.113.1');
  t.throws(() => s.at(10), { instanceOf: RangeError });
});

test('TargetSet.within and withoutRange split a set at a range: together they are the whole set', (t) => {
  const set = parseTargets('192.0.2.0/28 192.0.2.40-192.0.2.50 198.51.100.1');
  const r = { first: ip('192.0.2.8'), last: ip('192.0.2.45') };
  const fmt = (x: TargetSet) => [...x].map(Ipv4.format);
  t.deepEqual(fmt(set.within(r)), [8, 9, 10, 11, 12, 13, 14, 40, 41, 42, 43, 44, 45].map((n) => `192.0.2.${n}`));
  t.deepEqual(fmt(set.withoutRange(r)), ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5', '192.0.2.6', '192.0.2.7', '192.0.2.46', '192.0.2.47', '192.0.2.48', '192.0.2.49', '192.0.2.50', '198.51.100.1']);
  t.is(set.within(r).size + set.withoutRange(r).size, set.size);
  t.is(set.within({ first: ip('10.0.0.0'), last: ip('10.0.0.255') }).size, 0);
  t.is(set.withoutRange({ first: ip('10.0.0.0'), last: ip('10.0.0.255') }).size, set.size);
});

test('TargetSet.indexOf is at() inverted, and -1 for every address outside the set', (t) => {
  const s = parseTargets('192.0.2.1-192.0.2.9, 198.51.100.0/30, 203.0.113.1');
  t.is(s.size, 12);
  for (let i = 0; i < s.size; i++) t.is(s.indexOf(s.at(i)), i);
  for (const out of ['192.0.2.0', '192.0.2.10', '198.51.100.0', '198.51.100.3', '203.0.113.0', '203.0.113.2', '0.0.0.0', '255.255.255.255']) {
    t.is(s.indexOf(ip(out)), -1, out);
  }
  t.is(new TargetSet([]).indexOf(ip('192.0.2.1')), -1);
});

test('TargetSet.of takes addresses in any order, merges duplicates and runs into ranges', (t) => {
  const s = TargetSet.of(['192.0.2.9', '192.0.2.7', '198.51.100.1', '192.0.2.8', '192.0.2.7', '192.0.2.1'].map(ip));
  t.deepEqual(s.ranges.map((r) => [Ipv4.format(r.first), Ipv4.format(r.last)]), [['192.0.2.1', '192.0.2.1'], ['192.0.2.7', '192.0.2.9'], ['198.51.100.1', '198.51.100.1']]);
  t.is(s.size, 5);
  t.is(TargetSet.of([]).size, 0);
  t.is(TargetSet.of([ip('255.255.255.255'), ip('0.0.0.0')]).size, 2);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 300 })), (list) => {
      const unique = [...new Set(list)].sort((a, b) => a - b);
      return JSON.stringify(Array.from(TargetSet.of(list as Ipv4[]).toUint32Array())) === JSON.stringify(unique);
    }),
  );
});

test('TargetSet.indexOf agrees with the position in toUint32Array for any ranges (property)', (t) => {
  const range = fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 40 })).map(([first, n]) => ({ first: first as Ipv4, last: (first + n) as Ipv4 }));
  fc.assert(
    fc.property(fc.array(range, { maxLength: 12 }), fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 20 }), (ranges, probes) => {
      const s = new TargetSet(ranges);
      const all = Array.from(s.toUint32Array());
      return probes.every((p) => s.indexOf(p as Ipv4) === all.indexOf(p));
    }),
  );
  t.pass();
});

test('parseTargets rejects bad items with a clear AddressParseError', (t) => {
  const cases: [string, RegExp][] = [
    ['10.0.0.0/33', /prefix 33 is over 32/],
    ['10.0.0.9-10.0.0.1', /end 10\.0\.0\.1 is before start 10\.0\.0\.9/],
    ['10.0.0.0:255.0.255.0', /must be contiguous/],
    ['10.0.0.300', /invalid target "10\.0\.0\.300": 300 is over 255; expected a\.b\.c\.d/],
    ['host.example', /invalid target "host\.example"/],
    ['10.0.0.1-', /invalid target "10\.0\.0\.1-"/],
    ['', /no targets/],
    [' , ', /no targets/],
  ];
  for (const [spec, message] of cases) t.throws(() => parseTargets(spec), { instanceOf: AddressParseError, message }, spec);
});

test('parseTargets caps a set at 2^24 hosts: a /8 fits, a /7 or two /8s do not', (t) => {
  t.is(MAX_TARGETS, 16777216);
  t.is(parseTargets('10.0.0.0/8').size, 16777214);
  t.is(parseTargets('10.0.0.0-10.255.255.255').size, 16777216);
  t.throws(() => parseTargets('10.0.0.0/7'), { instanceOf: AddressParseError, message: /33554430 hosts is over the limit of 16777216/ });
  t.throws(() => parseTargets('10.0.0.0/8 11.0.0.0/8'), { instanceOf: AddressParseError });
  t.throws(() => parseTargets('0.0.0.0/0'), { instanceOf: AddressParseError });
});

test('shuffled(seed) is a permutation, the same for the same seed', (t) => {
  const s = parseTargets('10.1.0.0/16');
  const a = s.shuffled(42);
  const b = s.shuffled(42);
  const c = s.shuffled(43);
  t.deepEqual(a, b);
  t.notDeepEqual(a, c);
  t.notDeepEqual(a, s.toUint32Array());
  t.deepEqual(a.slice().sort(), s.toUint32Array());
  t.deepEqual(new TargetSet([]).shuffled(1), new Uint32Array(0));
});

test('shuffled draws every order of a small set about equally often (seeds 0..5999)', (t) => {
  const s = parseTargets('192.0.2.1-192.0.2.3');
  const counts = new Map<string, number>();
  for (let seed = 0; seed < 6000; seed++) {
    const key = Array.from(s.shuffled(seed), (x) => x & 0xff).join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  t.is(counts.size, 6);
  for (const [order, n] of counts) t.true(n > 850 && n < 1150, `${order}: ${n}`);
});

test('parseTargets wholeNetworks keeps every address of a network; TargetSet.without splits ranges around addresses', (t) => {
  const whole = parseTargets('192.0.2.0/30, 198.51.100.7', { wholeNetworks: true });
  t.deepEqual(fmt(whole), ['192.0.2.0', '192.0.2.1', '192.0.2.2', '192.0.2.3', '198.51.100.7']);
  const less = whole.without([Ipv4.parse('192.0.2.0'), Ipv4.parse('192.0.2.2'), Ipv4.parse('198.51.100.7'), Ipv4.parse('203.0.113.1')]);
  t.deepEqual(fmt(less), ['192.0.2.1', '192.0.2.3']);
  t.is(less.size, 2);
  t.deepEqual(fmt(whole), ['192.0.2.0', '192.0.2.1', '192.0.2.2', '192.0.2.3', '198.51.100.7'], 'the original is unchanged');
});

test('Mac.fromBytes gives the same text however often, and stays right past its table of recent addresses', (t) => {
  const bytes = new Uint8Array(6);
  const seen = new Map<string, string>();
  // More distinct addresses than the table keeps (it starts over when full), each read twice, out of step.
  for (let i = 0; i < 10_000; i++) {
    const j = (i * 7919) % 10_000;
    for (const n of [i, j]) {
      bytes.set([0x02, 0x00, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
      const text = Mac.fromBytes(bytes);
      t.is(Mac.parse(text), text);
      const want = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
      if (text !== want) t.fail(`${n}: ${text} != ${want}`);
      seen.set(want, text);
    }
  }
  t.is(seen.size, 10_000);
  t.is(Mac.fromBytes(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff)), Mac.BROADCAST);
  // Addresses that differ only in their first two bytes, read in turn: never taken for one another.
  for (let round = 0; round < 3; round++) {
    for (const [a, b] of [[0x02, 0x00], [0x0a, 0x00], [0x02, 0x01], [0xfe, 0xff]] as const) {
      t.is<string, string>(Mac.fromBytes(Uint8Array.of(a, b, 0x11, 0x22, 0x33, 0x44)), [a, b, 0x11, 0x22, 0x33, 0x44].map((x) => x.toString(16).padStart(2, '0')).join(':'));
    }
  }
});
