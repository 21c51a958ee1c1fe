import test from 'ava';
import {
  ArpOp, ETH_MIN_FRAME, FieldMismatchError, InvalidFieldError, Ipv4, Mac, TruncatedError, UnsupportedError, decodeFrame, emitArpFrame, ethernetPayload, emitIcmpEchoFrame, parseArpFrame,
  Ipv6, LinkType, emitNdpFrame, type DecodedFrame,
} from '@ersatz/wire';
import * as F from './fixtures/wire/frames.js';
import { a5, hex, readPcap, shifted, tcpdumpLines } from './fixtures/wire/helpers.js';

const HOST = Mac.parse('02:00:00:00:00:01');
const PEER = Mac.parse('02:00:00:00:00:02');
const ip = Ipv4.parse;
const PCAPS = ['arping.pcap', 'arp-scan.pcap', 'arp-odd.pcap', 'vlan.pcap', 'icmp.pcap'];

test('decodeFrame: the exact JSON shape for an ARP reply', (t) => {
  const d = decodeFrame(F.ARPING_REPLY);
  t.deepEqual(d, {
    len: 42,
    eth: { dst: '02:00:00:00:00:01', src: '02:00:00:00:00:02', type: '0x0806' },
    arp: { htype: 1, ptype: '0x0800', hlen: 6, plen: 4, op: 2, sha: '02:00:00:00:00:02', spa: '198.51.100.2', tha: '02:00:00:00:00:01', tpa: '198.51.100.1' },
    malformed: false,
  } as DecodedFrame);
  t.deepEqual(Object.keys(d), ['len', 'eth', 'arp', 'malformed'], 'absent layers are absent keys');
});

test('decodeFrame: VLANs, IPv4 and ICMP echo', (t) => {
  t.deepEqual(decodeFrame(F.QINQ_PING), {
    len: 82,
    eth: { dst: PEER, src: HOST, type: '0x88a8' },
    vlan: [7, 42],
    ipv4: { src: '192.0.2.1', dst: '192.0.2.2', proto: 1 },
    icmp: { type: 8, code: 0, id: 0x4242, seq: 1 },
    malformed: false,
  });
  t.deepEqual(decodeFrame(F.DOT1Q_REQUEST).vlan, [42]);
  t.is(decodeFrame(F.DOT1Q_REQUEST).eth?.type, '0x8100', 'eth.type is the value at offset 12');
});

test('decodeFrame: ptype other than IPv4 prints protocol addresses as colon-hex and is not malformed', (t) => {
  const d = decodeFrame(F.ARP_PTYPE_IPV6);
  t.like(d.arp, { ptype: '0x86dd', spa: 'c6:33:64:01', tpa: 'c6:33:64:02', sha: '02:00:00:00:00:01' });
  t.false(d.malformed);
  t.like(decodeFrame(F.ARP_OP5), { arp: { op: 5 }, malformed: false });
  t.like(decodeFrame(F.ARP_HTYPE6), { arp: { htype: 6, spa: '198.51.100.1' }, malformed: false });
});

