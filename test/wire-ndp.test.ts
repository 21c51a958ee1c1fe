// Issue #17: IPv6 addresses (RFC 4291/5952) and Neighbor Discovery (RFC 4861) against a real capture
// (test/fixtures/pcap/ndp.pcap: two Linux kernels doing DAD, NS/NA and echo; ndp-capture.sh records it). Our NS and NA
// are compared byte for byte with the kernel's; each receiver rule of RFC 4861 §7.1 rejects a forged message;
// `ersatz decode` prints every frame as tcpdump does. Reads files only: nothing is sent.
// Frame offsets: Ethernet 0..14, IPv6 14..54 (hop limit 21, source 22, destination 38), ICMPv6 54.. (code 55,
// checksum 56, flags 58, target 62, first option 78 with its length at 79).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { AddressParseError, ChecksumError, InvalidFieldError, Ipv6, Mac, MalformedError, emitNdpFrame, parseNdpFrame, parseScopedIpv6, type NdpFrame } from '@ersatz/wire';
import { readPcap } from '@ersatz/pcap';
import { MAIN } from './helpers/cmd-run.js';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('../../test/fixtures/pcap/ndp.pcap', import.meta.url));
const frames = [...readPcap(new Uint8Array(readFileSync(fixture)))].map((r) => new Uint8Array(r.data));
const ndp = (f: Uint8Array): NdpFrame => parseNdpFrame(f, 14, null)!;
const HOST = Mac.parse('02:e5:00:00:00:01');
const PEER = Mac.parse('02:e5:00:00:00:02');

