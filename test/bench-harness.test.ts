import test from 'ava';
import fc from 'fast-check';
import {
  arpingRttsUs,
  BenchUsageError,
  cpuByGroup,
  fmt,
  jsonRows,
  judge,
  latencyPoints,
  median,
  parseArpScan,
  parseBenchArgs,
  parseSchedstat,
  parseTcpdump,
  parseTimeline,
  quantile,
  ratio,
  readThreadCpu,
  reason,
  renderTable,
  scanPoints,
  Series,
  summarize,
  trend,
  verdict,
  wireRtts,
  withSpread,
  type Measurement,
} from '@ersatz/bench';
import { Ipv4 } from '@ersatz/wire';

// The harness's pure parts: argument parsing, statistics, the table and its ratios, and reading what the peers print.
// No timing here: speed belongs to `npm run bench` itself.

const KNOWN = ['codec', 'ring', 'resolve', 'scan', 'memory'];

// ---------------------------------------------------------------------------------------------------------------
// Arguments

test('parseBenchArgs: defaults run every known scenario once, charts in bench-out', (t) => {
  t.deepEqual(parseBenchArgs([], KNOWN), { names: KNOWN, reps: 1, json: undefined, out: 'bench-out', installPeers: false, help: false });
});

test('parseBenchArgs: named scenarios keep their order and lose duplicates; options anywhere', (t) => {
  const a = parseBenchArgs(['scan', '--reps', '3', 'resolve', 'scan', '--json', 'out/b.json', '--out', 'charts', '--install-peers'], KNOWN);
  t.deepEqual(a.names, ['scan', 'resolve']);
  t.is(a.reps, 3);
  t.is(a.json, 'out/b.json');
  t.is(a.out, 'charts');
  t.true(a.installPeers);
  t.true(parseBenchArgs(['-h'], KNOWN).help);
  t.is(parseBenchArgs(['--reps=100'], KNOWN).reps, 100);
});

test('parseBenchArgs: --reps outside 1..100 or not a whole number is a usage error naming the option', (t) => {
  for (const bad of ['0', '101', '1.5', '-2', 'x', '', ' 3']) {
    const err = t.throws(() => parseBenchArgs([`--reps=${bad}`], KNOWN), { instanceOf: BenchUsageError });
    t.is(err?.option, '--reps');
    t.is(err?.value, bad);
  }
});

test('parseBenchArgs: unknown scenarios and options, and missing values, are usage errors', (t) => {
  const unknown = t.throws(() => parseBenchArgs(['scan', 'nope', 'neither'], KNOWN), { instanceOf: BenchUsageError });
  t.is(unknown?.value, 'nope neither');
  t.regex(unknown?.message ?? '', /choose from codec, ring, resolve, scan, memory/);
  t.throws(() => parseBenchArgs(['--fast'], KNOWN), { instanceOf: BenchUsageError, message: /Unknown option '--fast'/ });
  t.throws(() => parseBenchArgs(['--json'], KNOWN), { instanceOf: BenchUsageError });
  t.throws(() => parseBenchArgs(['--json='], KNOWN), { instanceOf: BenchUsageError, message: /--json/ });
  t.throws(() => parseBenchArgs(['--out='], KNOWN), { instanceOf: BenchUsageError, message: /--out/ });
});

// ---------------------------------------------------------------------------------------------------------------
// Statistics

test('quantile interpolates between ranks (type 7): median of an even count, p99 of 1..100', (t) => {
  t.is(quantile([1, 2, 3, 4], 0.5), 2.5);
  t.is(quantile([1, 2, 3], 0.5), 2);
  t.is(quantile([5], 0.99), 5);
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  t.is(Number(quantile(hundred, 0.99).toFixed(10)), 99.01);
  t.is(quantile(hundred, 0), 1);
  t.is(quantile(hundred, 1), 100);
  t.true(Number.isNaN(quantile([], 0.5)));
  t.throws(() => quantile([1], 1.5), { instanceOf: RangeError });
  t.throws(() => quantile([1], Number.NaN), { instanceOf: RangeError });
});

