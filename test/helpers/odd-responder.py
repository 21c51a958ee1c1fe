#!/usr/bin/env python3
"""A raw-socket ARP responder for frames no kernel sends: answers ARP requests for IP on IFNAME in the way MODE says.

  vid0     the reply carries an 802.1Q priority tag (PCP 5, VID 0), as 802.1p QoS hosts send it
  request  the answer is a unicast ARP *request* from IP naming the asker (RFC 826 merge; Linux NUD probes)
  natsrc   the reply's Ethernet source is another MAC than its ARP sender (a MAC-NAT bridge or repeater)
  vlanN    answers only requests tagged with 802.1Q VLAN N, with replies tagged N (a host on a trunk's VLAN N;
           this kernel has no 8021q module, so no Linux VLAN interface can play it)

Bounded: exits after COUNT answers or SECONDS, whichever comes first. Prints "ready" once listening.
usage: odd-responder.py IFNAME IP MODE [COUNT] [SECONDS]
"""
import socket, struct, sys, time

ifname, ip, mode = sys.argv[1], socket.inet_aton(sys.argv[2]), sys.argv[3]
count = int(sys.argv[4]) if len(sys.argv) > 4 else 10
deadline = time.monotonic() + (float(sys.argv[5]) if len(sys.argv) > 5 else 30)
ETH_P_ARP = 0x0806
# ETH_P_ALL: a tagged frame reaches protocol-bound sockets only after the kernel has dropped its tag (no VLAN device).
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((ifname, 0))
# The kernel takes a received frame's 802.1Q tag off before packet sockets see it; PACKET_AUXDATA hands it back.
SOL_PACKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID = 263, 8, 0x10
vid = int(mode[4:]) if mode.startswith("vlan") else None
s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
own = s.getsockname()[4][:6]
other = bytes([0x02, 0x00, 0x5E, 0x00, 0x53, 0x66])  # the bridge's own MAC, for natsrc
print("ready", flush=True)
answered = 0
while answered < count and time.monotonic() < deadline:
    s.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        frame, ancillary, _, (_, _, pkttype, _, _) = s.recvmsg(2048, socket.CMSG_SPACE(20))
    except socket.timeout:
        break
    if pkttype == socket.PACKET_OUTGOING or len(frame) < 42 or frame[12:14] != b"\x08\x06":
        continue
    tag_vid = None  # the frame's VLAN id, from struct tpacket_auxdata (status, len, snaplen, mac, net, vlan_tci, vlan_tpid)
    for level, kind, data in ancillary:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= 20:
            status, _, _, _, _, tci, _ = struct.unpack("IIIHHHH", data[:20])
            if status & TP_STATUS_VLAN_VALID:
                tag_vid = tci & 0x0FFF
    if vid is not None and tag_vid != vid:
        continue
    eth_src = frame[6:12]
    htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", frame[14:22])
    sha, spa, tpa = frame[22:28], frame[28:32], frame[38:42]
    if (htype, ptype, hlen, plen, op) != (1, 0x0800, 6, 4, 1) or tpa != ip or spa == ip:
        continue
    if mode == "request":  # who-has <asker> tell <ip>, unicast to the asker
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + own + ip + b"\0" * 6 + spa
    else:
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + own + ip + sha + spa
    src = other if mode == "natsrc" else own
    tag = struct.pack("!HH", 0x8100, (5 << 13) | 0) if mode == "vid0" else struct.pack("!HH", 0x8100, vid) if vid is not None else b""
    out = eth_src + src + tag + struct.pack("!H", ETH_P_ARP) + arp
    s.send(out + b"\0" * max(0, 60 - len(out)))
    answered += 1