test('IPv6 text: every RFC 4291 form parses, and prints as RFC 5952 says', (t) => {
  for (const [text, canonical] of [
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero word is not compressed
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['FF02::1:FF00:2', 'ff02::1:ff00:2'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::ffff:c000:0201', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ]) {
    t.is<string, string>(Ipv6.parse(text!), canonical!, text);
  }
  for (const bad of ['2001:db8::1::2', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '::1.2.3.256', '1.2.3.4::', ':1::', 'fe80::1%eth0']) {
    t.throws(() => Ipv6.parse(bad), { instanceOf: AddressParseError }, bad);
  }
  t.deepEqual(parseScopedIpv6('fe80::1%ez0'), { ip: 'fe80::1', zone: 'ez0' });
  t.is<string, string>(Ipv6.solicitedNode(Ipv6.parse('2001:db8::abcd:1234:5678')), 'ff02::1:ff34:5678');
  t.is<string, string>(Ipv6.multicastMac(Ipv6.parse('ff02::1:ff34:5678')), '33:33:ff:34:56:78');
  t.true(Ipv6.isLinkLocal(Ipv6.parse('fe80::1')) && Ipv6.isLinkLocal(Ipv6.parse('febf::1')) && !Ipv6.isLinkLocal(Ipv6.parse('fec0::1')));
});

test("the kernel's ND messages read as sent: DAD from ::, router solicitation, NS and NA with their link-layer addresses", (t) => {
  const [dad, , rs, , ns, na] = frames.map((f) => parseNdpFrame(f, 14, null));
  t.like(dad, { ip: { src: '::', dst: 'ff02::1:ff00:2', hopLimit: 255 }, ndp: { type: 'ns', target: 'fe80::e5:ff:fe00:2', options: { nonce: '49:f3:ec:ca:f9:eb' } } });
  t.like(rs, { ip: { src: 'fe80::e5:ff:fe00:2', dst: 'ff02::2' }, ndp: { type: 'rs' } });
  t.like(ns, { ethSrc: HOST, ethDst: '33:33:ff:00:00:02', ip: { src: '2001:db8::1', dst: 'ff02::1:ff00:2' }, ndp: { type: 'ns', target: '2001:db8::2', options: { sourceLinkAddress: HOST } } });
  t.like(na, { ethSrc: PEER, ip: { src: '2001:db8::2', dst: '2001:db8::1' }, ndp: { type: 'na', router: false, solicited: true, override: true, target: '2001:db8::2', options: { targetLinkAddress: PEER } } });
  t.is(parseNdpFrame(frames[6]!, 14, null), null, 'an echo request is not ND');
});

test("our NS and NA are the kernel's, byte for byte", (t) => {
  const buf = new Uint8Array(128);
  for (const [i, message, src, dst] of [
    [4, { type: 'ns', target: Ipv6.parse('2001:db8::2'), sourceLinkAddress: HOST }, '2001:db8::1', 'ff02::1:ff00:2'],
    [5, { type: 'na', target: Ipv6.parse('2001:db8::2'), router: false, solicited: true, override: true, targetLinkAddress: PEER }, '2001:db8::2', '2001:db8::1'],
    [8, { type: 'ns', target: Ipv6.parse('fe80::e5:ff:fe00:2'), sourceLinkAddress: HOST }, 'fe80::e5:ff:fe00:1', 'ff02::1:ff00:2'],
    // DAD, with the kernel's RFC 7527 nonce
    [0, { type: 'ns', target: Ipv6.parse('fe80::e5:ff:fe00:2'), nonce: frames[0]!.subarray(80, 86) }, '::', 'ff02::1:ff00:2'],
  ] as const) {
    const kernel = frames[i]!;
    const n = emitNdpFrame(buf, { ethDst: Mac.fromBytes(kernel, 0), ethSrc: Mac.fromBytes(kernel, 6), src: Ipv6.parse(src), dst: Ipv6.parse(dst), message });
    t.deepEqual(buf.subarray(0, n), kernel, `frame ${i}`);
  }
});

test('RFC 4861 §7.1: a forged advertisement is refused for each rule it breaks', (t) => {
  const na = frames[5]!;
  const forge = (edit: (f: Uint8Array) => void, fixChecksum = true): Uint8Array => {
    const f = na.slice();
    edit(f);
    // A forger gets the checksum right: each rule must stand on its own.
    if (fixChecksum) {
      const sum = checksumOf(f);
      f[56] = sum >>> 8;
      f[57] = sum & 0xff;
    }
    return f;
  };
  t.throws(() => ndp(forge((f) => (f[57]! ^= 1), false)), { instanceOf: ChecksumError });
  t.throws(() => ndp(forge((f) => (f[21] = 64))), { instanceOf: InvalidFieldError, message: /hop limit 64/ });
  t.throws(() => ndp(forge((f) => (f[55] = 1))), { instanceOf: InvalidFieldError, message: /code 1/ });
  t.throws(() => ndp(forge((f) => (f[79] = 0))), { instanceOf: MalformedError, message: /length 0/ }); // the option's length byte
  t.throws(() => ndp(forge((f) => f.set(Ipv6.toBytes(Ipv6.parse('ff02::1')), 62))), { instanceOf: MalformedError, message: /multicast address ff02::1/ });
  t.throws(() => ndp(forge((f) => f.set(Ipv6.toBytes(Ipv6.ALL_NODES), 38))), { instanceOf: MalformedError, message: /solicited advertisement to the multicast/ });
  t.notThrows(() => ndp(forge(() => {})), 'the unforged frame with its checksum recomputed still reads');
});

/** The ICMPv6 checksum of the NA frame `f` (Ethernet + IPv6 + 32-byte ICMPv6), computed here from the RFC's definition. */
function checksumOf(f: Uint8Array): number {
  const words: number[] = [];
  const add = (b: Uint8Array): void => {
    for (let i = 0; i < b.length; i += 2) words.push((b[i]! << 8) | (b[i + 1] ?? 0));
  };
  add(f.subarray(22, 54)); // source and destination
  words.push(0, 32, 0, 58); // upper-layer length, zeros, next header
  const icmp = f.slice(54, 86);
  icmp[2] = icmp[3] = 0;
  add(icmp);
  let sum = words.reduce((a, b) => a + b, 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

test('ersatz decode prints each frame of the capture as tcpdump -e does', (t) => {
  const ours = execFileSync('node', [MAIN, 'decode', fixture], { encoding: 'utf8' }).trim().split('\n');
  const theirs = execFileSync('tcpdump', ['-r', fixture, '-nn', '-e'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
  t.is(ours.length, frames.length);
  // tcpdump names the EtherType and the frame length where we say IPv6; the rest is word for word.
  t.deepEqual(ours, theirs.map((l) => l.replace(/, ethertype IPv6 \(0x86dd\), length \d+: /, ', IPv6, ')));
});
