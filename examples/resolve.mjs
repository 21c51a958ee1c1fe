// What is the MAC address behind an IP? One ARP request on the wire, the reply matched to it.
//   node examples/resolve.mjs 192.0.2.1      (as root, or with CAP_NET_RAW: see the README)
import { resolve } from 'ersatz-arp';

const ip = process.argv[2] ?? '192.0.2.1';
const mac = await resolve(ip, { tries: 3, signal: AbortSignal.timeout(5000) });
console.log(`${ip} is at ${mac}`);
