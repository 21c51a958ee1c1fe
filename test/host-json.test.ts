// scan --json's host lines are written out by hand (for speed), so they are held to JSON.stringify's text for any input.
import test from 'ava';
import fc from 'fast-check';
import { HostJson, writeMs } from '@ersatz/cli';
import { Ipv4, Mac } from '@ersatz/wire';

const out = Buffer.alloc(1024);
const msText = (ns: bigint): string => out.toString('latin1', 0, writeMs(out, 0, ns));

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Mac.fromBytes(b));

test('writeMs writes what JSON.stringify writes for the same milliseconds, for any ns below 10^15', (t) => {
  for (const ns of [0n, 1n, 9n, 10n, 999_999n, 1_000_000n, 1_000_001n, 306_084n, 120_000_000n, 999_999_999_999_999n]) {
    t.is(msText(ns), JSON.stringify(Number(ns) / 1e6), String(ns));
  }
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n - 1n }), (ns) => msText(ns) === JSON.stringify(Number(ns) / 1e6)));
  // The values RTTs take most: the first 10 ms, in 7 ns steps.
  for (let ns = 0n; ns < 10_000_000n; ns += 7n) if (msText(ns) !== JSON.stringify(Number(ns) / 1e6)) return t.fail(String(ns));
});

test('HostJson.writeTo writes JSON.stringify of the host object: keys, order, escapes, digits', (t) => {
  fc.assert(
    fc.property(
      fc.record({
        ip: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        mac,
        vendor: fc.option(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('Société "Ré" \\ \n\u2028', 'locally administered'))),
        rttNs: fc.bigInt({ min: 0n, max: 10n ** 12n }),
        dup: fc.boolean(),
        ethSrc: fc.option(mac),
        vlan: fc.option(fc.integer({ min: 0, max: 4095 })),
        ifname: fc.constantFrom('eth0', 'ez0', 'wlp2s0', 'br-"x"'),
      }),
      (h) => {
        // Written where a chunk already holds bytes: only its own are the line's.
        const at = 7;
        const end = new HostJson(h.ifname).writeTo(out, at, h.ip as Ipv4, h.mac, h.vendor, h.rttNs, h.dup, h.ethSrc, h.vlan);
        const line = out.toString('utf8', at, end);
        const expected = JSON.stringify({
          type: 'host',
          ip: Ipv4.format(h.ip as Ipv4),
          mac: h.mac,
          vendor: h.vendor,
          rttMs: Number(h.rttNs) / 1e6,
          dup: h.dup,
          ...(h.ethSrc !== null && { ethSrc: h.ethSrc }),
          ...(h.vlan !== null && { vlan: h.vlan }),
          interface: h.ifname,
        });
        return line === expected;
      },
    ),
  );
  t.pass();
});
