import test from 'ava';
import { ETH_MIN_FRAME, EtherType, EthernetFrame, EthernetRepr, InvalidFieldError, Mac, TruncatedError, WireError, padFrame, type EthernetRepr as Repr } from '@ersatz/wire';
import * as F from './fixtures/wire/frames.js';
import { a5, hex, readPcap, shifted, toHex } from './fixtures/wire/helpers.js';

const parse = (b: Uint8Array) => EthernetRepr.parse(EthernetFrame.checked(b));
const HOST = Mac.parse('02:00:00:00:00:01');
const PEER = Mac.parse('02:00:00:00:00:02');

test('every named fixture is a frame of the captured pcaps', (t) => {
  const captured = new Set(['arping', 'arp-scan', 'arp-odd', 'vlan', 'icmp'].flatMap((f) => readPcap(`${f}.pcap`).map(toHex)));
  for (const [name, bytes] of Object.entries(F)) t.true(captured.has(toHex(bytes)), name);
});

test('parses an untagged Ethernet II frame (arping reply)', (t) => {
  const frame = EthernetFrame.checked(F.ARPING_REPLY);
  t.is(frame.headerLen, 14);
  t.is(frame.outerType, 0x0806);
  t.is(frame.payload.length, 28);
  t.deepEqual(parse(F.ARPING_REPLY), { kind: 'ethernet2', dst: HOST, src: PEER, vlan: [], etherType: EtherType.Arp });
});

test('parses one 802.1Q tag (arp-scan --vlan 42)', (t) => {
  const repr = parse(F.DOT1Q_REQUEST);
  t.deepEqual(repr, { kind: 'ethernet2', dst: Mac.BROADCAST, src: HOST, vlan: [{ tpid: 0x8100, pcp: 0, dei: false, vid: 42 }], etherType: 0x0806 });
  t.is(EthernetFrame.checked(F.DOT1Q_REQUEST).payload.length, 28);
});

test('parses PCP, DEI and VID out of the TCI', (t) => {
  t.deepEqual(parse(F.PCP_DEI_REQUEST).vlan, [{ tpid: 0x8100, pcp: 5, dei: true, vid: 4094 }]);
});

test('parses 802.1ad alone, Q-in-Q and the legacy 0x9100 tag, outermost first', (t) => {
  t.deepEqual(parse(F.DOT1AD_REQUEST).vlan, [{ tpid: 0x88a8, pcp: 0, dei: false, vid: 7 }]);
  const qinq = parse(F.QINQ_REQUEST);
  t.deepEqual(qinq.vlan, [{ tpid: 0x88a8, pcp: 0, dei: false, vid: 7 }, { tpid: 0x8100, pcp: 0, dei: false, vid: 42 }]);
  t.is(qinq.kind === 'ethernet2' && qinq.etherType, 0x0806);
  t.deepEqual(parse(F.LEGACY_9100_REQUEST).vlan.map((v) => [v.tpid, v.vid]), [[0x9100, 100], [0x8100, 42]]);
  t.is(EthernetFrame.checked(F.QINQ_PING).headerLen, 22);
});

test('any number of tags is read, bounded only by the frame (carrier links stack three and more)', (t) => {
  const three = EthernetFrame.checked(F.THREE_TAGS);
  t.is(three.vlanCount, 3);
  t.is(three.headerLen, 26);
  t.deepEqual(parse(F.THREE_TAGS).vlan.map((v) => [v.tpid, v.vid]), [[0x88a8, 7], [0x8100, 42], [0x8100, 3]]);
  const many = hex(`ffffffffffff 020000000001 ${'8100 0001 '.repeat(9)}0806 ${'00'.repeat(28)}`);
  t.is(EthernetFrame.checked(many).vlanCount, 9);
  t.throws(() => EthernetFrame.checked(many.subarray(0, 12 + 9 * 4 + 1)), { instanceOf: TruncatedError, message: 'ethernet: need 50 bytes, have 49' });
});

test('tolerates trailing padding and FCS', (t) => {
  const withFcs = new Uint8Array([...F.DOT1AD_REQUEST, 0xde, 0xad, 0xbe, 0xef]);
  t.deepEqual(parse(withFcs), parse(F.DOT1AD_REQUEST));
  t.is(EthernetFrame.checked(withFcs).payload.length, 64 - 18);
});

test('an 802.3 frame is a length frame, never an EtherType', (t) => {
  // 802.3 with a correct length field: 3-byte LLC (STP-like 0x42 0x42 0x03) plus 5 data bytes = 8.
  const llc = hex('0180c2000000 020000000001 0008 424203 0000000000');
  t.deepEqual(parse(llc), { kind: '802.3', dst: Mac.parse('01:80:c2:00:00:00'), src: HOST, vlan: [], length: 8 });
  // Padded to 60: the length still says 8.
  const padded = new Uint8Array(60);
  padded.set(llc);
  t.deepEqual(parse(padded), parse(llc));
  // Tagged 802.3 frames keep their tags.
  const tagged = hex('0180c2000000 020000000001 8100 0005 0003 424203');
  t.like(parse(tagged), { kind: '802.3', length: 3, vlan: [{ vid: 5 }] });
  t.is(parse(hex('ffffffffffff 020000000001 0000')).kind, '802.3');
  t.like(parse(hex(`ffffffffffff 020000000001 05dc ${'00'.repeat(1500)}`)), { kind: '802.3', length: 1500 });
  t.like(parse(hex('ffffffffffff 020000000001 0600')), { kind: 'ethernet2', etherType: 0x0600 });
});

