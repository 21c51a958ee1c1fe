// Fails when any import cycle exists across the workspaces' TypeScript sources: inside a package and between
// packages (`@ersatz/*` imports are mapped to the importee's sources, so a package-level circle shows too).
// madge does the graph; the workspace list and each package's exports come from the package.json files.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import madge from 'madge';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// Workspaces are 'folder/*' patterns (Node 20 has no fs.glob).
const dirs = rootPkg.workspaces.flatMap((w) => {
  const parent = w.replace(/\/\*$/, '');
  return readdirSync(join(root, parent)).map((d) => join(parent, d)).filter((d) => existsSync(join(root, d, 'package.json')));
});
if (dirs.length === 0) throw new Error('no workspace folders found');

// '@ersatz/x' and '@ersatz/x/sub' → that package's sources (its exports point at dist/*.js: src/*.ts beside them).
const paths = {};
const srcDirs = [];
for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  srcDirs.push(join(dir, 'src'));
  for (const [sub, target] of Object.entries(pkg.exports ?? { '.': pkg.main })) {
    const file = typeof target === 'string' ? target : (target.import ?? target.default);
    paths[join(pkg.name, sub)] = [join(dir, file.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))];
  }
}

const graph = await madge(srcDirs.map((d) => join(root, d)), {
  baseDir: root,
  fileExtensions: ['ts'],
  excludeRegExp: [/\.d\.ts$/],
  tsConfig: { compilerOptions: { baseUrl: root, paths, module: 'NodeNext', moduleResolution: 'NodeNext', allowJs: false } },
});
const cycles = graph.circular();
const files = Object.keys(graph.obj()).length;
if (cycles.length > 0) {
  for (const c of cycles) process.stderr.write(`import cycle: ${c.join(' → ')} → ${c[0]}\n`);
  process.stderr.write(`check-cycles: ${cycles.length} import cycle(s) in ${files} files\n`);
  process.exit(1);
}
process.stdout.write(`check-cycles: no import cycle in ${files} files of ${dirs.length} workspaces\n`);
