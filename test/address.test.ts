import test from 'ava';
import { Ipv4, Mac, AddressParseError, TruncatedError } from '@ersatz/wire';

test('Ipv4 parses and formats dotted quads', (t) => {
  const ip = Ipv4.parse('192.0.2.1');
  t.is<number, number>(ip, 0xc0000201);
  t.is(Ipv4.format(ip), '192.0.2.1');
  t.is(Ipv4.format(Ipv4.parse('255.255.255.255')), '255.255.255.255');
  t.true(Ipv4.isBroadcast(Ipv4.parse('255.255.255.255')));
  t.true(Ipv4.isMulticast(Ipv4.parse('224.0.0.251')));
  t.false(Ipv4.isMulticast(Ipv4.parse('192.0.2.1')));
});

test('Ipv4 refuses malformed text with the reason', (t) => {
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-4', ' 1.2.3.4', 'a.b.c.d']) {
    t.throws(() => Ipv4.parse(bad), { instanceOf: AddressParseError }, bad);
  }
});

test('Ipv4 reads and writes bytes at an offset', (t) => {
  const b = new Uint8Array([0xa5, 198, 51, 100, 7, 0xa5]);
  const ip = Ipv4.fromBytes(b, 1);
  t.is(Ipv4.format(ip), '198.51.100.7');
  const out = new Uint8Array(6).fill(0xa5);
  Ipv4.write(ip, out, 1);
  t.deepEqual(out, b);
  t.throws(() => Ipv4.fromBytes(b, 3), { instanceOf: TruncatedError, message: 'ipv4 address: need 7 bytes, have 6' });
});

test('Mac accepts the usual spellings and prints one canonical form', (t) => {
  for (const s of ['02:00:5E:10:00:01', '02-00-5e-10-00-01', '0200.5e10.0001', '02005e100001', '2:0:5e:10:0:1']) {
    t.is<string, string>(Mac.parse(s), '02:00:5e:10:00:01', s);
  }
  for (const bad of ['02:00:5e:10:00', '02:00:5e:10:00:01:02', 'zz:00:5e:10:00:01', '', '02:00:5e:10:00:001']) {
    t.throws(() => Mac.parse(bad), { instanceOf: AddressParseError }, bad);
  }
});

test('Mac predicates follow the I/G and U/L bits', (t) => {
  t.true(Mac.isBroadcast(Mac.BROADCAST));
  t.true(Mac.isMulticast(Mac.BROADCAST));
  t.true(Mac.isMulticast(Mac.parse('01:00:5e:00:00:fb')));
  t.true(Mac.isLocallyAdministered(Mac.parse('02:00:00:00:00:01')));
  t.false(Mac.isLocallyAdministered(Mac.parse('00:1b:21:00:00:01')));
  t.true(Mac.isZero(Mac.ZERO));
  t.false(Mac.isUnicast(Mac.ZERO));
  t.true(Mac.isUnicast(Mac.parse('00:1b:21:00:00:01')));
});

test('Mac round-trips through bytes at an offset', (t) => {
  const b = new Uint8Array([0xa5, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]);
  const mac = Mac.fromBytes(b, 1);
  t.is<string, string>(mac, '02:00:5e:10:00:01');
  const out = new Uint8Array(7).fill(0xa5);
  Mac.write(mac, out, 1);
  t.deepEqual(out, b);
});