test('summarize: n, min, median, p99, max, mean in any order; NaN figures for none; NaN input refused', (t) => {
  const { p99, ...rest } = summarize([30, 10, 20, 40]);
  t.deepEqual(rest, { n: 4, min: 10, median: 25, max: 40, mean: 25 });
  t.is(Number(p99.toFixed(10)), 39.7); // 30 + 0.97 × (40 − 30)
  const none = summarize([]);
  t.is(none.n, 0);
  for (const k of ['min', 'median', 'p99', 'max', 'mean'] as const) t.true(Number.isNaN(none[k]));
  t.throws(() => summarize([1, Number.NaN]), { instanceOf: RangeError });
});

test('median and quantiles: order-free, within min..max, monotone in q (property)', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, q) => {
        const s = summarize(xs);
        const sorted = [...xs].sort((a, b) => a - b);
        const v = quantile(sorted, q);
        return (
          median([...xs].reverse()) === s.median &&
          s.min <= s.median && s.median <= s.max &&
          s.median <= s.p99 && s.p99 <= s.max &&
          v >= s.min && v <= s.max &&
          quantile(sorted, Math.min(1, q + 0.1)) >= v
        );
      }),
    ),
  );
});

test('trend: the least-squares line through readings 0..n-1, at its ends', (t) => {
  t.deepEqual(trend([10, 12, 14, 16]), { first: 10, last: 16 }); // on a line: the readings themselves
  const noisy = trend([100, 120, 100, 120, 100, 120]); // no trend but the last reading's +20 %
  t.true(Math.abs(noisy.last - noisy.first) < 10);
  t.deepEqual(trend([5, 5]), { first: 5, last: 5 });
  t.true(Number.isNaN(trend([5]).first));
});

// ---------------------------------------------------------------------------------------------------------------
// Table and ratios

const row = (over: Partial<Measurement> = {}): Measurement => ({ scenario: 'scan', what: '/16 sweep', unit: 's', better: 'lower', ersatz: 0.5, peers: [], ...over });

test('ratio: > 1 means ersatz is better, whichever way the unit points; null when a figure is missing', (t) => {
  t.is(ratio(row({ better: 'lower', ersatz: 0.5 }), 2), 4); // ersatz takes a quarter of the time
  t.is(ratio(row({ better: 'higher', ersatz: 3e6 }), 1e6), 3); // ersatz does three times the frames/s
  t.is(ratio(row({ better: 'lower', ersatz: 2 }), 1), 0.5);
  t.is(ratio(row(), null), null);
  t.is(ratio(row({ ersatz: Number.NaN }), 2), null);
  t.is(ratio(row({ ersatz: 0 }), 2), null);
  t.is(ratio(row(), 0), null);
});

test('fmt: three significant digits, thousands separators, a dash for no figure', (t) => {
  t.is(fmt(0.012345), '0.0123');
  t.is(fmt(12.345), '12.3');
  t.is(fmt(1234.5), '1,235');
  t.is(fmt(65534), '65,534');
  t.is(fmt(null), '—');
  t.is(fmt(Number.NaN), '—');
  t.is(fmt(Number.POSITIVE_INFINITY), '—');
});

test('withSpread shows [min–max] only when there are several samples', (t) => {
  t.is(withSpread(12.3, undefined), '12.3');
  t.is(withSpread(12.3, [12.3]), '12.3');
  t.is(withSpread(12, [11, 12, 14.5]), '12 [11–14.5]');
});

test('verdict: pass, FAIL, n/a when it could not be judged, info without a target', (t) => {
  t.is(verdict(row({ target: { text: 't', pass: true } })), 'pass');
  t.is(verdict(row({ target: { text: 't', pass: false } })), 'FAIL');
  t.is(verdict(row({ target: { text: 't', pass: null } })), 'n/a');
  t.is(verdict(row()), 'info');
});