test('arp-scan --llc writes the frame length where 802.3 wants the payload length: reported', (t) => {
  t.throws(() => parse(F.ARPSCAN_LLC), { instanceOf: TruncatedError, message: '802.3 payload: need 50 bytes, have 36' });
});

test('type/length 1501..1535 is neither: an invalid field naming the value', (t) => {
  for (const v of [1501, 1535]) {
    const b = hex(`ffffffffffff 020000000001 ${v.toString(16).padStart(4, '0')} ${'00'.repeat(46)}`);
    const err = t.throws(() => parse(b), { instanceOf: InvalidFieldError });
    t.is(err?.value, v);
    t.is(err?.message, `ethernet: invalid type/length ${v} (a length is ≤ 1500, an EtherType ≥ 1536)`);
  }
});

test('truncated headers say how many bytes they need', (t) => {
  t.throws(() => EthernetFrame.checked(F.ARPING_REPLY.subarray(0, 13)), { instanceOf: TruncatedError, message: 'ethernet: need 14 bytes, have 13' });
  t.throws(() => EthernetFrame.checked(F.DOT1Q_REQUEST.subarray(0, 17)), { instanceOf: TruncatedError, message: 'ethernet: need 18 bytes, have 17' });
  t.throws(() => EthernetFrame.checked(F.QINQ_REQUEST.subarray(0, 21)), { instanceOf: TruncatedError, message: 'ethernet: need 22 bytes, have 21' });
  t.throws(() => EthernetFrame.checked(new Uint8Array(0)), { instanceOf: TruncatedError });
  t.notThrows(() => EthernetFrame.checked(F.QINQ_REQUEST.subarray(0, 22)));
});

test('honours a non-zero byteOffset', (t) => {
  for (const f of [F.ARPING_REPLY, F.QINQ_REQUEST, F.PCP_DEI_REQUEST]) {
    const moved = shifted(f, 5);
    t.not(moved.byteOffset, 0);
    t.deepEqual(parse(moved), parse(f));
    t.is(EthernetFrame.checked(moved).payload.byteOffset, moved.byteOffset + EthernetFrame.checked(f).headerLen);
  }
});

test('emit writes every header byte (0xa5-filled buffer), pads to 60 and matches the captured bytes', (t) => {
  for (const f of [F.ARPING_REPLY, F.DOT1Q_REQUEST, F.PCP_DEI_REQUEST, F.QINQ_REQUEST, F.LEGACY_9100_REQUEST, F.DOT1AD_REQUEST]) {
    const repr = parse(f);
    const len = EthernetRepr.bufferLen(repr);
    const buf = a5(64);
    t.is(EthernetRepr.emit(repr, EthernetFrame.unchecked(buf), 28), 60);
    t.deepEqual(buf.subarray(0, len), f.subarray(0, len));
    t.deepEqual(buf.subarray(len, len + 28), a5(28), 'the payload is the caller’s');
    t.deepEqual(buf.subarray(len + 28, 60), new Uint8Array(60 - len - 28), 'zero padding up to 60');
    t.deepEqual(buf.subarray(60), a5(4), 'nothing past 60 is touched');
  }
  // A frame already over 60 bytes gets no padding.
  const buf = a5(100);
  t.is(EthernetRepr.emit(parse(F.ARPING_REPLY), EthernetFrame.unchecked(buf), 80), 94);
  t.deepEqual(buf.subarray(14), a5(86));
});

test('emit of an 802.3 Repr writes the length', (t) => {
  const repr: Repr = { kind: '802.3', dst: Mac.BROADCAST, src: HOST, vlan: [], length: 36 };
  const buf = a5(60);
  t.is(EthernetRepr.emit(repr, EthernetFrame.unchecked(buf), 36), 60);
  t.deepEqual(buf.subarray(0, 14), hex('ffffffffffff 020000000001 0024'));
  t.deepEqual(buf.subarray(50), new Uint8Array(10));
});

test('padFrame zero-fills up to 60 bytes and leaves longer frames alone', (t) => {
  const buf = a5(70);
  t.is(padFrame(buf, 42), ETH_MIN_FRAME);
  t.deepEqual(buf.subarray(42, 60), new Uint8Array(18));
  t.deepEqual(buf.subarray(60), a5(10));
  const long = a5(70);
  t.is(padFrame(long, 64), 64);
  t.deepEqual(long, a5(70));
});

test('all errors are WireErrors', (t) => {
  for (const b of [new Uint8Array(3), hex(`ffffffffffff 020000000001 8100 00`), hex(`ffffffffffff 020000000001 05ff`)]) {
    t.throws(() => parse(b), { instanceOf: WireError });
  }
});
