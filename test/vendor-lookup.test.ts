import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AddressParseError, Mac } from '@ersatz/wire';
import { LOCALLY_ADMINISTERED, VendorDataError, VendorError, VendorTable, loadVendorData, vendorOf } from '@ersatz/vendor';

// The IEEE registries as oui-data ships them, read here independently of @ersatz/vendor: the oracle below is the
// longest-prefix method from oui-data's README, on upper-case hex strings.
const file = createRequire(import.meta.url).resolve('oui-data');
const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
const nameOf = (key: string): string | undefined => raw[key]?.split('\n')[0]?.trim();
function oracle(mac: string): string | null {
  const hex = mac.replaceAll(':', '').toUpperCase();
  return nameOf(hex.slice(0, 9)) ?? nameOf(hex.slice(0, 7)) ?? nameOf(hex.slice(0, 6)) ?? null;
}
const mac = (text: string): Mac => Mac.parse(text);

test('MA-L assignments give the organisation name, not its address', (t) => {
  t.is(vendorOf(mac('00:00:0c:12:34:56')), 'Cisco Systems, Inc');
  t.is(vendorOf(mac('b8:27:eb:00:00:01')), 'Raspberry Pi Foundation');
  t.is(vendorOf(mac('00:50:56:bb:fc:8e')), 'VMware, Inc.');
  t.is(vendorOf(mac('00:1b:21:0a:0b:0c')), 'Intel Corporate');
});

test('an MA-M block (28 bits) wins over its MA-L parent; an unlisted MA-M block falls back to it', (t) => {
  t.is(nameOf('C85CE2'), 'IEEE Registration Authority');
  t.is(vendorOf(mac('c8:5c:e2:7a:bc:de')), 'SYNERGY SYSTEMS AND SOLUTIONS');
  t.is(vendorOf(mac('c8:5c:e2:00:00:01')), 'Fela Management AG');
  t.is(nameOf('C85CE2F'), undefined);
  t.is(vendorOf(mac('c8:5c:e2:f0:00:01')), 'IEEE Registration Authority');
});

test('an MA-S block (36 bits) wins over its MA-L parent; an unlisted MA-S block falls back to it', (t) => {
  t.is(vendorOf(mac('70:b3:d5:f2:f0:01')), 'TELEPLATFORMS');
  t.is(vendorOf(mac('70:b3:d5:f2:ef:ff')), 'Shanghai JCY Technology Company');
  t.is(vendorOf(mac('70:b3:d5:f3:00:00')), 'ADE Technology Inc.');
  t.is(vendorOf(mac('00:1b:c5:00:00:01')), 'Converging Systems Inc.'); // a former IAB, now in MA-S
  const free = Array.from({ length: 4096 }, (_, i) => `70B3D5${i.toString(16).toUpperCase().padStart(3, '0')}`).find((k) => !(k in raw));
  if (free === undefined) return t.fail('every MA-S block of 70:b3:d5 is assigned: pick another parent for this test');
  const m = mac(`${free.slice(0, 6)}${free.slice(6)}000`);
  t.is(vendorOf(m), 'IEEE Registration Authority', m);
});

test('locally administered addresses (U/L bit set) say so', (t) => {
  for (const m of ['02:00:5e:10:00:01', '06:11:22:33:44:55', 'da:a1:19:00:00:01', 'fe:ff:ff:ff:ff:fe']) {
    t.is(vendorOf(mac(m)), LOCALLY_ADMINISTERED, m);
  }
  t.is(LOCALLY_ADMINISTERED, 'locally administered');
  // 3Com's pre-1990 assignment has the U/L bit set; today that bit means local, so the bit wins over the registry.
  t.is(nameOf('02608C'), '3COM');
  t.is(vendorOf(mac('02:60:8c:01:02:03')), LOCALLY_ADMINISTERED);
});

test('group addresses name the OUI they derive from; broadcast and IPv6 multicast have the U/L bit set', (t) => {
  t.is(vendorOf(mac('01:00:0c:cc:cc:cc')), 'Cisco Systems, Inc'); // CDP/VTP
  t.is(vendorOf(mac('01:00:5e:00:00:fb')), 'ICANN, IANA Department'); // IPv4 multicast (RFC 1112), mDNS group
  t.is(vendorOf(mac('01:80:c2:00:00:0e')), nameOf('0080C2') ?? null); // LLDP, from IEEE 802.1's OUI
  t.not(vendorOf(mac('01:80:c2:00:00:0e')), null);
  t.is(vendorOf(mac('33:33:00:00:00:01')), LOCALLY_ADMINISTERED);
  t.is(vendorOf(Mac.BROADCAST), LOCALLY_ADMINISTERED);
});

test('an unassigned prefix gives null', (t) => {
  // The first universally administered unicast OUI that no registry lists (found in the data, so the test follows
  // updates to it), and its neighbours in MA-M/MA-S terms.
  let oui = 0;
  while (oui <= 0xffffff && ((oui >>> 16) & 0x03 || oui.toString(16).toUpperCase().padStart(6, '0') in raw)) oui++;
  const hex = oui.toString(16).padStart(6, '0');
  const m = mac(`${hex}abcdef`);
  t.is(oracle(m), null);
  t.is(vendorOf(m), null, m);
  t.is(vendorOf(mac(`${hex}000000`)), null);
});

