/**
 * Runs @ersatz/ioctl calls in this process (which the test starts inside a lab namespace with `ip netns exec`)
 * and prints one JSON line per call: `{ "ok": true, "value": ... }` or `{ "ok": false, "error": { name, message, ...fields } }`.
 * Usage: node ioctl-arp.js '[{"op":"set","ip":"198.51.100.20","mac":"02:a5:80:ff:7f:c3","ifname":"ez0","permanent":true}, ...]'
 */
import { Ipv4, Mac } from '@ersatz/wire';
import { arpDelete, arpGet, arpSet } from '@ersatz/ioctl';

export type IoctlCall =
  | { op: 'set'; ip: string; mac: string; ifname: string; permanent?: boolean }
  | { op: 'get'; ip: string; ifname: string }
  | { op: 'delete'; ip: string; ifname: string };

export type IoctlResult =
  | { ok: true; value: { ip: string; mac: string; flags: number; complete: boolean; permanent: boolean } | null }
  | { ok: false; error: { name: string; message: string; [field: string]: unknown } };

function run(call: IoctlCall): IoctlResult {
  try {
    const ip = Ipv4.parse(call.ip);
    switch (call.op) {
      case 'set':
        arpSet({ ip, mac: Mac.parse(call.mac), ifname: call.ifname, ...(call.permanent === undefined ? {} : { permanent: call.permanent }) });
        return { ok: true, value: null };
      case 'get': {
        const e = arpGet(ip, call.ifname);
        return { ok: true, value: e && { ...e, ip: Ipv4.format(e.ip) } };
      }
      case 'delete':
        arpDelete(ip, call.ifname);
        return { ok: true, value: null };
    }
  } catch (err) {
    // Errors lose their class across processes: send the name, message and fields.
    const e = err as Error;
    return { ok: false, error: { ...e, name: e.name, message: e.message } };
  }
}

const calls = JSON.parse(process.argv[2] ?? '[]') as IoctlCall[];
for (const call of calls) process.stdout.write(`${JSON.stringify(run(call))}\n`);