test('decodeFrame: malformed frames keep what decoded and say why', (t) => {
  t.deepEqual(decodeFrame(F.ARP_HLEN8), {
    len: 42,
    eth: { dst: Mac.BROADCAST, src: HOST, type: '0x0806' },
    // Every field captured whole, read with the packet's own hlen 8 (as tshark reads it); tpa would end at 32.
    arp: { htype: 1, ptype: '0x0800', hlen: 8, plen: 4, op: 1, sha: '02:00:00:00:00:01:c6:33', spa: '100.1.0.0', tha: '00:00:00:00:c6:33:64:02' },
    malformed: true,
    error: 'arp: need 32 bytes, have 28 (target protocol address cut short)',
  });
  const hlen8 = new Uint8Array(60);
  hlen8.set(F.ARP_HLEN8);
  const d = decodeFrame(hlen8);
  t.like(d, { malformed: true, error: 'arp: hlen 8 disagrees with htype 1 (which needs hlen 6)', arp: { hlen: 8, sha: '02:00:00:00:00:01:c6:33' } });
  t.like(decodeFrame(F.THREE_TAGS), { malformed: false, eth: { type: '0x88a8' }, vlan: [7, 42, 3], arp: { op: 1, tpa: '192.0.2.2' } });
  t.deepEqual(decodeFrame(new Uint8Array(5)), { len: 5, malformed: true, error: 'ethernet: need 14 bytes, have 5' });
  const badIp = F.PING_REQUEST.slice();
  badIp[22] = 1; // TTL
  t.like(decodeFrame(badIp), { ipv4: { src: '198.51.100.1' }, malformed: true, error: 'ipv4: bad checksum 0x3241, computed 0x7141' });
  t.like(decodeFrame(badIp).icmp, { type: 8, id: 18269 }, 'the ICMP fields captured whole are still shown');
  const badIcmp = F.PING_REQUEST.slice();
  badIcmp[60] = badIcmp[60]! ^ 0xff;
  t.like(decodeFrame(badIcmp), { icmp: { type: 8, id: 18269 }, malformed: true });
  t.regex(decodeFrame(badIcmp).error ?? '', /^icmp: bad checksum 0x779d, computed 0x/);
});

test('decodeFrame: a packet cut by the snap length is shown as far as it was captured, not flagged; cut anywhere else it is', (t) => {
  const whole = F.PING_REQUEST; // 98 bytes: IPv4 total length 84
  const kept = whole.subarray(0, 68);
  t.like(decodeFrame(kept), { len: 68, malformed: true, error: 'ipv4: need 84 bytes, have 54' }, 'without the length on the wire, a short datagram is broken');
  const cut = decodeFrame(kept, LinkType.ETHERNET, whole.length);
  t.deepEqual(cut, { len: 68, wireLen: 98, eth: decodeFrame(whole).eth, ipv4: decodeFrame(whole).ipv4, icmp: decodeFrame(whole).icmp, malformed: false });
  t.false('wireLen' in decodeFrame(whole, LinkType.ETHERNET, whole.length), 'present only when something was cut');
  // The datagram says it is longer than the frame was on the wire: broken, snap length or not.
  t.like(decodeFrame(kept, LinkType.ETHERNET, 90), { malformed: true, error: 'ipv4: need 84 bytes, have 76 (frame on the wire cut short)' });
  // The header checksum is still checked: the header was captured whole.
  const badTtl = whole.slice(0, 68);
  badTtl[22] = 1;
  t.like(decodeFrame(badTtl, LinkType.ETHERNET, 98), { malformed: true, error: 'ipv4: bad checksum 0x3241, computed 0x7141' });
  // Cut inside the ICMP header: flagged (tcpdump's "[|icmp]").
  t.like(decodeFrame(whole.subarray(0, 38), LinkType.ETHERNET, 98), { malformed: true, error: 'icmp: need 8 bytes, have 4' });
  // A bad header checksum and a bad ICMP checksum: the header's error is the one given.
  const both = whole.slice();
  both[22] = 1;
  both[60] = both[60]! ^ 0xff;
  t.like(decodeFrame(both), { icmp: { type: 8 }, malformed: true, error: 'ipv4: bad checksum 0x3241, computed 0x7141' });
  // ICMPv6 likewise: an echo cut inside its 8-byte header is flagged, after them it is not.
  const buf = new Uint8Array(200);
  const v6 = buf.slice(0, emitNdpFrame(buf, { ethDst: PEER, ethSrc: HOST, src: Ipv6.parse('fe80::1'), dst: Ipv6.parse('fe80::2'), message: { type: 'ns', target: Ipv6.parse('fe80::2'), sourceLinkAddress: HOST } }));
  t.like(decodeFrame(v6.subarray(0, 60), LinkType.ETHERNET, v6.length), { icmpv6: { type: 135, code: 0 }, malformed: false });
  t.false('ndp' in decodeFrame(v6.subarray(0, 60), LinkType.ETHERNET, v6.length), 'a message cut short is not checked');
  t.like(decodeFrame(v6.subarray(0, 56), LinkType.ETHERNET, v6.length), { icmpv6: { type: 135 }, malformed: true, error: 'icmpv6: need 4 bytes, have 2' });
  t.like(decodeFrame(v6), { ndp: { type: 'ns' }, malformed: false });
});

