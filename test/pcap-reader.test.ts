import test from 'ava';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcap, readPcapFile, LinkType, PcapError, PcapMagicError, PcapMalformedError, PcapTruncatedError, PcapUnsupportedError, PcapFileError, type PcapRecord } from '@ersatz/pcap';
import { fileURLToPath } from 'node:url';

// Fixtures: real traffic between two namespaces, captured by tcpdump/dumpcap (test/fixtures/pcap/README.md).
// Each has FILE.tshark.jsonl beside it: tshark's dissection, the oracle these tests compare against.
const dir = new URL('../../test/fixtures/pcap/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
const oracle = (name: string): Record<string, string | number>[] =>
  readFileSync(new URL(`${name}.tshark.jsonl`, dir), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, string | number>);

const summary = (r: PcapRecord) => ({
  tsNs: r.tsNs,
  caplen: r.caplen,
  origlen: r.origlen,
  linktype: r.linktype,
  interfaceId: r.interfaceId,
  md5: createHash('md5').update(r.data).digest('hex'),
});

// tcpdump -r arp-us.pcap -nn -e (first lines):
//   02:e5:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 198.51.100.2 (ff:ff:ff:ff:ff:ff) tell 198.51.100.1, length 28
//   02:e5:00:00:00:02 > 02:e5:00:00:00:01, ethertype ARP (0x0806), length 42: Reply 198.51.100.2 is-at 02:e5:00:00:00:02, length 28
// arp-us-be.pcap: the same, big-endian. arp-ns.pcap: arping + ping with --time-stamp-precision=nano.
// vlan.pcap: VLAN 42 ARP and ICMP, QinQ 100/7 ARP, a cut ARP, an IPv4 header with IHL 4.
// multi.pcapng: dumpcap -i ez1 -i any (EN10MB and LINUX_SLL2); multi-be.pcapng: big-endian.
// sections.pcapng: vlan.pcap as a little-endian section, then arp-ns.pcap as a big-endian one.
const FIXTURES = ['arp-us.pcap', 'arp-us-be.pcap', 'arp-ns.pcap', 'vlan.pcap', 'multi.pcapng', 'multi-be.pcapng', 'sections.pcapng'];

for (const name of FIXTURES) {
  test(`${name}: every record as tshark read it (time, lengths, link type, interface, bytes)`, (t) => {
    const got = [...readPcap(fixture(name))].map(summary);
    const want = oracle(name).map((o) => ({
      tsNs: BigInt(String(o['frame.time_epoch']).replace('.', '')),
      caplen: Number(o['frame.cap_len']),
      origlen: Number(o['frame.len']),
      linktype: o.linktype,
      interfaceId: Number(o['frame.interface_id'] ?? 0), // classic pcap has no interfaces: tshark leaves it out
      md5: o['frame.md5_hash'],
    }));
    t.true(want.length > 0);
    t.deepEqual(got, want);
  });
}

test('the header says the format, byte order and precision', (t) => {
  const fmt = (name: string) => readPcap(fixture(name)).format;
  t.deepEqual(fmt('arp-us.pcap'), { kind: 'pcap', littleEndian: true, nanosecond: false, version: '2.4', snaplen: 262144, linktype: LinkType.ETHERNET });
  t.deepEqual(fmt('arp-us-be.pcap'), { kind: 'pcap', littleEndian: false, nanosecond: false, version: '2.4', snaplen: 262144, linktype: LinkType.ETHERNET });
  t.deepEqual(fmt('arp-ns.pcap'), { kind: 'pcap', littleEndian: true, nanosecond: true, version: '2.4', snaplen: 262144, linktype: LinkType.ETHERNET });
  t.deepEqual(fmt('multi.pcapng'), { kind: 'pcapng', littleEndian: true, version: '1.0' });
  t.deepEqual(fmt('multi-be.pcapng'), { kind: 'pcapng', littleEndian: false, version: '1.0' });
});

test('big-endian twins hold exactly the records of their little-endian originals', (t) => {
  const records = (name: string) => [...readPcap(fixture(name))].map((r) => ({ ...r, data: r.data.slice() }));
  t.deepEqual(records('arp-us-be.pcap'), records('arp-us.pcap'));
  t.deepEqual(records('multi-be.pcapng'), records('multi.pcapng'));
});

test('pcapng: interfaces keep their own link types; a new section starts its own interfaces and byte order', (t) => {
  // dumpcap -i ez1 -i any: interface 0 is Ethernet, interface 1 Linux cooked v2, and both saw the same exchange.
  const multi = [...readPcap(fixture('multi.pcapng'))];
  const on = (id: number) => multi.filter((r) => r.interfaceId === id);
  t.deepEqual(new Set(on(0).map((r) => r.linktype)), new Set([LinkType.ETHERNET]));
  t.deepEqual(new Set(on(1).map((r) => r.linktype)), new Set([LinkType.LINUX_SLL2]));
  t.is(on(0).length + on(1).length, multi.length);
  t.is(on(0).length, on(1).length);
  // Each IDB's if_name, as dumpcap wrote it; a section whose IDB has none gives records without one.
  t.deepEqual([new Set(on(0).map((r) => r.interfaceName)), new Set(on(1).map((r) => r.interfaceName))], [new Set(['ez1']), new Set(['any'])]);
  const sections = [...readPcap(fixture('sections.pcapng'))];
  const [vlan, arpNs] = [[...readPcap(fixture('vlan.pcap'))], [...readPcap(fixture('arp-ns.pcap'))]];
  t.deepEqual(sections.map(summary), [...vlan, ...arpNs].map(summary));
  t.false(sections.some((r) => 'interfaceName' in r));
  // The second section is big-endian with nanosecond timestamps: sub-microsecond digits prove its if_tsresol was read.
  t.true(sections.slice(vlan.length).some((r) => r.tsNs % 1000n !== 0n));
});

test('records are views into the given bytes, at any byteOffset', (t) => {
  const file = fixture('arp-ns.pcap');
  const big = new Uint8Array(file.length + 7).fill(0xa5);
  big.set(file, 3);
  const view = big.subarray(3, 3 + file.length);
  const a = [...readPcap(view)];
  const b = [...readPcap(file)];
  t.deepEqual(a.map(summary), b.map(summary));
  for (const r of a) t.is(r.data.buffer, big.buffer);
  t.is(a[0]!.data.byteOffset, 3 + 24 + 16); // after the file header and the first record header
});

test('readPcapFile reads a file (optionally into shared memory) and names what it cannot read', async (t) => {
  const reader = await readPcapFile(fileURLToPath(new URL('arp-us.pcap', dir)), { shared: true });
  t.true(reader.bytes.buffer instanceof SharedArrayBuffer);
  t.is([...reader].length, oracle('arp-us.pcap').length);
  t.false((await readPcapFile(fileURLToPath(new URL('arp-us.pcap', dir)))).bytes.buffer instanceof SharedArrayBuffer);
  const missing = await t.throwsAsync(readPcapFile('/nonexistent/x.pcap'), { instanceOf: PcapFileError });
  t.is(missing?.message, 'cannot read /nonexistent/x.pcap: no such file or directory');
  t.is(missing?.code, 'ENOENT');
  const dirErr = await t.throwsAsync(readPcapFile(fileURLToPath(new URL('.', dir))), { instanceOf: PcapFileError });
  t.is(dirErr?.code, 'EISDIR');
});

/** Reads every record it can; returns them and what stopped it. */
function drain(bytes: Uint8Array): { records: PcapRecord[]; error?: unknown } {
  const records: PcapRecord[] = [];
  try {
    for (const r of readPcap(bytes)) records.push(r);
    return { records };
  } catch (error) {
    return { records, error };
  }
}

test('classic pcap cut at every length: the complete records, then PcapTruncatedError at the cut one', (t) => {
  for (const name of ['arp-us.pcap', 'arp-us-be.pcap']) {
    const file = fixture(name);
    const full = [...readPcap(file)];
    const boundaries = new Set([24, ...full.map((r) => r.data.byteOffset + r.caplen)]);
    for (let n = 0; n < file.length; n++) {
      const { records, error } = drain(file.subarray(0, n));
      if (boundaries.has(n)) {
        // Cut between records: a shorter but whole file.
        t.is(error, undefined);
        t.is(records.length, full.filter((r) => r.data.byteOffset + r.caplen <= n).length);
        continue;
      }
      t.true(error instanceof PcapTruncatedError, `${name} cut at ${n}: ${String(error)}`);
      const e = error as PcapTruncatedError;
      if (n < 24) {
        t.is(records.length, 0);
        t.is(e.offset, 0);
        continue;
      }
      const complete = full.filter((r) => r.data.byteOffset + r.caplen <= n);
      t.is(records.length, complete.length, `${name} cut at ${n}`);
      // The error points at the record it could not finish, and says how much was there.
      const at = records.length === 0 ? 24 : records.at(-1)!.data.byteOffset + records.at(-1)!.caplen;
      t.is(e.offset, at);
      t.is(e.have, n - at);
      t.true(e.need > e.have);
    }
  }
  const e = drain(fixture('arp-us.pcap').subarray(0, 24 + 16 + 30)).error as PcapTruncatedError;
  t.is(e.message, 'truncated record at byte 24: need 58 bytes, have 46');
});

test('pcapng cut at every length: the records of complete blocks, then PcapTruncatedError', (t) => {
  for (const name of ['multi.pcapng', 'multi-be.pcapng']) {
    const file = fixture(name);
    const le = name === 'multi.pcapng';
    const dv = new DataView(file.buffer);
    // Where each block ends, walked with the block length field (at +4 of every block).
    const ends: number[] = [];
    for (let off = 0; off < file.length; off += dv.getUint32(off + 4, le)) ends.push(off + dv.getUint32(off + 4, le));
    const full = [...readPcap(file)];
    const blockEnd = (r: PcapRecord) => ends.find((e) => e > r.data.byteOffset)!;
    for (let n = 0; n < file.length; n++) {
      const { records, error } = drain(file.subarray(0, n));
      if (ends.includes(n)) t.is(error, undefined, `${name} cut at ${n}`);
      else t.true(error instanceof PcapTruncatedError, `${name} cut at ${n}: ${String(error)}`);
      t.is(records.length, full.filter((r) => blockEnd(r) <= n).length, `${name} cut at ${n}`);
    }
  }
});

test('what is not a capture file is refused with its magic, before any record is read', (t) => {
  const text = new TextEncoder().encode('#!/bin/sh\necho not a capture\n');
  const e = t.throws(() => readPcap(text), { instanceOf: PcapMagicError });
  t.is(e?.magic, 0x23212f62);
  t.is(e?.message, 'not a pcap or pcapng file: bad magic 0x23212f62 (expected 0xa1b2c3d4, 0xa1b23c4d or a pcapng section header 0x0a0d0d0a)');
  t.throws(() => readPcap(new Uint8Array(0)), { instanceOf: PcapTruncatedError, message: 'truncated file header at byte 0: need 4 bytes, have 0' });
  t.throws(() => readPcap(fixture('arp-us.pcap').subarray(0, 20)), { instanceOf: PcapTruncatedError, message: 'truncated pcap file header at byte 0: need 24 bytes, have 20' });
  const v3 = fixture('arp-us.pcap');
  v3[4] = 3; // major version 3, little-endian
  t.throws(() => readPcap(v3), { instanceOf: PcapUnsupportedError, message: 'unsupported pcap version 3.4' });
  const ng = fixture('multi.pcapng');
  ng[12] = 2;
  t.throws(() => readPcap(ng), { instanceOf: PcapUnsupportedError, message: 'unsupported pcapng version 2.0' });
  const bom = fixture('multi.pcapng');
  bom[8] = 0;
  t.throws(() => readPcap(bom), { instanceOf: PcapMalformedError });
});

test('a record length no capture could hold is malformed, not a giant allocation', (t) => {
  const file = fixture('arp-us.pcap');
  new DataView(file.buffer).setUint32(24 + 8, 0x7fff_ffff, true);
  const { records, error } = drain(file);
  t.is(records.length, 0);
  t.true(error instanceof PcapMalformedError);
  t.is((error as Error).message, 'malformed record at byte 24: captured length 2147483647 is over the maximum 262144');
});

test('fuzz: damaged files yield records or a PcapError, never anything else', (t) => {
  const files = ['arp-us.pcap', 'arp-ns.pcap', 'multi.pcapng', 'multi-be.pcapng', 'sections.pcapng'].map(fixture);
  fc.assert(
    fc.property(fc.nat(files.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }), fc.nat(), (which, edits, cut) => {
      const file = files[which]!.slice();
      for (const [pos, value] of edits) file[pos % file.length] = value;
      const { error } = drain(file.subarray(0, file.length - (cut % 64)));
      return error === undefined || error instanceof PcapError;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

// ---- pcapng blocks no fixture tool wrote: built here byte by byte, little- or big-endian (pcapng spec §4).
class Ng {
  readonly parts: Uint8Array[] = [];
  constructor(readonly le = true) {}
  u16 = (n: number) => this.#num(2, n);
  u32 = (n: number) => this.#num(4, n);
  #num(size: 2 | 4, n: number): Uint8Array {
    const b = new Uint8Array(size);
    const dv = new DataView(b.buffer);
    if (size === 2) dv.setUint16(0, n, this.le);
    else dv.setUint32(0, n, this.le);
    return b;
  }
  pad(b: Uint8Array): Uint8Array {
    const out = new Uint8Array((b.length + 3) & ~3);
    out.set(b);
    return out;
  }
  option(code: number, value: Uint8Array): Uint8Array {
    return concat(this.u16(code), this.u16(value.length), this.pad(value));
  }
  block(type: number, ...body: Uint8Array[]): this {
    const b = concat(...body);
    const len = 12 + b.length;
    this.parts.push(concat(this.u32(type), this.u32(len), b, this.u32(len)));
    return this;
  }
  shb(): this {
    const section = new Uint8Array(8).fill(0xff); // section length -1: unknown
    return this.block(0x0a0d0d0a, this.u32(0x1a2b3c4d), this.u16(1), this.u16(0), section);
  }
  idb(linktype: number, snaplen: number, ...options: Uint8Array[]): this {
    return this.block(1, this.u16(linktype), this.u16(0), this.u32(snaplen), ...options, ...(options.length ? [this.u32(0)] : []));
  }
  epb(ifid: number, units: bigint, frame: Uint8Array, origlen = frame.length): this {
    return this.block(6, this.u32(ifid), this.u32(Number(units >> 32n)), this.u32(Number(units & 0xffffffffn)), this.u32(frame.length), this.u32(origlen), this.pad(frame));
  }
  bytes(): Uint8Array {
    return concat(...this.parts);
  }
}
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
const frame = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
const i64 = (n: bigint, le: boolean) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, n, le);
  return b;
};

for (const le of [true, false]) {
  const order = le ? 'little' : 'big';
  test(`pcapng (${order}-endian): if_tsresol in powers of 10 and 2, if_tsoffset, SPB, OPB; NRB, ISB, custom and unknown blocks skipped`, (t) => {
    const ng = new Ng(le);
    ng.shb()
      .idb(1, 0) // default resolution: microseconds
      .idb(1, 0, ng.option(9, Uint8Array.of(9)), ng.option(2, new TextEncoder().encode('ez0'))) // nanoseconds, and an if_name
      .idb(1, 0, ng.option(9, Uint8Array.of(0x80 | 10)), ng.option(14, i64(1_000n, le))) // 2^-10 s, offset 1000 s
      .idb(LinkType.LINUX_SLL2, 40) // snaplen 40: its SPB frames are cut to 40
      .epb(0, 1_700_000_000_123_456n, frame(60))
      .block(4, ng.u16(1), ng.u16(8), Uint8Array.of(192, 0, 2, 1, 0x61, 0x00, 0, 0), ng.u16(0), ng.u16(0)) // NRB: 192.0.2.1 "a"
      .epb(1, 1_700_000_000_123_456_789n, frame(42))
      .block(0xbad, ng.u32(32473), frame(8)) // custom block (PEN 32473, RFC 5612 example)
      .epb(2, 1025n, frame(14)) // 1 + 1/1024 s after 1000 s
      .block(0x7777, frame(12)) // a block type nobody defined
      .block(5, ng.u32(0), ng.u32(0), ng.u32(1), ng.option(4, i64(5n, le)), ng.u32(0)) // ISB
      .block(2, ng.u16(1), ng.u16(0), ng.u32(0), ng.u32(7), ng.u32(20), ng.u32(64), ng.pad(frame(20))); // OPB: iface 1, cut 20 of 64
    // SPB: interface 0 (snaplen 0 = no limit) in a second section whose interface 0 has snaplen 40.
    const second = new Ng(le);
    second.shb().idb(LinkType.LINUX_SLL2, 40).block(3, second.u32(100), second.pad(frame(40)));
    const records = [...readPcap(concat(ng.bytes(), second.bytes()))];
    t.deepEqual(
      records.map((r) => ({ ...r, data: Array.from(r.data) })),
      [
        { tsNs: 1_700_000_000_123_456_000n, caplen: 60, origlen: 60, linktype: 1, data: Array.from(frame(60)), interfaceId: 0 },
        { tsNs: 1_700_000_000_123_456_789n, caplen: 42, origlen: 42, linktype: 1, data: Array.from(frame(42)), interfaceId: 1, interfaceName: 'ez0' },
        { tsNs: 1_001_000_976_562n, caplen: 14, origlen: 14, linktype: 1, data: Array.from(frame(14)), interfaceId: 2 },
        { tsNs: 7n, caplen: 20, origlen: 64, linktype: 1, data: Array.from(frame(20)), interfaceId: 1, interfaceName: 'ez0' },
        { tsNs: 0n, caplen: 40, origlen: 100, linktype: LinkType.LINUX_SLL2, data: Array.from(frame(40)), interfaceId: 0 },
      ],
    );
  });

  test(`pcapng (${order}-endian): blocks that contradict themselves are PcapMalformedError`, (t) => {
    const base = () => new Ng(le).shb().idb(1, 0);
    const malformed = (ng: Ng, reason: RegExp) => {
      const { error } = drain(ng.bytes());
      t.true(error instanceof PcapMalformedError, String(error));
      t.regex((error as Error).message, reason);
    };
    malformed(base().epb(3, 0n, frame(20)), /interface 3 is not described \(the section has 1 interface description blocks\)/);
    const over = base();
    over.block(6, over.u32(0), over.u32(0), over.u32(0), over.u32(200), over.u32(200), frame(20));
    malformed(over, /captured length 200 overruns the block/);
    const odd = base().bytes();
    const bad = concat(odd, new Ng(le).u32(6), new Ng(le).u32(14), new Uint8Array(6));
    const { error } = drain(bad);
    t.true(error instanceof PcapMalformedError);
    t.regex((error as Error).message, /length 14 is not a multiple of 4/);
    const trailing = base().epb(0, 0n, frame(8)).bytes();
    const low = le ? trailing.length - 4 : trailing.length - 1; // the trailing length's low byte
    trailing[low] = trailing[low]! ^ 0x04;
    malformed({ bytes: () => trailing } as Ng, /trailing length \d+ differs from leading length/);
    const bigOption = base();
    bigOption.parts.pop();
    bigOption.block(1, bigOption.u16(1), bigOption.u16(0), bigOption.u32(0), bigOption.u16(9), bigOption.u16(200));
    malformed(bigOption, /option 9 of 200 bytes overruns the block/);
  });
}

test("streamPcapFile: a classic capture read in chunks of any size gives readPcap's records; a cut one the same error; pcapng is read whole", async (t) => {
  const { streamPcapFile } = await import('@ersatz/pcap');
  const path = (name: string): string => fileURLToPath(new URL(name, dir));
  const tmp = mkdtempSync(join(tmpdir(), 'ez-pcap-stream-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const view = (r: PcapRecord) => ({ tsNs: r.tsNs, caplen: r.caplen, origlen: r.origlen, linktype: r.linktype, interfaceId: r.interfaceId, data: Buffer.from(r.data).toString('hex') });
  for (const name of ['arp-us.pcap', 'arp-us-be.pcap', 'arp-ns.pcap', 'vlan.pcap', 'ndp.pcap', 'raw.pcap']) {
    const whole = [...readPcap(new Uint8Array(readFileSync(path(name))))].map(view);
    // 64 bytes: every record straddles a chunk edge somewhere; 61 and 97: odd edges; the default 4 MiB: one read.
    for (const chunkBytes of [64, 61, 97, undefined]) {
      const stream = await streamPcapFile(path(name), chunkBytes === undefined ? {} : { chunkBytes });
      t.is(stream.format.kind, 'pcap');
      // Each record's bytes are valid until the next one is read: copy as we go (view() does).
      t.deepEqual(Array.from(stream, view), whole, `${name} in chunks of ${chunkBytes ?? 'the default'}`);
    }
  }
  const bytes = readFileSync(path('arp-us.pcap'));
  const cut = join(tmp, 'cut.pcap');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 5));
  const expected = t.throws(() => [...readPcap(new Uint8Array(bytes.subarray(0, bytes.length - 5)))], { instanceOf: PcapTruncatedError });
  const stream = await streamPcapFile(cut, { chunkBytes: 64 });
  t.throws(() => [...stream], { instanceOf: PcapTruncatedError, message: expected!.message });
  const ng = await streamPcapFile(path('multi.pcapng'));
  t.is(ng.format.kind, 'pcapng');
  t.is([...ng].length, [...readPcap(new Uint8Array(readFileSync(path('multi.pcapng'))))].length);
  await t.throwsAsync(streamPcapFile(join(tmp, 'none.pcap')), { instanceOf: PcapFileError });
});
