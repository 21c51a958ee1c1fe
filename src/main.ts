#!/usr/bin/env node
// The `ersatz` command: everything lives in @ersatz/cli; this file only gives it a stable path (dist/main.js).
import { main } from '@ersatz/cli';

process.exitCode = await main(process.argv.slice(2));
