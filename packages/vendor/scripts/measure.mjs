// Measures what @ersatz/vendor costs: import alone, the first (loading) lookup, and lookups after it.
// Run from the repository root after building: node --expose-gc packages/vendor/scripts/measure.mjs
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const mib = (n) => `${n.toFixed(1)} MiB`;

const h0 = heap();
let t = performance.now();
const { vendorOf, isVendorDataLoaded, loadVendorData } = await import('@ersatz/vendor');
const importMs = performance.now() - t;
const h1 = heap();
console.log(`import: ${importMs.toFixed(1)} ms, heap +${mib(h1 - h0)}, data loaded: ${isVendorDataLoaded()}`);

t = performance.now();
vendorOf('00:00:0c:12:34:56');
const firstMs = performance.now() - t;
const h2 = heap();
const info = loadVendorData();
console.log(`first lookup (loads): ${firstMs.toFixed(1)} ms (load ${info.loadMs.toFixed(1)} ms), heap +${mib(h2 - h1)}, rss ${mib(process.memoryUsage().rss / 2 ** 20)}`);
console.log(`entries: MA-L ${info.mal}, MA-M ${info.mam}, MA-S ${info.mas}`);

// A /16 sweep's worth of distinct MACs spread over the whole address space (deterministic LCG).
const hex = (n) => n.toString(16).padStart(2, '0');
const macs = [];
let x = 12345;
for (let i = 0; i < 65534; i++) {
  const b = [];
  for (let j = 0; j < 6; j++) b.push((x = (x * 1103515245 + 12345) >>> 0) >>> 24);
  b[0] &= 0xfc; // universally administered unicast: the case that does real lookups
  macs.push(b.map(hex).join(':'));
}
// Five passes: the first shows a cold sweep, the best the steady cost on this (shared, noisy) machine.
const passes = [];
let found = 0;
for (let pass = 0; pass < 5; pass++) {
  found = 0;
  t = performance.now();
  for (const m of macs) if (vendorOf(m) !== null) found++;
  passes.push(performance.now() - t);
}
const each = (ms) => `${((ms * 1e6) / macs.length).toFixed(0)} ns`;
console.log(`65534 lookups: first pass ${passes[0].toFixed(1)} ms (${each(passes[0])} each), best ${Math.min(...passes).toFixed(1)} ms (${each(Math.min(...passes))} each); ${found} named`);
