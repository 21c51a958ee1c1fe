"""ARP sweep of a CIDR with scapy's srp, as a Python user would write it; prints one JSON line.

Usage: python3 scapy-sweep.py IFACE CIDR [TIMEOUT_S] [--default-buffer]
Prints {"sent", "answered", "answeredUsable" (network and broadcast excluded), "elapsedS" (the srp call), "timeoutS"}.
srp returns as soon as every request is answered; otherwise TIMEOUT_S after its last request.

srp sends from one thread and matches replies in another, both under the GIL, so replies wait in the packet
socket's receive buffer: SO_RCVBUF = conf.bufsize, 64 KiB by default, which drops most replies to a /16. Raised
here to 256 MiB, forced past net.core.rmem_max with SO_RCVBUFFORCE (we run as root), so scapy loses none.
"""
import ipaddress
import json
import socket
import sys
import time

from scapy.all import ARP, Ether, conf, srp  # noqa: E402

args = [a for a in sys.argv[1:] if not a.startswith('--')]
if len(args) not in (2, 3):
    sys.exit(f'usage: {sys.argv[0]} IFACE CIDR [TIMEOUT_S] [--default-buffer]')
iface, cidr = args[0], args[1]
timeout = float(args[2]) if len(args) > 2 else 1.0
BUFSIZE = 256 << 20
SO_RCVBUFFORCE = 33  # <asm-generic/socket.h>; Python's socket module does not name it
conf.bufsize = BUFSIZE
conf.verb = 0


class BigBufferL2Socket(conf.L2socket):
    """scapy's own L2 socket, with the receive buffer scapy asked for (SO_RCVBUF alone is capped by rmem_max)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ins.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, BUFSIZE)


if '--default-buffer' not in sys.argv:  # to show what the default loses
    conf.L2socket = BigBufferL2Socket

t0 = time.perf_counter()
answered, unanswered = srp(Ether(dst='ff:ff:ff:ff:ff:ff') / ARP(pdst=cidr), iface=iface, timeout=timeout, verbose=0)
elapsed = time.perf_counter() - t0
# ARP(pdst=CIDR) asks every address, network and broadcast included: count those apart from the usable hosts.
hosts = {r[ARP].psrc for _, r in answered}
usable = {str(h) for h in ipaddress.ip_network(cidr, strict=False).hosts()}
print(json.dumps({
    'sent': len(answered) + len(unanswered),
    'answered': len(hosts),
    'answeredUsable': len(hosts & usable),
    'elapsedS': elapsed,
    'timeoutS': timeout,
}))
