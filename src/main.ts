#!/usr/bin/env node
// The `ersatz` command: everything lives in @ersatz/cli; this file only gives it a stable path (dist/main.js).
// dist/ holds esbuild bundles (scripts/bundle.mjs): source maps make an internal error's stack trace (exit 70) name
// our source files. They apply to modules loaded after this call, hence the dynamic import.
process.setSourceMapsEnabled(true);
const { main } = await import('@ersatz/cli');

process.exitCode = await main(process.argv.slice(2));
