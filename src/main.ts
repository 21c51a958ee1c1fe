#!/usr/bin/env node
// The `ersatz` command: everything lives in @ersatz/cli; this file only gives it a stable path (dist/main.js).
// dist/ holds esbuild bundles (scripts/bundle.mjs), with source maps that an internal error's stack trace (exit 70)
// is mapped through when it is printed (packages/cli/src/stack.ts).
import { main } from '@ersatz/cli';

process.exitCode = await main(process.argv.slice(2));