test('renderTable: one line per row, peers with ratios or why they are missing, notes after', (t) => {
  const text = renderTable([
    row({
      ersatz: 0.25,
      samples: [0.2, 0.25, 0.3],
      peers: [
        { name: 'arp-scan', value: 1 },
        { name: 'scapy', value: null, note: 'not installed' },
      ],
      target: { text: '≥ 4× faster than arp-scan', pass: true },
      note: 'one try per host',
    }),
    row({ scenario: 'resolve', what: 'median', unit: 'µs', ersatz: Number.NaN, peers: [{ name: 'cap loop', value: 10 }], target: { text: '≤ 2×', pass: null } }),
  ]);
  const lines = text.split('\n');
  t.regex(lines[0]!, /^scenario \| what .* \| ersatz .* \| result$/);
  t.regex(lines[2]!, /^scan +\| \/16 sweep +\| 0\.25 \[0\.2–0\.3\] s \| arp-scan: 1 \(4x\); scapy: not installed \| ≥ 4× faster than arp-scan \| pass$/);
  t.regex(lines[3]!, /^resolve .*\| — µs +\| cap loop: 10 \(—x\) +\| ≤ 2× +\| n\/a$/);
  t.true(lines.includes('notes:'));
  t.true(lines.includes('  scan / /16 sweep: one try per host'));
});

test('jsonRows: each row gains summaries of its samples and raw observations, and its verdict', (t) => {
  const [j] = jsonRows([row({ samples: [3, 1, 2], raw: [10, 20, 30, 40], peers: [{ name: 'cap', value: 1, samples: [1, 1] }], target: { text: 't', pass: false } })]);
  t.is(j!.summary.samples?.median, 2);
  t.is(j!.summary.raw?.max, 40);
  t.is(j!.peerSummaries[0]?.ratio, 2);
  t.is(j!.peerSummaries[0]?.samples?.n, 2);
  t.is(j!.result, 'FAIL');
});

test('Series: median of the repetitions, peer figure or why it is missing; judge needs every figure', (t) => {
  const s = new Series();
  t.deepEqual(s.peer('arping'), { name: 'arping', value: null, note: 'not measured' });
  s.fail('arping: not installed');
  s.fail('arping: not installed');
  t.deepEqual(s.peer('arping'), { name: 'arping', value: null, note: 'arping: not installed' });
  s.add(30, [29, 31]);
  s.add(10);
  s.add(20);
  t.is(s.value, 20);
  t.deepEqual(s.peer('arping', 'corrected'), { name: 'arping', value: 20, samples: [30, 10, 20], raw: [29, 31], note: 'corrected; arping: not installed' });
  t.throws(() => s.add(Number.NaN), { instanceOf: RangeError });
  t.is(judge([1, 2], () => true), true);
  t.is(judge([1, Number.NaN], () => true), null);
});

test('chart points: scan rows by hosts and tool, latency rows by tool from raw observations', (t) => {
  const rows: Measurement[] = [
    row({ ersatz: 0.5, peers: [{ name: 'arp-scan', value: 2 }, { name: 'scapy', value: null }], plot: { chart: 'scan', x: 65534 } }),
    row({ what: 'answered', ersatz: 65534, peers: [] }), // not plotted
    row({ what: 'median', unit: 'µs', ersatz: 12, raw: [11, 12, 13], peers: [{ name: 'cap loop', value: 10, raw: [9, 10] }], plot: { chart: 'latency', label: 'ersatz resolve$' } }),
    row({ what: 'other', unit: 'µs', ersatz: 5, raw: [5], peers: [{ name: 'cap loop', value: 1, raw: [1] }], plot: { chart: 'latency', label: 'ersatz query$' } }),
  ];
  t.deepEqual(scanPoints(rows), [
    { tool: 'ersatz', hosts: 65534, seconds: 0.5 },
    { tool: 'arp-scan', hosts: 65534, seconds: 2 },
  ]);
  const lat = latencyPoints(rows);
  t.deepEqual(lat.filter((p) => p.tool === 'cap loop').map((p) => p.us), [9, 10]); // the first row naming a tool wins
  t.is(lat.filter((p) => p.tool === 'ersatz resolve$').length, 3);
  t.is(lat.filter((p) => p.tool === 'ersatz query$').length, 1);
});