test('decodeFrame agrees with tcpdump on every captured frame', (t) => {
  let n = 0;
  for (const file of PCAPS) {
    const frames = readPcap(file);
    const lines = tcpdumpLines(file);
    t.is(frames.length, lines.length, file);
    frames.forEach((bytes, i) => {
      const line = lines[i]!;
      const d = decodeFrame(bytes);
      const at = `${file} #${i}: ${line}`;
      n++;
      const [, src, dst] = /^\S+ (\S+) > (\S+), /.exec(line) ?? [];
      t.like(d, { len: bytes.length, eth: { src, dst } }, at);
      const type = /ethertype [^(]*\((0x[0-9a-f]{4})\), length (\d+)/.exec(line);
      if (line.includes(', 802.3, ')) t.true(parseInt(d.eth?.type ?? '', 16) <= 1500, at);
      else {
        t.is(d.eth?.type, type?.[1], at);
        t.is(d.len, Number(type?.[2]), at);
      }
      const vids = [...line.matchAll(/vlan (\d+), p \d/g)].map((m) => Number(m[1]));
      t.deepEqual(d.vlan, vids.length ? vids : undefined, at);
      // LLC/SNAP (arp-scan --llc): decoded as tcpdump does, although arp-scan's 802.3 length (50) overstates the 36
      // bytes that follow the header.
      if (line.includes(', 802.3, ')) t.like(d, { snap: { type: /ethertype \S+ \((0x[0-9a-f]{4})\)/.exec(line)?.[1] } }, at);
      let m: RegExpExecArray | null;
      if ((m = /Request who-has (\S+)(?: \((\S+)\))? tell (\S+),/.exec(line)) && !line.includes('wrong proto')) {
        t.like(d.arp, { op: 1, tpa: m[1], spa: m[3], ...(m[2] && { tha: m[2] }) }, at);
      }
      if ((m = /Reply (\S+) is-at (\S+),/.exec(line))) t.like(d.arp, { op: 2, spa: m[1], sha: m[2] }, at);
      if ((m = /Reverse Request who-is (\S+) tell (\S+),/.exec(line))) t.like(d.arp, { op: 3, tha: m[1], sha: m[2] }, at);
      if ((m = /Unknown \((\d+)\)/.exec(line))) t.like(d.arp, { op: Number(m[1]) }, at);
      if ((m = /proto (\S+) \((\d+)\).* (\d+\.\d+\.\d+\.\d+) > (\d+\.\d+\.\d+\.\d+):/.exec(line))) {
        t.deepEqual(d.ipv4, { src: m[3], dst: m[4], proto: Number(m[2]) }, at);
      }
      if ((m = /ICMP echo (request|reply), id (\d+), seq (\d+)/.exec(line))) {
        t.deepEqual(d.icmp, { type: m[1] === 'request' ? 8 : 0, code: 0, id: Number(m[2]), seq: Number(m[3]) }, at);
      } else t.is(d.icmp, undefined, at);
      // tcpdump marks what it could not read with [|arp]; the rest it decoded, and so must we.
      t.is(d.malformed, line.includes('[|'), `${at} -> ${d.error}`);
    });
  }
  t.true(n >= 40, `${n} frames`);
});

test('decodeFrame reads at a non-zero byteOffset', (t) => {
  for (const f of [F.QINQ_PING, F.ARPING_REPLY, F.PING_RR]) t.deepEqual(decodeFrame(shifted(f, 9)), decodeFrame(f));
});

test('emitArpFrame writes all 60 bytes: the arp-scan request, zero-padded', (t) => {
  const buf = a5(64);
  const arp = { operation: ArpOp.Request, senderMac: HOST, senderIp: ip('198.51.100.1'), targetMac: Mac.ZERO, targetIp: ip('198.51.100.2') };
  t.is(emitArpFrame(buf, { dst: Mac.BROADCAST, src: HOST, arp }), ETH_MIN_FRAME);
  t.deepEqual(buf.subarray(0, 42), F.ARPSCAN_REQUEST);
  t.deepEqual(buf.subarray(42, 60), new Uint8Array(18));
  t.deepEqual(buf.subarray(60), a5(4), 'nothing past the frame');
});

test('emitArpFrame with a VLAN reproduces arp-scan --vlan 42; RARP ops use 0x8035', (t) => {
  const buf = a5(60);
  const arp = { operation: ArpOp.Request, senderMac: HOST, senderIp: ip('198.51.100.1'), targetMac: Mac.ZERO, targetIp: ip('203.0.113.2') };
  t.is(emitArpFrame(buf, { dst: Mac.BROADCAST, src: HOST, vlan: 42, arp }), 60);
  t.deepEqual(buf.subarray(0, 46), F.DOT1Q_REQUEST);
  t.deepEqual(buf.subarray(46), new Uint8Array(14));
  const rarp = a5(60);
  emitArpFrame(rarp, { dst: Mac.BROADCAST, src: HOST, arp: { ...arp, operation: ArpOp.RarpRequest, senderIp: ip('198.51.100.1'), targetIp: ip('198.51.100.2') } });
  t.deepEqual(rarp.subarray(0, 42), F.RARP_REQUEST);
});

test('emitArpFrame refuses a short buffer and a VLAN id outside 0..4095', (t) => {
  const arp = { operation: ArpOp.Reply, senderMac: HOST, senderIp: ip('198.51.100.1'), targetMac: PEER, targetIp: ip('198.51.100.2') };
  t.throws(() => emitArpFrame(new Uint8Array(59), { dst: PEER, src: HOST, arp }), { instanceOf: TruncatedError, message: 'arp frame buffer: need 60 bytes, have 59' });
  for (const vlan of [4096, -1, 1.5]) t.throws(() => emitArpFrame(new Uint8Array(60), { dst: PEER, src: HOST, vlan, arp }), { instanceOf: InvalidFieldError });
});

test('emitIcmpEchoFrame writes a frame the decoder and the codecs accept', (t) => {
  const payload = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const buf = a5(100);
  const n = emitIcmpEchoFrame(buf, { dst: PEER, src: HOST, ipSrc: ip('192.0.2.1'), ipDst: ip('192.0.2.2'), type: 'request', id: 0x4242, seq: 1, payload });
  t.is(n, 14 + 20 + 8 + 32);
  // The Q-in-Q ping of capture.mjs has the same IP/ICMP bytes except identification 0x1234 (ours is 0, RFC 6864).
  const expected = F.QINQ_PING.slice(22);
  expected.set([0, 0], 4);
  const ipCsum = 0xa489 + 0x1234; // the checksum rises by what the identification word lost
  expected.set([ipCsum >> 8, ipCsum & 0xff], 10);
  t.deepEqual(buf.subarray(14, n), expected);
  t.deepEqual(buf.subarray(0, 14), hex('020000000002 020000000001 0800'));
  t.deepEqual(buf.subarray(n), a5(100 - n));
  t.like(decodeFrame(buf.subarray(0, n)), { malformed: false, icmp: { type: 8, id: 0x4242, seq: 1 } });
});

test('emitIcmpEchoFrame pads short frames, defaults TTL 64 and empty data, and checks its buffer', (t) => {
  const buf = a5(64);
  const n = emitIcmpEchoFrame(buf, { dst: HOST, src: PEER, ipSrc: ip('198.51.100.2'), ipDst: ip('198.51.100.1'), type: 'reply', id: 18270, seq: 1 });
  t.is(n, 60);
  // The kernel's reply to ping -s 0, but with DF set and identification 0.
  t.deepEqual(buf.subarray(0, 42), hex('020000000001 020000000002 0800  4500 001c 0000 4000 40 01 e676 c6336402 c6336401  00 00 b8a0 475e 0001'));
  t.deepEqual(buf.subarray(42, 60), new Uint8Array(18));
  t.throws(() => emitIcmpEchoFrame(new Uint8Array(59), { dst: HOST, src: PEER, ipSrc: ip('198.51.100.2'), ipDst: ip('198.51.100.1'), type: 'reply', id: 1, seq: 1 }), { instanceOf: TruncatedError });
  t.throws(() => emitIcmpEchoFrame(new Uint8Array(70_000), { dst: HOST, src: PEER, ipSrc: ip('198.51.100.2'), ipDst: ip('198.51.100.1'), type: 'reply', id: 1, seq: 1, payload: new Uint8Array(65_508) }), { instanceOf: InvalidFieldError });
});

test('emitIcmpEchoFrame with a VLAN: the same frame with an 802.1Q tag after the MACs, padded to 60 bytes plus the tag', (t) => {
  const o = { dst: HOST, src: PEER, ipSrc: ip('198.51.100.2'), ipDst: ip('198.51.100.1'), type: 'reply', id: 18270, seq: 1 } as const;
  const untagged = a5(64);
  emitIcmpEchoFrame(untagged, o);
  const buf = a5(68);
  t.is(emitIcmpEchoFrame(buf, { ...o, vlan: 42 }), 64);
  t.deepEqual(buf.subarray(0, 16), hex('020000000001 020000000002 8100 002a'));
  t.deepEqual(buf.subarray(16, 64), untagged.subarray(12, 60));
  t.deepEqual(buf.subarray(64), a5(4), 'nothing past the frame');
  t.throws(() => emitIcmpEchoFrame(new Uint8Array(63), { ...o, vlan: 42 }), { instanceOf: TruncatedError });
  for (const vlan of [4096, -1, 1.5]) t.throws(() => emitIcmpEchoFrame(new Uint8Array(64), { ...o, vlan }), { instanceOf: InvalidFieldError });
});

test('parseArpFrame: untagged, tagged, Q-in-Q (outermost VID) and padded frames', (t) => {
  t.deepEqual(parseArpFrame(F.ARPING_REPLY), {
    ethSrc: PEER, ethDst: HOST, vlan: null,
    arp: { operation: ArpOp.Reply, senderMac: PEER, senderIp: ip('198.51.100.2'), targetMac: HOST, targetIp: ip('198.51.100.1') },
  });
  t.is(parseArpFrame(F.DOT1Q_REQUEST).vlan, 42);
  t.is(parseArpFrame(F.QINQ_REQUEST).vlan, 7);
  t.is(parseArpFrame(F.PCP_DEI_REQUEST).vlan, 4094);
  t.like(parseArpFrame(F.DOT1AD_REQUEST), { vlan: 7, arp: { targetIp: ip('192.0.2.130') } });
  t.is(parseArpFrame(F.RARP_REQUEST).arp.operation, ArpOp.RarpRequest);
  t.deepEqual(parseArpFrame(shifted(F.QINQ_REQUEST, 11)), parseArpFrame(F.QINQ_REQUEST));
});

test('parseArpFrame throws the typed errors', (t) => {
  t.throws(() => parseArpFrame(F.PING_REQUEST), { instanceOf: UnsupportedError, message: 'ethernet: unsupported ethertype 0x0800' });
  t.throws(() => parseArpFrame(hex(`ffffffffffff 020000000001 0026 424203 ${'00'.repeat(35)}`)), { instanceOf: UnsupportedError, message: 'ethernet: unsupported 802.3 frame of length 38' });
  t.throws(() => parseArpFrame(hex(`ffffffffffff 020000000001 05ee ${'00'.repeat(46)}`)), { instanceOf: InvalidFieldError });
  t.like(parseArpFrame(F.THREE_TAGS), { vlan: 7, arp: { targetIp: ip('192.0.2.2') } }, 'any number of tags');
  t.like(parseArpFrame(F.ARPSCAN_LLC), { vlan: null, arp: { senderIp: ip('198.51.100.1'), targetIp: ip('198.51.100.2') } }, 'RFC 1042 LLC/SNAP');
  t.throws(() => parseArpFrame(F.ARP_HLEN8), { instanceOf: TruncatedError, message: 'arp: need 32 bytes, have 28' });
  t.throws(() => parseArpFrame(F.ARP_OP5), { instanceOf: UnsupportedError, message: 'arp: unsupported operation 5' });
  t.throws(() => parseArpFrame(F.ARP_PTYPE_IPV6), { instanceOf: UnsupportedError, message: 'arp: unsupported ptype 0x86dd' });
  const hlen8 = new Uint8Array(60);
  hlen8.set(F.ARP_HLEN8);
  t.throws(() => parseArpFrame(hlen8), { instanceOf: FieldMismatchError });
  t.throws(() => parseArpFrame(F.ARPING_REPLY.subarray(0, 41)), { instanceOf: TruncatedError, message: 'arp: need 28 bytes, have 27' });
  t.throws(() => parseArpFrame(F.DOT1Q_REQUEST.subarray(0, 17)), { instanceOf: TruncatedError, message: 'ethernet: need 18 bytes, have 17' });
  t.throws(() => parseArpFrame(new Uint8Array(0)), { instanceOf: TruncatedError, message: 'ethernet: need 14 bytes, have 0' });
});

test('a frame cut at every length keeps exactly the ARP fields captured whole, each as in the whole frame, and names the one cut', (t) => {
  const hlen8 = new Uint8Array(60);
  hlen8.set(F.ARP_HLEN8);
  const fields = ['htype', 'ptype', 'hlen', 'plen', 'op', 'sha', 'spa', 'tha', 'tpa'] as const;
  const names = ['hardware type', 'protocol type', 'hardware address length', 'protocol address length', 'operation', 'sender hardware address', 'sender protocol address', 'target hardware address', 'target protocol address'];
  let cuts = 0;
  for (const whole of [F.ARPING_REPLY, F.THREE_TAGS, F.ARPSCAN_LLC, F.ARP_PTYPE_IPV6, F.ARP_HTYPE6, F.RARP_REQUEST, hlen8]) {
    const full = decodeFrame(whole).arp!;
    const at = ethernetPayload(whole).at;
    const [h, p] = [full.hlen!, full.plen!];
    const ends = [2, 4, 5, 6, 8, 8 + h, 8 + h + p, 8 + 2 * h + p, 8 + 2 * h + 2 * p];
    for (let len = at; len < at + ends[8]!; len++) {
      const d = decodeFrame(whole.subarray(0, len));
      const have = len - at;
      const kept = fields.filter((_, i) => ends[i]! <= have);
      t.deepEqual(Object.keys(d.arp ?? {}), kept, `cut at ${len}`);
      for (const f of kept) t.is(d.arp![f], full[f], `${f} cut at ${len}`);
      const first = ends.findIndex((e) => e > have);
      t.true(d.malformed && d.error!.endsWith(`(${names[first]} cut short)`), `${len}: ${d.error}`);
      cuts++;
    }
  }
  t.true(cuts > 150, `${cuts} cuts`);
});
