// Routing changes the kernel announces on rtnetlink multicast groups (joining one needs no privilege).
import { RtnlGrp } from './constants.js';
import { NetlinkOverrunError } from './error.js';
import { NetlinkSocket } from './socket.js';

/**
 * Tells whether any link, IPv4 address or IPv4 route changed since the last look: anything that can change what
 * `discoverInterface` answers, so a cache of its answers knows when to forget them. Synchronous on purpose: the
 * kernel queues its announcement during the changing syscall itself, so a change made before `changed()` is always
 * seen, with no event-loop turn in between (and no handle keeping the process alive).
 */
export class RoutingWatch implements Disposable {
  readonly #sock: NetlinkSocket;

  private constructor(sock: NetlinkSocket) {
    this.#sock = sock;
  }

  /** Throws NetlinkError when the socket cannot be opened. */
  static open(): RoutingWatch {
    // Only announcements arrive here, and any one means "changed": a small buffer that overflows says so too.
    return new RoutingWatch(NetlinkSocket.open({ groups: [RtnlGrp.LINK, RtnlGrp.IPV4_IFADDR, RtnlGrp.IPV4_ROUTE], nonBlocking: true, receiveBufferBytes: 1 << 16 }));
  }

  /** Reads every announcement queued since the last call (one `recv` when there is none); true if there was any. */
  changed(): boolean {
    let any = false;
    try {
      while (this.#sock.receive('watch routing changes') !== null) any = true;
    } catch (err) {
      // Announcements were lost: something changed.
      if (err instanceof NetlinkOverrunError) return true;
      throw err;
    }
    return any;
  }

  close(): void {
    this.#sock.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
