import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter, readPcap } from '@ersatz/pcap';
import { Ipv4, Ipv6, Mac, emitIcmpEchoFrame, emitNdpFrame, writeBasicIpv4Header } from '@ersatz/wire';
import { fileURLToPath } from 'node:url';
import { MAIN } from './helpers/cmd-run.js';

// `ersatz decode` end to end: the built CLI (dist/main.js) on the fixtures, against what tshark dissected in them
// (FILE.tshark.jsonl, written when the fixtures were captured: test/fixtures/pcap/README.md) and what tcpdump prints.
const dir = new URL('../../test/fixtures/pcap/', import.meta.url);
const fixture = (name: string) => fileURLToPath(new URL(name, dir));
const work = mkdtempSync(join(tmpdir(), 'ez-decode-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

function decode(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, 'decode', ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 28, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const lines = (s: string) => s.split('\n').filter((l) => l !== '');

type Dissection = Record<string, string | number | undefined>;
const oracle = (name: string): Dissection[] =>
  lines(readFileSync(new URL(`${name}.tshark.jsonl`, dir), 'utf8')).map((l) => JSON.parse(l) as Dissection);
const str = (o: Dissection, k: string) => String(o[k]);
const num = (o: Dissection, k: string) => Number(o[k]);

/** Outermost tag first: tshark names an 802.1ad tag ieee8021ad and 802.1Q tags vlan. */
const vlans = (o: Dissection): number[] | undefined => {
  const ids = [...(o['ieee8021ad.id'] ? [num(o, 'ieee8021ad.id')] : []), ...(o['vlan.id'] ? str(o, 'vlan.id').split(',').map(Number) : [])];
  return ids.length ? ids : undefined;
};
/** Frames tshark saw as an ARP or IPv4 frame without its addresses: cut short or a broken header. */
const damaged = (o: Dissection) => (/:arp$/.test(str(o, 'frame.protocols')) && !o['arp.dst.proto_ipv4']) || (/(^|:)ip$/.test(str(o, 'frame.protocols')) && !o['ip.src']);
const hex16 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
const DECODED = new Set([1, 101, 113, 228, 276]);

/**
 * The JSON object `decode --json` must print for a frame, from tshark's fields, keys in the documented order. A
 * truncated ARP keeps more than tshark shows (every field captured whole: the property tests check which); tshark's
 * fields must all be there with its values.
 */
function expectedJson(o: Dissection, index: number): Record<string, unknown> {
  const head = { index, ts: str(o, 'frame.time_epoch'), len: num(o, 'frame.cap_len') };
  const linktype = Number(o.linktype);
  if (!DECODED.has(linktype)) return { ...head, malformed: false };
  const e: Record<string, unknown> = { ...head };
  if (linktype === 1) e.eth = { dst: o['eth.dst'], src: o['eth.src'], type: o['eth.type'] ?? hex16(num(o, 'eth.len')) };
  if (linktype === 113 || linktype === 276) {
    e.sll = {
      ...(linktype === 276 && { ifindex: num(o, 'sll.ifindex') }),
      pkttype: num(o, 'sll.pkttype'), hatype: num(o, 'sll.hatype'), addr: o['sll.src.eth'] ?? o['sll.src.other'], type: o['sll.etype'] ?? o['sll.ltype'],
    };
  }
  if (vlans(o)) e.vlan = vlans(o);
  if (o['llc.type']) e.snap = { type: o['llc.type'] };
  if (o['arp.hw.type']) {
    const arp: Record<string, unknown> = {};
    const fields: [string, string, (v: string) => unknown][] = [
      ['htype', 'arp.hw.type', Number], ['ptype', 'arp.proto.type', String], ['hlen', 'arp.hw.size', Number], ['plen', 'arp.proto.size', Number], ['op', 'arp.opcode', Number],
      ['sha', 'arp.src.hw_mac', String], ['spa', 'arp.src.proto_ipv4', String], ['tha', 'arp.dst.hw_mac', String], ['tpa', 'arp.dst.proto_ipv4', String],
    ];
    for (const [ours, theirs, as] of fields) if (o[theirs] !== undefined) arp[ours] = as(str(o, theirs));
    e.arp = arp;
  }
  if (o['ip.src']) e.ipv4 = { src: o['ip.src'], dst: o['ip.dst'], proto: num(o, 'ip.proto') };
  if (o['icmp.type']) e.icmp = { type: num(o, 'icmp.type'), code: num(o, 'icmp.code'), id: num(o, 'icmp.ident'), seq: num(o, 'icmp.seq') };
  e.malformed = damaged(o);
  return e;
}

const FIXTURES = ['arp-us.pcap', 'arp-us-be.pcap', 'arp-ns.pcap', 'vlan.pcap', 'multi.pcapng', 'multi-be.pcapng', 'sections.pcapng', 'odd-arp.pcap', 'any-sll.pcap', 'any-sll2.pcap', 'raw.pcap', 'ipv4.pcap'];

for (const name of FIXTURES) {
  test(`decode --json ${name}: one object per frame, as tshark dissected it`, (t) => {
    const r = decode(fixture(name), '--json');
    t.is(r.stderr, '');
    t.is(r.code, 0);
    const got = lines(r.stdout);
    const want = oracle(name).map(expectedJson);
    t.is(got.length, want.length);
    got.forEach((line, i) => {
      const w = want[i]!;
      if (w.malformed) {
        // What broke is named by the decoder; every field tshark read is kept, with tshark's value.
        const { error, ...rest } = JSON.parse(line) as Record<string, unknown>;
        t.regex(String(error), /^(arp|ipv4): /, line);
        t.like(rest, w, line);
      } else {
        t.is(line, JSON.stringify(w)); // exact text: key order, no extra keys
      }
    });
  });
}

test('decode: a link type it does not read is listed by length, not flagged malformed, and named once on stderr', (t) => {
  const r = decode(fixture('ppp.pcap'), '--json');
  t.is(r.code, 0);
  t.deepEqual(lines(r.stdout), oracle('ppp.pcap').map((o, i) => JSON.stringify(expectedJson(o, i))));
  t.is(r.stderr, `ersatz: decode: ${fixture('ppp.pcap')}: link type 9 not decoded: those frames are listed by length only\n`);
  const human = decode(fixture('ppp.pcap'));
  t.deepEqual(lines(human.stdout), oracle('ppp.pcap').map((o) => `${clock(str(o, 'frame.time_epoch'))} length ${num(o, 'frame.len')}`));
  t.is(human.stderr, r.stderr);
});

/** `HH:MM:SS.uuuuuu` in UTC (the tests run the CLI with TZ=UTC) from tshark's epoch text. */
const clock = (epoch: string) => {
  const [sec, frac] = epoch.split('.') as [string, string];
  return `${new Date(Number(sec) * 1000).toISOString().slice(11, 19)}.${frac.slice(0, 6)}`;
};

// tcpdump's words for a cooked capture's packet type.
const PACKET_TYPES: Record<string, string> = { 0: 'In', 1: 'B', 2: 'M', 3: 'P', 4: 'Out' };

/** What a line says before the network layer: time, then the Ethernet or cooked header, VLANs and LLC/SNAP. */
function lineHead(o: Dissection): string {
  const link = o.linktype === 1 ? `${str(o, 'eth.src')} > ${str(o, 'eth.dst')}, ` : o['sll.pkttype'] ? `${PACKET_TYPES[str(o, 'sll.pkttype')]} ${str(o, 'sll.src.eth')}, ` : '';
  return `${clock(str(o, 'frame.time_epoch'))} ${link}${(vlans(o) ?? []).map((v) => `vlan ${v}, `).join('')}${o['llc.type'] ? 'LLC/SNAP, ' : ''}`;
}

/** The human line for a well-formed ARP or ICMP echo frame, from tshark's fields. */
function expectedHuman(o: Dissection): string {
  const head = lineHead(o);
  if (o['arp.opcode'] === '1') {
    const tha = str(o, 'arp.dst.hw_mac');
    return `${head}ARP, Request who-has ${str(o, 'arp.dst.proto_ipv4')}${tha === '00:00:00:00:00:00' ? '' : ` (${tha})`} tell ${str(o, 'arp.src.proto_ipv4')}, length 28`;
  }
  if (o['arp.opcode'] === '2') return `${head}ARP, Reply ${str(o, 'arp.src.proto_ipv4')} is-at ${str(o, 'arp.src.hw_mac')}, length 28`;
  const kind = o['icmp.type'] === '8' ? 'request' : 'reply';
  return `${head}IPv4, ${str(o, 'ip.src')} > ${str(o, 'ip.dst')}: ICMP echo ${kind}, id ${str(o, 'icmp.ident')}, seq ${str(o, 'icmp.seq')}, length ${num(o, 'ip.len') - 20}`;
}

for (const name of ['arp-us.pcap', 'arp-ns.pcap', 'vlan.pcap', 'multi.pcapng', 'odd-arp.pcap', 'any-sll.pcap', 'any-sll2.pcap', 'raw.pcap']) {
  test(`decode ${name}: tcpdump-like lines with local times, VLANs, and malformed frames flagged`, (t) => {
    const r = decode(fixture(name));
    t.is(r.code, 0);
    const got = lines(r.stdout);
    const want = oracle(name);
    t.is(got.length, want.length);
    got.forEach((line, i) => {
      const o = want[i]!;
      if (damaged(o)) t.true(line.startsWith(lineHead(o)) && /(ARP|IPv4).* \[malformed: (arp|ipv4): .+\]$/.test(line), line);
      else t.is(line, expectedHuman(o));
    });
  });
}

test('the ARP and ICMP wording is tcpdump\'s, word for word', (t) => {
  for (const name of ['arp-us.pcap', 'arp-ns.pcap']) {
    // tcpdump -e: `TIME SRC > DST, ethertype ARP (0x0806), length 42: Request who-has …, length 28`
    const dump = spawnSync('tcpdump', ['-r', fixture(name), '-nn', '-e', '-tt'], { encoding: 'utf8' });
    const theirs = lines(dump.stdout).map((l) => l.slice(l.indexOf(': ') + 2));
    const ours = lines(decode(fixture(name)).stdout).map((l) => l.replace(/^.*?, (ARP|IPv4), /, ''));
    t.is(ours.length, oracle(name).length);
    t.deepEqual(ours, theirs);
  }
});

/** One ARP packet (RFC 826 layout) with any field values; hlen and plen are the lengths of the address arrays. */
function arpPacket(f: { htype?: number; ptype?: number; op: number; sha: number[]; spa: number[]; tha: number[]; tpa: number[] }): number[] {
  const { htype = 1, ptype = 0x0800, op, sha, spa, tha, tpa } = f;
  return [htype >> 8, htype & 255, ptype >> 8, ptype & 255, sha.length, spa.length, op >> 8, op & 255, ...sha, ...spa, ...tha, ...tpa];
}

/**
 * An Ethernet frame from 02:00:00:00:00:01 (optionally 802.1Q-tagged; `type` is an 802.3 length at ≤ 1500), padded
 * to 60 bytes as a NIC pads it unless `pad` is false.
 */
function ethFrame(body: number[], o: { type?: number; vlan?: number; pad?: boolean } = {}): Uint8Array {
  const tag = o.vlan === undefined ? [] : [0x81, 0x00, o.vlan >> 8, o.vlan & 255];
  const f = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, ...tag, (o.type ?? 0x0806) >> 8, (o.type ?? 0x0806) & 255, ...body];
  while (o.pad !== false && f.length < 60 + tag.length) f.push(0);
  return Uint8Array.from(f);
}

test("ARP on the wire as NICs send it, and odd types and operations: tcpdump's words and length, word for word", async (t) => {
  // The fixtures come off a veth link, which never pads: real Ethernet pads ARP to a 60-byte frame, and tcpdump's
  // "length" is what follows the link header (46), not ARP's 28 bytes. The other frames are in no fixture either.
  const [a, b, z4, z6] = [[2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], [0, 0, 0, 0], [0, 0, 0, 0, 0, 0]];
  const [p, q] = [[192, 0, 2, 1], [192, 0, 2, 2]];
  const frames = [
    ethFrame(arpPacket({ op: 1, sha: a, spa: p, tha: z6, tpa: q })),
    ethFrame(arpPacket({ op: 2, sha: b, spa: q, tha: a, tpa: p })),
    ethFrame(arpPacket({ op: 1, sha: a, spa: p, tha: z6, tpa: q }), { vlan: 42 }),
    ethFrame(arpPacket({ op: 1, sha: a, spa: p, tha: b, tpa: q }), { pad: false }),
    // RFC 1042: an 802.3 length field (36: LLC/SNAP and the ARP packet), then padding that tcpdump does not count.
    ethFrame([0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06, ...arpPacket({ op: 1, sha: a, spa: p, tha: z6, tpa: q })], { type: 36 }),
    ethFrame(arpPacket({ htype: 0xff00, ptype: 0x8b01, op: 4, sha: [], spa: [], tha: [], tpa: [] })), // hlen 0, plen 0
    ethFrame(arpPacket({ ptype: 0x86dd, op: 1, sha: a, spa: new Array<number>(16).fill(0xfe), tha: z6, tpa: new Array<number>(16).fill(1) })),
    ethFrame(arpPacket({ ptype: 0x9200, op: 1, sha: a, spa: p, tha: z6, tpa: q })),
    ethFrame(arpPacket({ htype: 6, op: 1, sha: a, spa: p, tha: z6, tpa: q })), // Token Ring
    ethFrame(arpPacket({ op: 3, sha: a, spa: z4, tha: a, tpa: z4 }), { type: 0x8035 }), // RARP (RFC 903)
    ethFrame(arpPacket({ op: 4, sha: b, spa: q, tha: a, tpa: p }), { type: 0x8035 }),
    ethFrame(arpPacket({ op: 8, sha: a, spa: p, tha: b, tpa: z4 })), // InARP (RFC 2390)
    ethFrame(arpPacket({ op: 9, sha: b, spa: q, tha: a, tpa: p })),
    ethFrame(arpPacket({ op: 7, sha: a, spa: p, tha: z6, tpa: q })),
    ethFrame(arpPacket({ op: 10, sha: a, spa: p, tha: z6, tpa: q })),
  ];
  const path = join(work, 'arp-odd-wire.pcap');
  const w = await PcapWriter.open(path);
  frames.forEach((f, i) => w.write(BigInt(i + 1) * 1_000_000_000n, f));
  await w.close();
  // tcpdump -n: `TIME ARP, <words>` (a hex dump follows an operation it does not print: ersatz prints none).
  const dump = spawnSync('tcpdump', ['-r', path, '-nn'], { encoding: 'utf8' });
  const theirs = lines(dump.stdout).filter((l) => !l.startsWith('\t')).map((l) => l.slice(l.indexOf('ARP, ') + 5).trimEnd());
  const ours = lines(decode(path).stdout).map((l) => l.replace(/^.*?, R?ARP, /, ''));
  t.is(theirs.length, frames.length);
  t.deepEqual(ours, theirs);
  t.is(ours[0], 'Request who-has 192.0.2.2 tell 192.0.2.1, length 46');
  t.is(ours[4], 'Request who-has 192.0.2.2 tell 192.0.2.1, length 28');
});

test("a capture cut by its snap length (tcpdump -s 68): ICMP echo, UDP and a neighbor solicitation shown, not flagged (the echoes word for word with tcpdump); JSON gives the length on the wire", async (t) => {
  const [a, b] = [Mac.parse('02:00:00:00:00:01'), Mac.parse('02:00:00:00:00:02')];
  const buf = new Uint8Array(1600);
  const echo = (type: 'request' | 'reply', data: number) =>
    buf.slice(0, emitIcmpEchoFrame(buf, { dst: b, src: a, ipSrc: Ipv4.parse('192.0.2.1'), ipDst: Ipv4.parse('192.0.2.2'), type, id: 0x1234, seq: 7, payload: new Uint8Array(data).fill(0xa5) }));
  // A UDP datagram: its 8-byte header and 100 bytes (checksum 0: none, RFC 768).
  const udp = ethFrame(new Array<number>(20 + 8 + 100).fill(7), { type: 0x0800 });
  writeBasicIpv4Header(udp, 14, { ipSrc: Ipv4.parse('192.0.2.1'), ipDst: Ipv4.parse('192.0.2.2') }, 17, 64, 108);
  udp.set([0x30, 0x39, 0, 53, 0, 108, 0, 0], 34);
  const ns = buf.slice(0, emitNdpFrame(buf, { ethDst: Mac.parse('33:33:ff:00:00:02'), ethSrc: a, src: Ipv6.parse('fe80::1'), dst: Ipv6.parse('ff02::1:ff00:2'), message: { type: 'ns', target: Ipv6.parse('fe80::2'), sourceLinkAddress: a } }));
  const frames = [echo('request', 56), echo('reply', 1000), udp, ns];
  const path = join(work, 'snapped.pcap');
  const w = await PcapWriter.open(path, { snaplen: 68 });
  frames.forEach((f, i) => w.write(BigInt(i + 1) * 1_000_000_000n, f));
  await w.close();
  const dump = spawnSync('tcpdump', ['-r', path, '-nn'], { encoding: 'utf8' });
  const theirs = lines(dump.stdout).map((l) => l.replace(/^\S+ IP6? /, ''));
  const out = decode(path);
  t.is(out.code, 0);
  const ours = lines(out.stdout).map((l) => l.replace(/^.*?, IPv[46], /, ''));
  t.deepEqual(ours.slice(0, 2), theirs.slice(0, 2), 'the echoes, word for word');
  t.is(ours[0], '192.0.2.1 > 192.0.2.2: ICMP echo request, id 4660, seq 7, length 64');
  // tcpdump decodes port 53 as DNS (here a cut one); ersatz names the protocol and counts its data, as tcpdump does
  // for a port it does not know.
  t.is(ours[2], '192.0.2.1 > 192.0.2.2: UDP, length 100');
  // ersatz checks a Neighbor Discovery message whole or not at all (RFC 4861 §7.1.1's checks need all of it): a cut
  // one is named by its type, and its target when captured; tcpdump prints the fields captured, here none past the
  // type (14 of 32 bytes).
  t.is(ours[3], 'fe80::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation, length 32');
  t.is(theirs[3], 'fe80::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation [|icmp6]');
  // Cut after the target (snap length 78), both name it.
  const path78 = join(work, 'snapped78.pcap');
  const w78 = await PcapWriter.open(path78, { snaplen: 78 });
  w78.write(1_000_000_000n, ns);
  await w78.close();
  const ns78 = lines(decode(path78).stdout)[0]!.replace(/^.*?, IPv6, /, '');
  t.is(ns78, 'fe80::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation, who has fe80::2, length 32');
  t.is(ns78, lines(spawnSync('tcpdump', ['-r', path78, '-nn'], { encoding: 'utf8' }).stdout)[0]!.replace(/^\S+ IP6 /, ''));
  t.false(out.stdout.includes('malformed'));
  const json = lines(decode(path, '--json').stdout).map((l) => JSON.parse(l) as { len: number; wireLen?: number; malformed: boolean; icmp?: object });
  t.deepEqual(json.map((j) => [j.len, j.wireLen, j.malformed]), [[68, 98, false], [68, 1042, false], [68, 142, false], [68, 86, false]]);
  t.deepEqual(json[1]!.icmp, { type: 0, code: 0, id: 0x1234, seq: 7 });
});

test('a cooked capture of an interface without link-layer addresses (a tunnel, tcpdump -i any): the packet type, no empty address', async (t) => {
  const buf = new Uint8Array(128);
  const n = emitIcmpEchoFrame(buf, { dst: Mac.BROADCAST, src: Mac.BROADCAST, ipSrc: Ipv4.parse('192.0.2.1'), ipDst: Ipv4.parse('192.0.2.2'), type: 'request', id: 1, seq: 2 });
  // LINUX_SLL: packet type 0 (to us), ARPHRD_NONE (0xfffe), address length 0, 8 address bytes, protocol IPv4.
  const sll = Uint8Array.from([0, 0, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, ...buf.subarray(14, n)]);
  const path = join(work, 'sll-noaddr.pcap');
  const w = await PcapWriter.open(path, { linktype: 113 });
  w.write(1_000_000_000n, sll);
  await w.close();
  t.deepEqual(lines(decode(path).stdout), ['00:00:01.000000 In IPv4, 192.0.2.1 > 192.0.2.2: ICMP echo request, id 1, seq 2, length 8']);
});

test('several files: each under a header (JSON: a "file" key), indexes counting from 0 in each', (t) => {
  const [a, b] = [fixture('arp-ns.pcap'), fixture('vlan.pcap')];
  const human = lines(decode(a, b).stdout);
  const [na, nb] = [oracle('arp-ns.pcap').length, oracle('vlan.pcap').length];
  t.is(human[0], `==> ${a} <==`);
  t.is(human[na + 1], `==> ${b} <==`);
  t.is(human.length, na + nb + 2);
  t.regex(decode(a, b).stdout, new RegExp(`\\n\\n==> ${b} <==\\n`)); // a blank line between files, as head(1)
  const json = lines(decode(a, b, '--json').stdout).map((l) => JSON.parse(l) as { file: string; index: number });
  t.deepEqual(
    json.map((o) => [o.file, o.index]),
    [...Array.from({ length: na }, (_, i) => [a, i]), ...Array.from({ length: nb }, (_, i) => [b, i])],
  );
  t.true(lines(decode(a, b, '--json').stdout)[0]!.startsWith(`{"file":${JSON.stringify(a)},"index":0,"ts":`));
});

test('a missing or non-pcap file: one line on stderr, exit 2, and the other files still decoded', (t) => {
  const missing = join(work, 'missing.pcap');
  let r = decode(missing);
  t.is(r.code, 2);
  t.is(r.stdout, '');
  t.is(r.stderr, `ersatz: decode: cannot read ${missing}: no such file or directory\n`);
  const text = join(work, 'notes.txt');
  writeFileSync(text, 'hello, world\n');
  r = decode(text);
  t.is(r.code, 2);
  t.is(r.stderr, `ersatz: decode: ${text} is not a pcap or pcapng file (magic 0x68656c6c)\n`);
  r = decode(fixture('../pcap'));
  t.is(r.code, 2);
  t.regex(r.stderr, /^ersatz: decode: cannot read .*: illegal operation on a directory\n$/);
  r = decode(missing, fixture('arp-ns.pcap'), text);
  t.is(r.code, 2);
  t.is(lines(r.stdout).length, oracle('arp-ns.pcap').length + 1);
  t.is(lines(r.stderr).length, 2);
  t.notRegex(r.stderr, /\n\s+at /); // no stack trace
});

test('a capture cut inside its last record: every whole frame, then one line naming the cut, exit 2', (t) => {
  const bytes = readFileSync(fixture('arp-us.pcap'));
  const cut = join(work, 'cut.pcap');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 5));
  const r = decode(cut, '--json');
  t.is(r.code, 2);
  const n = oracle('arp-us.pcap').length;
  t.is(lines(r.stdout).length, n - 1);
  t.is(r.stderr, `ersatz: decode: ${cut}: truncated record at byte ${bytes.length - 58}: need 58 bytes, have 53\n`);
});

