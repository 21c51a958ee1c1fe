import { endianness } from 'node:os';
import { Ipv4, Mac, TruncatedError, UnsupportedError } from '@ersatz/wire';

/**
 * `struct arpreq` (<net/if_arp.h>, <linux/if_arp.h>) as bytes, measured with gcc 12 on Linux x86_64:
 * `sizeof(struct arpreq)=68; offsetof arp_pa=0 arp_ha=16 arp_flags=32 arp_netmask=36 arp_dev=52`.
 * Three 16-byte `struct sockaddr`s and an `int` have no padding, so aarch64 has the same layout.
 * Built as bytes rather than a koffi struct so `sa_data` (plain `char`, signed on x86_64, unsigned on aarch64)
 * never sees a sign conversion: a MAC octet ≥ 0x80 is just a byte here.
 */
export const Arpreq = { PA: 0, HA: 16, FLAGS: 32, NETMASK: 36, DEV: 52, SIZE: 68 } as const;

/** `struct sockaddr` / `struct sockaddr_in` offsets (16 bytes each): family in host order, the rest in network order. */
export const Sockaddr = { FAMILY: 0, DATA: 2, IN_PORT: 2, IN_ADDR: 4, SIZE: 16 } as const;

/** IFNAMSIZ: `arp_dev` holds at most 15 bytes of name and a NUL. */
export const IFNAMSIZ = 16;

export const AF_INET = 2;
export const ARPHRD_ETHER = 1;

/** `arp_flags` bits (<net/if_arp.h>). */
export const Atf = {
  /** Completed entry: `arp_ha` holds a valid hardware address. */
  COM: 0x02,
  /** Permanent entry (`ip neigh` shows PERMANENT): never expires, never re-resolved. */
  PERM: 0x04,
  /** Publish: answer ARP for this address (proxy ARP). */
  PUBL: 0x08,
  USETRAILERS: 0x10,
  /** `arp_netmask` is valid (proxy entries only). */
  NETMASK: 0x20,
  DONTPUB: 0x40,
} as const;

/** The fields of one `struct arpreq`, as ersatz types. */
export interface ArpreqRepr {
  /** `arp_pa`: the protocol (IPv4) address, written as a `sockaddr_in` with AF_INET. */
  readonly ip: Ipv4;
  /** `arp_ha.sa_family`: ARPHRD_ETHER (1); 0 lets the kernel use the device's type. */
  readonly hwFamily: number;
  /** `arp_ha.sa_data[0..6]`. */
  readonly mac: Mac;
  /** `arp_flags`: ATF_* bits. */
  readonly flags: number;
  /** `arp_netmask` address (proxy entries with ATF_NETMASK only; the kernel answers 255.255.255.255 otherwise). */
  readonly netmask: Ipv4;
  /** `arp_dev`: the interface name, at most 15 bytes (empty: the kernel picks the device by route, SIOCSARP/SIOCDARP only). */
  readonly ifname: string;
}

// Family fields and arp_flags are host-order integers; addresses are network order.
const LE = endianness() === 'LE';
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * Writes all 68 bytes of `repr` into `out` at offset 0 (padding and unused `sa_data` zeroed) and returns `out`.
 * `out` must hold 68 bytes (emit paths never check); an `ifname` over 15 bytes is cut to 15, so validate it first.
 */
export function emitArpreq(repr: ArpreqRepr, out: Uint8Array = new Uint8Array(Arpreq.SIZE)): Uint8Array {
  const dv = new DataView(out.buffer, out.byteOffset, Arpreq.SIZE);
  out.fill(0, 0, Arpreq.SIZE);
  dv.setUint16(Arpreq.PA + Sockaddr.FAMILY, AF_INET, LE);
  Ipv4.write(repr.ip, out, Arpreq.PA + Sockaddr.IN_ADDR);
  dv.setUint16(Arpreq.HA + Sockaddr.FAMILY, repr.hwFamily, LE);
  Mac.write(repr.mac, out, Arpreq.HA + Sockaddr.DATA);
  dv.setInt32(Arpreq.FLAGS, repr.flags, LE);
  if (repr.netmask !== 0) {
    dv.setUint16(Arpreq.NETMASK + Sockaddr.FAMILY, AF_INET, LE);
    Ipv4.write(repr.netmask, out, Arpreq.NETMASK + Sockaddr.IN_ADDR);
  }
  // Room for 15 bytes keeps the terminating NUL that fill(0) wrote.
  utf8.encodeInto(repr.ifname, out.subarray(Arpreq.DEV, Arpreq.DEV + IFNAMSIZ - 1));
  return out;
}

/**
 * Reads a `struct arpreq` (as SIOCGARP fills it). Returns its fields.
 * Throws TruncatedError under 68 bytes, UnsupportedError when `arp_pa` is not AF_INET.
 */
export function parseArpreq(bytes: Uint8Array): ArpreqRepr {
  if (bytes.length < Arpreq.SIZE) throw new TruncatedError('arpreq', Arpreq.SIZE, bytes.length);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, Arpreq.SIZE);
  const family = dv.getUint16(Arpreq.PA + Sockaddr.FAMILY, LE);
  if (family !== AF_INET) throw new UnsupportedError('arpreq', 'arp_pa family', family);
  const dev = bytes.subarray(Arpreq.DEV, Arpreq.DEV + IFNAMSIZ);
  const nul = dev.indexOf(0);
  return {
    ip: Ipv4.fromBytes(bytes, Arpreq.PA + Sockaddr.IN_ADDR),
    hwFamily: dv.getUint16(Arpreq.HA + Sockaddr.FAMILY, LE),
    mac: Mac.fromBytes(bytes, Arpreq.HA + Sockaddr.DATA),
    flags: dv.getInt32(Arpreq.FLAGS, LE),
    netmask: Ipv4.fromBytes(bytes, Arpreq.NETMASK + Sockaddr.IN_ADDR),
    ifname: fromUtf8.decode(nul < 0 ? dev : dev.subarray(0, nul)),
  };
}
