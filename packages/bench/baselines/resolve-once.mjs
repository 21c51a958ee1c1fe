#!/usr/bin/env node
// @ts-check
// Baseline for the cold start: resolve one IP with cap in the main thread and exit, the smallest program that does
// what `ersatz --target IP` does (same defaults: 3 tries, 1000 ms apart). Prints "IP is at MAC"; exit 0 when
// answered, 1 when not, 2 on bad arguments.
//
//   node resolve-once.mjs --interface ez0 --target 10.77.0.2
import { Ipv4 } from '@ersatz/wire';
import { args, ipOption, openCapLink, wholeOption } from './cap-link.mjs';

const o = args('resolve-once.mjs --interface IF --target IP [--tries N] [--timeout MS]', {
  target: { type: 'string' },
  tries: { type: 'string', default: '3' },
  timeout: { type: 'string', default: '1000' },
});
const target = ipOption('target', o.target);
const tries = wholeOption('tries', o.tries);
const timeoutMs = wholeOption('timeout', o.timeout);

const link = openCapLink(o.interface);
let sent = 0;
const ask = () => {
  if (sent++ === tries) {
    process.stderr.write(`no reply from ${Ipv4.format(target)} after ${tries} tries\n`);
    link.close();
    process.exit(1);
  }
  link.request(target);
};
const timer = setInterval(ask, timeoutMs);
link.onReply((ip, mac) => {
  if (ip !== target) return;
  process.stdout.write(`${Ipv4.format(ip)} is at ${mac}\n`);
  clearInterval(timer);
  link.close();
  process.exit(0);
});
ask();