test('usage: --help, no file, a bad --threads', (t) => {
  const help = decode('--help');
  t.is(help.code, 0);
  t.regex(help.stdout, /^usage: ersatz decode FILE\.\.\. \[--json\]/);
  t.regex(help.stdout, /--threads N/);
  const none = decode();
  t.is(none.code, 2);
  t.is(none.stderr, "ersatz: decode: name at least one capture file: run 'ersatz decode --help'\n");
  t.is(decode(fixture('arp-us.pcap'), '--threads', 'many').code, 2);
  t.is(decode(fixture('arp-us.pcap'), '--bogus').code, 2);
});

/** A capture of `n` frames cycling through every frame of the Ethernet fixtures (malformed ones included). */
async function bigCapture(n: number): Promise<string> {
  const frames = ['arp-us.pcap', 'vlan.pcap', 'arp-ns.pcap'].flatMap((f) => [...readPcap(new Uint8Array(readFileSync(fixture(f))))]);
  const path = join(work, `big-${n}.pcap`);
  const w = await PcapWriter.open(path, { precision: 'ns' });
  for (let i = 0; i < n; i++) w.write(1_700_000_000_000_000_000n + BigInt(i) * 1_234_567n, frames[i % frames.length]!.data);
  await w.close();
  return path;
}

test('the worker pool prints exactly what the main thread prints, in order', async (t) => {
  for (const args of [[], ['--json']]) {
    const small = FIXTURES.map(fixture);
    t.is(decode(...small, ...args, '--threads', '2').stdout, decode(...small, ...args, '--threads', '0').stdout);
  }
  // Many batches of 8192 frames in flight at once, written back in order.
  const big = await bigCapture(60_000);
  const pooled = decode(big, '--json', '--threads', '2');
  const single = decode(big, '--json', '--threads', '0');
  t.is(pooled.code, 0);
  t.is(lines(pooled.stdout).length, 60_000);
  t.is(pooled.stdout, single.stdout);
});

test('a reader that stops early (| head) ends decoding quietly: exit 0, no stack trace', async (t) => {
  const big = await bigCapture(60_000);
  const child = spawn(process.execPath, [MAIN, 'decode', big], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const first = await new Promise<string>((resolve) => child.stdout.once('data', (b: Buffer) => resolve(b.toString())));
  child.stdout.destroy(); // what head does after its lines: close the pipe
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.regex(first, /^\d\d:\d\d:\d\d\.\d{6} 02:e5:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has/);
  t.is(stderr, '');
  t.is(code, 0);
});