test('vendorOf agrees with the README lookup on random addresses, and on addresses in every registry', (t) => {
  const keys = Object.keys(raw);
  const digits = fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 12, maxLength: 12 }).map((ds) => ds.map((d) => d.toString(16)).join(''));
  // Unicast, universally administered: the README method applies as it is.
  const random = fc.tuple(fc.integer({ min: 0, max: 63 }), digits).map(([hi, ds]) => (hi << 2).toString(16).padStart(2, '0') + ds.slice(2));
  // An assigned prefix, then random digits: hits MA-L, MA-M and MA-S entries alike.
  const universal = keys.filter((k) => (Number.parseInt(k.slice(0, 2), 16) & 0x03) === 0);
  const assigned = fc.tuple(fc.constantFrom(...universal), digits).map(([k, ds]) => k.toLowerCase() + ds.slice(k.length));
  fc.assert(
    fc.property(fc.oneof(random, assigned), (hex12) => {
      const m = mac(hex12);
      return vendorOf(m) === oracle(m);
    }),
    { numRuns: 20000 },
  );
  t.pass();
});

test('loadVendorData reports every entry of the three registries', (t) => {
  const info = loadVendorData();
  const count = (len: number) => Object.keys(raw).filter((k) => k.length === len).length;
  t.deepEqual({ mal: info.mal, mam: info.mam, mas: info.mas }, { mal: count(6), mam: count(7), mas: count(9) });
  t.true(info.mal > 30000 && info.mam > 1000 && info.mas > 1000, JSON.stringify(info));
  t.regex(info.file, /[\\/]oui\.bin$/); // the table the build made of oui-data
  t.true(info.loadMs > 0);
});

test('a MAC that is not canonical text is refused with AddressParseError, any case accepted', (t) => {
  for (const bad of ['zz:00:0c:12:34:56', '00:00:0c:12:34', '00-00-0c-12-34-56', '', '00:00:0c:12:34:56:78']) {
    t.throws(() => vendorOf(bad as Mac), { instanceOf: AddressParseError }, bad);
  }
  t.is(vendorOf('00:00:0C:12:34:56' as Mac), 'Cisco Systems, Inc');
});

test('VendorTable indexes small record sets and reports malformed data with VendorDataError', (t) => {
  const table = VendorTable.fromRecords({ '0000AA': 'Example A\nStreet 1', '0000AA5': 'Example M', '0000AA5BC': 'Example S\n\nCity' }, 'fixture');
  t.deepEqual(table.counts, { mal: 1, mam: 1, mas: 1 });
  t.is(table.lookup(mac('00:00:aa:01:02:03')), 'Example A');
  t.is(table.lookup(mac('00:00:aa:51:02:03')), 'Example M');
  t.is(table.lookup(mac('00:00:aa:5b:c2:03')), 'Example S');
  t.is(table.lookup(mac('01:00:aa:5b:c2:03')), 'Example S'); // I/G cleared
  t.is(table.lookup(mac('00:00:ab:00:00:00')), null);
  t.is(table.lookup(mac('02:00:aa:01:02:03')), LOCALLY_ADMINISTERED);

  for (const [records, reason] of [
    [[], /expected a JSON object/],
    [null, /expected a JSON object/],
    [{ '00000Z': 'x' }, /key "00000Z" is not a 6, 7 or 9 digit/],
    [{ '00000C0F': 'x' }, /key "00000C0F"/],
    [{ '00000c': 'x' }, /key "00000c"/],
    [{ '00000C': 7 }, /entry for 00000C is not a string/],
  ] as const) {
    const err = t.throws(() => VendorTable.fromRecords(records, 'fixture'), { instanceOf: VendorDataError });
    t.regex(err.message, reason);
    t.regex(err.message, /^vendor data: fixture: .*: reinstall ersatz \(in a checkout: npm install, then npm run build\)$/);
    t.is(err.source, 'fixture');
    t.true(err instanceof VendorError);
  }
  // The encoding the run-time table is read from answers as the records did; damaged bytes are refused.
  const copy = VendorTable.fromBinary(table.encode(), 'fixture.bin');
  t.deepEqual(copy.counts, table.counts);
  for (const m of ['00:00:aa:01:02:03', '00:00:aa:51:02:03', '00:00:aa:5b:c2:03', '00:00:ab:00:00:00', '02:00:aa:01:02:03']) t.is(copy.lookup(mac(m)), table.lookup(mac(m)), m);
  const bytes = table.encode();
  for (const [damaged, reason] of [
    [bytes.subarray(0, 20), /not an ersatz vendor table/],
    [Uint8Array.from(bytes, (b, i) => (i === 0 ? b ^ 1 : b)), /not an ersatz vendor table/],
    [bytes.subarray(0, bytes.length - 1), /bytes where the header says/],
  ] as const) {
    const err = t.throws(() => VendorTable.fromBinary(damaged, 'fixture.bin'), { instanceOf: VendorDataError });
    t.regex(err.message, reason);
  }
  const missing = t.throws(() => VendorTable.fromFile('/nonexistent/oui.json'), { instanceOf: VendorDataError });
  t.is(missing.source, '/nonexistent/oui.json');
  t.regex(missing.message, /ENOENT/);
});
