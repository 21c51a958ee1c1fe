// Bundles what the `ersatz-arp` package ships, with esbuild, so each thread loads a few files instead of hundreds
// (cold start: rxjs alone is 224 CommonJS files; each worker loaded its own module tree after Node's bootstrap).
// Input is the workspaces' compiled dist/ (run after `turbo run build`); output is dist/:
//   main.js              the bin (src/main.ts), with the commands as lazily loaded chunks beside it
//   decode-command.js    an entry of its own: piscina loads it by file name in each decode thread (decodeBatch)
//   {capture,decode,transmit}-worker.cjs  one file per worker thread
//   index.js, index.d.ts the library (@ersatz/api and what it re-exports), its types in one file
//   ersatz.1             the man page (`ersatz manpage`)
//   oui.bin              the vendor table (@ersatz/vendor's build makes it of oui-data), copied beside the chunks,
//                        where the vendor module looks for it
// Native and self-locating packages stay external: koffi (its .node binary), piscina (spawns its own worker file),
// better-sqlite3 (`watch`'s database on a Node without node:sqlite: an optional dependency); so does rxjs for the
// library, whose callers hold its Observables. Source
// maps keep stack traces (exit 70) pointing at our files.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generateDtsBundle } from 'dts-bundle-generator';

const root = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(await readFile(`${root}/package.json`, 'utf8'));
const STAGES = ['capture', 'decode', 'transmit'];

// Each worker package finds its thread's script beside itself (new URL('./main.js', import.meta.url) in its
// script.js); in the bundle that script is dist/<stage>-worker.cjs, beside the chunk that spawns it.
const workerUrls = {
  name: 'worker-urls',
  setup(b) {
    b.onLoad({ filter: /workers[\\/](capture|decode|transmit)[\\/]dist[\\/]script\.js$/ }, async (args) => {
      const stage = /workers[\\/](\w+)[\\/]dist/.exec(args.path)[1];
      const text = await readFile(args.path, 'utf8');
      const from = "new URL('./main.js', import.meta.url)";
      if (!text.includes(from)) throw new Error(`${args.path}: no ${from} to point at the bundled worker`);
      return { contents: text.replace(from, `new URL('./${stage}-worker.cjs', import.meta.url)`), loader: 'js' };
    });
  },
};

// rxjs's exports map sends platform 'node' to its CommonJS build, compiled to ES5 (tslib's __values and __read
// iterators on every unsubscribe). The bin takes its ES2015 build instead (native classes and for-of: ~15 % less
// main-thread time per resolve, measured), which its `es2015` condition offers to bundlers.
const rxjsEs2015 = {
  name: 'rxjs-es2015',
  setup(b) {
    b.onResolve({ filter: /^rxjs$/ }, () => ({ path: `${root}node_modules/rxjs/dist/esm/index.js` }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // File and line are what a stack trace needs; without the sources embedded, the maps load in a fraction of the time.
  sourcesContent: false,
  external: ['koffi', 'piscina', 'better-sqlite3'],
  // ESM builds where packages ship both: tree-shaken, and no CommonJS wrapper to run at load.
  mainFields: ['module', 'main'],
  // No `require` banner: nothing bundled is CommonJS, and it cost every chunk a createRequire at load (cold start).
  logLevel: 'warning',
  // `ersatz --version` (packages/cli/src/version.ts): the bundle has no package.json path to read it from.
  define: { ERSATZ_VERSION: JSON.stringify(version) },
  absWorkingDir: root,
};

await rm(`${root}/dist`, { recursive: true, force: true });
await Promise.all([
  build({
    ...common,
    entryPoints: { main: 'src/main.ts', 'decode-command': 'packages/cli/dist/commands/decode.js' },
    outdir: 'dist',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    plugins: [workerUrls, rxjsEs2015],
  }),
  // The library: one file, no chunks shared with the bin (which carries its own tree-shaken rxjs).
  build({ ...common, external: [...common.external, 'rxjs'], entryPoints: { index: 'packages/api/dist/index.js' }, outdir: 'dist', plugins: [workerUrls] }),
  // CommonJS: a worker thread starts measurably sooner without the ESM loader (they use no import.meta, no
  // top-level await).
  ...STAGES.map((stage) =>
    build({
      ...common,
      format: 'cjs',
      entryPoints: { [`${stage}-worker`]: `workers/${stage}/dist/main.js` },
      outdir: 'dist',
      outExtension: { '.js': '.cjs' },
    }),
  ),
]);

// Without the banner, a CommonJS module bundled into the ESM output would fail at run time on its first require.
for (const name of await readdir(`${root}/dist`)) {
  if (name.endsWith('.js') && (await readFile(`${root}/dist/${name}`, 'utf8')).includes('Dynamic require of')) {
    throw new Error(`dist/${name}: bundles a CommonJS module that calls require (see the note on the banner above)`);
  }
}

// The vendor table, where the bundled vendor module (in a chunk of dist/) looks for it: beside itself.
await copyFile(`${root}/packages/vendor/dist/oui.bin`, `${root}/dist/oui.bin`);

// ersatz(1), rendered by the bundled bin from the commands' option tables (package.json's "man" installs it).
await writeFile(`${root}/dist/ersatz.1`, execFileSync(process.execPath, [`${root}/dist/main.js`, 'manpage']));

// The library's types in one file: every @ersatz/* workspace inlined (none of them is published), rxjs imported.
const workspaces = (await Promise.all(['packages', 'workers'].map(async (dir) => {
  const names = await readdir(`${root}/${dir}`);
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(`${root}/${dir}/${n}/package.json`, 'utf8')).name));
}))).flat();
const [types] = generateDtsBundle(
  [{ filePath: `${root}/packages/api/dist/index.d.ts`, libraries: { inlinedLibraries: workspaces, importedLibraries: ['rxjs'] }, output: { noBanner: true, exportReferencedTypes: false } }],
  { preferredConfigPath: `${root}/tsconfig.json` },
);
await writeFile(`${root}/dist/index.d.ts`, types);