// ---------------------------------------------------------------------------------------------------------------
// What the peers print

// tcpdump -i ez0 -n -l -tt --time-stamp-precision=nano --immediate-mode arp   (twoHostLab host side: arping -f -c 1
// 198.51.100.2, then baselines/resolve-once.mjs for the same address, then arping for 198.51.100.9, which nobody has)
const TCPDUMP = `1795292110.875939147 ARP, Request who-has 198.51.100.2 (ff:ff:ff:ff:ff:ff) tell 198.51.100.1, length 28
1795292110.875968330 ARP, Reply 198.51.100.2 is-at 46:c8:17:94:96:00, length 28
1795292111.029450579 ARP, Request who-has 198.51.100.2 tell 198.51.100.1, length 46
1795292111.029494193 ARP, Reply 198.51.100.2 is-at 46:c8:17:94:96:00, length 28
1795292111.055736113 ARP, Request who-has 198.51.100.9 (ff:ff:ff:ff:ff:ff) tell 198.51.100.1, length 28
tcpdump: some other line
`;

test('parseTcpdump reads nanosecond timestamps, operation and address; wireRtts pairs each reply with its request', (t) => {
  const frames = parseTcpdump(TCPDUMP);
  t.is(frames.length, 5);
  t.deepEqual(frames[0], { tsNs: 1795292110875939147n, op: 'request', ip: Ipv4.parse('198.51.100.2') });
  t.deepEqual(frames[1], { tsNs: 1795292110875968330n, op: 'reply', ip: Ipv4.parse('198.51.100.2') });
  t.is(frames[4]!.ip, Ipv4.parse('198.51.100.9'));
  t.deepEqual(wireRtts(frames), [29183, 43614]); // the unanswered request adds nothing
  // A reply with no request before it, or a second reply to one request, is not an RTT.
  t.deepEqual(wireRtts([frames[1]!, frames[0]!, frames[1]!, frames[1]!]), [29183]);
});

// arping -f -c 1 -w 1 -I ez0 198.51.100.2   (twoHostLab host side, iputils 20221126; the kernel picked the MACs)
const ARPING = `ARPING 198.51.100.2 from 198.51.100.1 ez0
Unicast reply from 198.51.100.2 [16:2F:5D:29:A9:10]  0.525ms
Sent 1 probes (1 broadcast(s))
Received 1 response(s)
`;
// arping -f -c 1 -w 1 -I ez0 198.51.100.9   (the same lab: nobody has .9; exit 1)
const ARPING_NONE = `ARPING 198.51.100.9 from 198.51.100.1 ez0
Sent 1 probes (1 broadcast(s))
Received 0 response(s)
`;

test('arpingRttsUs removes the 500 µs iputils adds to every printed RTT', (t) => {
  t.deepEqual(arpingRttsUs(ARPING), [25]);
  t.deepEqual(arpingRttsUs(ARPING_NONE), []);
  // Constructed lines pinning the arithmetic past 1 ms: msecs = round(total / 1000) and the printed fraction is
  // total − msecs × 1000 + 500, so 1499 µs prints as "1.999ms" and 1500 µs as "2.000ms".
  t.deepEqual(arpingRttsUs('Unicast reply from 198.51.100.2 [02:00:00:00:00:01]  1.999ms\nBroadcast reply from 198.51.100.3 [02:00:00:00:00:02]  2.000ms\n'), [1499, 1500]);
});

