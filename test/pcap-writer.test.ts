import test from 'ava';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { PcapWriter, PcapWriteError, readPcap, LinkType, type PcapRecord } from '@ersatz/pcap';
import { fileURLToPath } from 'node:url';

// tcpdump only reads files here (-r): nothing is sent anywhere.
const dir = new URL('../../test/fixtures/pcap/', import.meta.url);
const fixturePath = (name: string) => fileURLToPath(new URL(name, dir));
const work = mkdtempSync(join(tmpdir(), 'ez-pcap-writer-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));
let files = 0;
const tmp = (ext = 'pcap') => join(work, `${files++}.${ext}`);

/** tcpdump's view of a file: `-tt` epoch times (`nano` digits if asked), `-e` link headers, `-xx` every byte. */
function tcpdump(path: string, nano: boolean): { stdout: string; header: string } {
  const r = spawnSync('tcpdump', ['-r', path, '-tt', '-nn', '-e', '-xx', ...(nano ? ['--time-stamp-precision=nano'] : [])], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tcpdump -r ${path}: ${r.stderr}`);
  return { stdout: r.stdout, header: r.stderr.replace(path, 'FILE').trim() };
}

async function writeAll(path: string, records: readonly { tsNs: bigint; data: Uint8Array; origlen?: number }[], opts: ConstructorParameters<typeof PcapWriter>[1]): Promise<void> {
  const w = await PcapWriter.open(path, opts);
  for (const r of records) w.write(r.tsNs, r.data, r.origlen);
  await w.close();
}

for (const [name, precision] of [
  ['arp-us.pcap', 'us'],
  ['arp-ns.pcap', 'ns'],
  ['vlan.pcap', 'us'],
] as const) {
  test(`tcpdump -r shows the frames of ${name} written again (${precision}) exactly as the original`, async (t) => {
    const records = [...readPcap(new Uint8Array(readFileSync(fixturePath(name))))];
    const out = tmp();
    await writeAll(out, records, { precision });
    const nano = precision === 'ns';
    const original = tcpdump(fixturePath(name), nano);
    const copy = tcpdump(out, nano);
    t.is(copy.header, 'reading from file FILE, link-type EN10MB (Ethernet), snapshot length 262144');
    t.is(copy.header, original.header);
    t.is(copy.stdout.split('\n').filter((l) => /^\d/.test(l)).length, records.length);
    t.is(copy.stdout, original.stdout);
  });
}

test('a microsecond file truncates nanoseconds, as libpcap does when it reads a nanosecond file in microseconds', async (t) => {
  const records = [...readPcap(new Uint8Array(readFileSync(fixturePath('arp-ns.pcap'))))];
  const out = tmp();
  await writeAll(out, records, { precision: 'us' });
  t.is(tcpdump(out, false).stdout, tcpdump(fixturePath('arp-ns.pcap'), false).stdout);
  t.deepEqual(
    [...readPcap(new Uint8Array(readFileSync(out)))].map((r) => r.tsNs),
    records.map((r) => (r.tsNs / 1000n) * 1000n),
  );
});

/** Parses `tcpdump -tt -e -xx` output back into records: time text, frame length and the bytes. */
function parseTcpdump(stdout: string): { ts: string; origlen: number; hex: string }[] {
  const out: { ts: string; origlen: number; hex: string }[] = [];
  for (const line of stdout.split('\n')) {
    const hexLine = /^\s+0x[0-9a-f]{4}:\s+(.*)$/.exec(line);
    if (hexLine) out.at(-1)!.hex += hexLine[1]!.replace(/\s+/g, '');
    else if (/^\d/.test(line)) out.push({ ts: line.split(' ')[0]!, origlen: Number(/, length (\d+)/.exec(line)![1]), hex: '' });
  }
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const tsText = (ns: bigint, nano: boolean) => (nano ? `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}` : `${ns / 1_000_000_000n}.${String((ns % 1_000_000_000n) / 1000n).padStart(6, '0')}`);

const frames = (maxSeconds: bigint) =>
  fc.array(
    fc.record({
      tsNs: fc.bigInt({ min: 0n, max: maxSeconds * 1_000_000_000n + 999_999_999n }),
      data: fc.uint8Array({ minLength: 14, maxLength: 300 }),
      extra: fc.nat(1500),
    }),
    { minLength: 1, maxLength: 40 },
  );

test('tcpdump reads random frames back with the same bytes, wire lengths and times (both precisions)', async (t) => {
  for (const precision of ['us', 'ns'] as const) {
    // tcpdump 4.99 prints "[Error converting time]" from 2038 (signed 32-bit seconds): stay below 2^31 s here.
    for (const sample of fc.sample(frames(0x7fff_ffffn), { numRuns: 4, seed: 0x2e5 })) {
      const records = sample.map((r) => ({ tsNs: r.tsNs, data: r.data, origlen: r.data.length + r.extra }));
      const out = tmp();
      await writeAll(out, records, { precision });
      const nano = precision === 'ns';
      t.deepEqual(
        parseTcpdump(tcpdump(out, nano).stdout),
        records.map((r) => ({ ts: tsText(r.tsNs, nano), origlen: r.origlen, hex: hex(r.data) })),
      );
    }
  }
});

test('write then read gives the records back (property)', async (t) => {
  await fc.assert(
    fc.asyncProperty(frames(0xffff_ffffn), fc.constantFrom('us' as const, 'ns' as const), fc.integer({ min: 16, max: 400 }), async (sample, precision, snaplen) => {
      const chunks: Uint8Array[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          chunks.push(new Uint8Array(chunk));
          cb();
        },
      });
      const w = new PcapWriter(sink, { precision, snaplen, bufferSize: 128 });
      for (const r of sample) w.write(r.tsNs, r.data, r.data.length + r.extra);
      await w.close({ end: true });
      const reader = readPcap(Buffer.concat(chunks));
      t.is(reader.format.kind, 'pcap');
      const back = [...reader].map((r: PcapRecord) => ({ tsNs: r.tsNs, data: hex(r.data), origlen: r.origlen, linktype: r.linktype }));
      t.deepEqual(
        back,
        sample.map((r) => ({
          tsNs: precision === 'ns' ? r.tsNs : (r.tsNs / 1000n) * 1000n,
          data: hex(r.data.subarray(0, snaplen)),
          origlen: r.data.length + r.extra,
          linktype: LinkType.ETHERNET,
        })),
      );
    }),
    { numRuns: 60 },
  );
});

test('a stream and a file descriptor receive the same bytes; the header carries precision, snaplen and link type', async (t) => {
  const records = [...readPcap(new Uint8Array(readFileSync(fixturePath('arp-us.pcap'))))];
  const path = tmp();
  const fd = openSync(path, 'w');
  const byFd = new PcapWriter(fd, { precision: 'ns', snaplen: 1000, linktype: LinkType.ETHERNET });
  for (const r of records) byFd.write(r.tsNs, r.data);
  await byFd.close();
  closeSync(fd); // the writer leaves a descriptor it was given open
  const chunks: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 64, // small, so the writer has to wait for 'drain'
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      setImmediate(cb);
    },
  });
  const byStream = new PcapWriter(sink, { precision: 'ns', snaplen: 1000, bufferSize: 100 });
  for (const r of records) {
    byStream.write(r.tsNs, r.data);
    await byStream.flush();
  }
  await byStream.close({ end: true });
  const file = new Uint8Array(readFileSync(path));
  t.deepEqual(new Uint8Array(Buffer.concat(chunks)), file);
  t.is(byFd.records, records.length);
  // pcap file header, little-endian: magic a1b23c4d (ns), version 2.4, thiszone 0, sigfigs 0, snaplen 1000, linktype 1.
  t.is(hex(file.subarray(0, 24)), '4d3cb2a1' + '02000400' + '00000000' + '00000000' + 'e8030000' + '01000000');
});

test('snaplen cuts frames and keeps their wire length, as tcpdump shows', async (t) => {
  const frame = Uint8Array.from({ length: 98 }, (_, i) => i);
  const out = tmp();
  await writeAll(out, [{ tsNs: 1_700_000_000_000_000_000n, data: frame }], { snaplen: 40 });
  const [r] = parseTcpdump(tcpdump(out, false).stdout);
  t.deepEqual(r, { ts: '1700000000.000000', origlen: 98, hex: hex(frame.subarray(0, 40)) });
  t.regex(tcpdump(out, false).header, /snapshot length 40$/);
});

test('an empty capture is a valid file that tcpdump reads', async (t) => {
  const out = tmp();
  await writeAll(out, [], {});
  t.is(readFileSync(out).length, 24);
  t.is(tcpdump(out, false).stdout, '');
  t.is([...readPcap(new Uint8Array(readFileSync(out)))].length, 0);
});

test('what a pcap file cannot hold is a PcapWriteError', async (t) => {
  const devNull = openSync('/dev/null', 'w');
  t.teardown(() => closeSync(devNull));
  const w = new PcapWriter(devNull);
  t.throws(() => w.write(-1n, new Uint8Array(14)), { instanceOf: PcapWriteError, message: 'pcap writer: timestamp -1 ns is outside the 32-bit seconds of a pcap file (1970 to 2106)' });
  t.throws(() => w.write(0x1_0000_0000n * 1_000_000_000n, new Uint8Array(14)), { instanceOf: PcapWriteError });
  t.throws(() => new PcapWriter(1, { snaplen: 0 }), { instanceOf: PcapWriteError });
  t.throws(() => new PcapWriter(1, { precision: 'ms' as 'us' }), { instanceOf: PcapWriteError });
  t.throws(() => new PcapWriter(1, { linktype: -1 }), { instanceOf: PcapWriteError });
  await w.close();
  t.throws(() => w.write(0n, new Uint8Array(14)), { instanceOf: PcapWriteError, message: 'pcap writer: write after close' });
});
