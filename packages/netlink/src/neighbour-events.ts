// The kernel's announcements of neighbour table changes (RTNLGRP_NEIGH), read from the event loop.
import koffi from 'koffi';
import { Observable } from 'rxjs';
import { printable } from '@ersatz/wire';
import { AF_INET, AF_INET6, RtnlGrp, Rtm } from './constants.js';
import { getLink } from './discovery.js';
import { parseDatagram } from './message.js';
import { NeighMessage } from './rtnl.js';
import { NetlinkSocket, withSocket } from './socket.js';
import { linkNames, toEntry, toEntry6, type NeighbourEntry, type Neighbour6Entry } from './neighbour-entry.js';

/** A change the kernel announced on RTNLGRP_NEIGH: an entry created or changed (`new`) or removed (`del`). */
export interface NeighEvent {
  readonly type: 'new' | 'del';
  readonly entry: NeighbourEntry;
}

/** A change of the IPv6 neighbour table, as NeighEvent for IPv4's. */
export interface Neigh6Event {
  readonly type: 'new' | 'del';
  readonly entry: Neighbour6Entry;
}

/**
 * The neighbour changes the kernel announces (RTNLGRP_NEIGH), of IPv4's table (default) or with `family: 6` IPv6's,
 * optionally of one interface. Each subscription opens its own non-blocking socket, read from the event loop's poll
 * (never blocking it), and closes it on unsubscribe. Errors: NetlinkOverrunError when events were lost,
 * UnknownInterfaceError, NetlinkError.
 */
export function neighbours$(opts?: { ifname?: string; family?: 4 }): Observable<NeighEvent>;
export function neighbours$(opts: { ifname?: string; family: 6 }): Observable<Neigh6Event>;
export function neighbours$(opts: { ifname?: string; family?: 4 | 6 } = {}): Observable<NeighEvent | Neigh6Event> {
  const family = opts.family === 6 ? AF_INET6 : AF_INET;
  return new Observable<NeighEvent | Neigh6Event>((subscriber) => {
    const names = new Map<number, string>();
    let only: number | undefined;
    withSocket((sock) => {
      for (const [i, n] of linkNames(sock)) names.set(i, n);
      if (opts.ifname !== undefined) only = getLink(sock, opts.ifname).index;
    });
    const nameOf = (ifindex: number): string => {
      let name = names.get(ifindex);
      if (name === undefined) {
        // A link that appeared after subscribing: ask once, remember it.
        try {
          name = withSocket((sock) => getLink(sock, ifindex).name);
        } catch {
          name = `if${ifindex}`;
        }
        names.set(ifindex, name);
      }
      return name;
    };
    const sock = NetlinkSocket.open({ groups: [RtnlGrp.NEIGH], nonBlocking: true, receiveBufferBytes: 1 << 20 });
    const drain = (): void => {
      try {
        while (!subscriber.closed) {
          const datagram = sock.receive('watch neighbours');
          if (datagram === null) return;
          for (const m of parseDatagram(datagram)) {
            if ((m.type !== Rtm.NEWNEIGH && m.type !== Rtm.DELNEIGH) || m.payload[0] !== family) continue;
            const repr = NeighMessage.parse(m.payload);
            if (only !== undefined && repr.ifindex !== only) continue;
            const entry = family === AF_INET6 ? toEntry6(repr, { get: nameOf }) : toEntry(repr, { get: nameOf });
            if (entry !== null) subscriber.next(printable({ type: m.type === Rtm.NEWNEIGH ? 'new' : 'del', entry } as NeighEvent | Neigh6Event));
            if (subscriber.closed) return;
          }
        }
      } catch (err) {
        subscriber.error(err);
      }
    };
    let poll: { close(): void } | undefined;
    try {
      // koffi's poll calls back with (status, events); readable is the only event asked for, so either means "drain".
      poll = koffi.node.poll(sock.fd, { readable: true }, () => drain());
    } catch (err) {
      sock.close();
      throw err;
    }
    return () => {
      poll?.close();
      sock.close();
    };
  });
}