// arp-scan --interval=1u --retry=1 -q -I ez0 198.51.100.0/30   (responderLab for 198.51.100.0/24, host .1: the
// responder answers every address, network and broadcast included)
const ARP_SCAN = `Interface: ez0, type: EN10MB, MAC: 6a:dd:23:f6:5a:5e, IPv4: 198.51.100.1
Starting arp-scan 1.10.0 with 4 hosts (https://github.com/royhills/arp-scan)
198.51.100.0\t76:a7:41:69:a7:dc
198.51.100.1\t76:a7:41:69:a7:dc
198.51.100.2\t76:a7:41:69:a7:dc
198.51.100.3\t76:a7:41:69:a7:dc

4 packets received by filter, 0 packets dropped by kernel
Ending arp-scan 1.10.0: 4 hosts scanned in 0.059 seconds (67.80 hosts/sec). 4 responded
`;

test('parseArpScan reads answers and the closing line; null when arp-scan did not finish', (t) => {
  t.deepEqual(parseArpScan(ARP_SCAN), { hosts: 4, seconds: 0.059, answered: ['198.51.100.0', '198.51.100.1', '198.51.100.2', '198.51.100.3'] });
  t.is(parseArpScan(ARP_SCAN.split('\n').slice(0, 4).join('\n')), null);
});

test('parseTimeline reads the moments of ersatz -v\'s timeline line in order; null without one', (t) => {
  const stderr = 'ersatz: resolve: 1 request(s), answer from 02:00:00:00:00:02\nersatz: resolve: timeline (ms since the process started): threads started 118.2, command loaded 225.0, link open 254.9\n';
  t.deepEqual([...parseTimeline(stderr)!], [['threads started', 118.2], ['command loaded', 225], ['link open', 254.9]]);
  t.is(parseTimeline('ersatz: resolve: 1 request(s)\n'), null);
});

test('parseSchedstat reads the ns a thread ran; anything else is refused', (t) => {
  t.is(parseSchedstat('141184253 421365 17\n'), 141_184_253);
  t.throws(() => parseSchedstat(''), { message: /schedstat/ });
  t.throws(() => parseSchedstat('-5 0 0'), { message: /schedstat/ });
});

test('cpuByGroup: the main thread by id, the stages by their threads\' names, the rest as other; a thread started in between counts from 0', (t) => {
  const before = [
    { tid: 100, name: 'node', ns: 50e6 },
    { tid: 101, name: 'node', ns: 1e6 },
    { tid: 110, name: 'ersatz-capture', ns: 2e6 },
    { tid: 111, name: 'ersatz-decode', ns: 3e6 },
    { tid: 120, name: 'gone', ns: 9e6 },
  ];
  const after = [
    { tid: 100, name: 'node', ns: 150e6 },
    { tid: 101, name: 'node', ns: 11e6 },
    { tid: 110, name: 'ersatz-capture', ns: 22e6 },
    { tid: 111, name: 'ersatz-decode', ns: 33e6 },
    { tid: 112, name: 'ersatz-transmit', ns: 4e6 },
    { tid: 130, name: 'node', ns: 5e6 },
  ];
  t.deepEqual(cpuByGroup(before, after, 100), { main: 100, capture: 20, decode: 30, transmit: 4, other: 15 });
});

test('readThreadCpu lists this process\'s threads, the main one among them, each with a name and a CPU time', (t) => {
  const threads = readThreadCpu();
  const main = threads.find((x) => x.tid === process.pid);
  t.truthy(main);
  t.true(main!.ns > 0);
  t.true(threads.every((x) => x.name.length > 0 && Number.isSafeInteger(x.ns)));
});

test('reason picks the thrown error line of a Node stack, else the last line that is not usage or version', (t) => {
  const stack = `file:///x/discovery.js:65
    throw new UnresolvableTargetError(t, 'local');
    ^

UnresolvableTargetError: 10.77.0.1 is one of this host's own addresses
    at file:///x/discovery.js:65:23

Node.js v20.20.2
`;
  t.is(reason(stack), "UnresolvableTargetError: 10.77.0.1 is one of this host's own addresses");
  t.is(reason('Unknown option --warmup\nusage: resolve-loop.mjs --interface IF\n'), 'Unknown option --warmup');
  t.is(reason(''), '');
  t.is(reason('x'.repeat(500)).length, 160);
});
