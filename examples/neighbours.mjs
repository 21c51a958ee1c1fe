// The kernel's neighbour (ARP) table: what it holds now, then the next changes it announces (at most COUNT of
// them, for at most 10 s).
//   node examples/neighbours.mjs [IFNAME] [COUNT]
import { take, takeUntil, timer } from 'rxjs';
import { Ipv4, neighbours, neighbours$ } from 'ersatz-arp';

const filter = process.argv[2] === undefined ? {} : { ifname: process.argv[2] };
const count = Number(process.argv[3] ?? 1);
for (const e of neighbours(filter)) console.log(`${Ipv4.format(e.ip)} ${e.mac ?? '(none)'} ${e.state} ${e.ifname}`);
neighbours$(filter)
  .pipe(take(count), takeUntil(timer(10_000)))
  .subscribe((ev) => console.log(`${ev.type} ${Ipv4.format(ev.entry.ip)} ${ev.entry.mac ?? '(none)'} ${ev.entry.state}`));
console.log('watching');
