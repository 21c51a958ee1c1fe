// The physical limit the bench measures ersatz against: ARP over one AF_PACKET socket, in C, with batched
// system calls and nothing else. Built by the bench with `cc -O2` when a compiler is present.
//
//   arp-peer sweep IFNAME CIDR              every usable host of CIDR once; JSON {sent, answered, elapsedNs}
//   arp-peer latency IFNAME IP COUNT WARMUP one request at a time, poll for its reply; JSON {latenciesNs: [...], lost}
//
// Our own frames are not captured (PACKET_IGNORE_OUTGOING), replies are matched by sender IP. Every loop is bounded:
// the sweep keeps at most WINDOW requests unanswered (so the socket buffer never overflows) and gives up on a window
// that stays silent for SILENT_MS; the latency mode waits at most 1 s per request.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

enum { BATCH = 256, FRAME = 60, WINDOW = 16384, SILENT_MS = 200, RCVBUF = 32 << 20 };

static void die(const char *what) {
  fprintf(stderr, "arp-peer: %s: %s\n", what, strerror(errno));
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

struct link {
  int fd;
  uint8_t mac[6];
  uint32_t ip; // network order
};

static struct link open_link(const char *ifname) {
  struct link l;
  l.fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ARP));
  if (l.fd < 0) die("socket(AF_PACKET)");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl(l.fd, SIOCGIFHWADDR, &ifr) < 0) die("SIOCGIFHWADDR");
  memcpy(l.mac, ifr.ifr_hwaddr.sa_data, 6);
  if (ioctl(l.fd, SIOCGIFADDR, &ifr) < 0) die("SIOCGIFADDR");
  l.ip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr;
  int one = 1, rcvbuf = RCVBUF;
  if (setsockopt(l.fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0) die("PACKET_IGNORE_OUTGOING");
  if (setsockopt(l.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) die("SO_RCVBUFFORCE");
  struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP), .sll_ifindex = (int)if_nametoindex(ifname)};
  if (sll.sll_ifindex == 0) die("if_nametoindex");
  if (bind(l.fd, (struct sockaddr *)&sll, sizeof sll) < 0) die("bind");
  return l;
}

// A broadcast who-has `target` (network order) from our MAC and IP, target hardware address zero.
static void request(const struct link *l, uint32_t target, uint8_t *f) {
  memset(f, 0, FRAME);
  memset(f, 0xff, 6);
  memcpy(f + 6, l->mac, 6);
  f[12] = 0x08, f[13] = 0x06;                      // ARP
  f[14] = 0, f[15] = 1, f[16] = 8, f[17] = 0;      // Ethernet, IPv4
  f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1;      // lengths, request
  memcpy(f + 22, l->mac, 6);
  memcpy(f + 28, &l->ip, 4);
  memcpy(f + 38, &target, 4);
}

// The sender IP (host order) of an ARP reply to our MAC, or 0 for anything else.
static uint32_t reply_sender(const struct link *l, const uint8_t *f, ssize_t n) {
  if (n < 42 || f[12] != 0x08 || f[13] != 0x06 || f[20] != 0 || f[21] != 2) return 0;
  if (memcmp(f + 32, l->mac, 6) != 0) return 0;
  uint32_t spa;
  memcpy(&spa, f + 28, 4);
  return ntohl(spa);
}

static int sweep(const char *ifname, const char *cidr) {
  char net[32];
  int bits;
  if (sscanf(cidr, "%31[0-9.]/%d", net, &bits) != 2 || bits < 8 || bits > 30) {
    fprintf(stderr, "arp-peer: CIDR must be A.B.C.D/8..30, got %s\n", cidr);
    return 2;
  }
  struct in_addr a;
  if (inet_pton(AF_INET, net, &a) != 1) {
    fprintf(stderr, "arp-peer: bad address %s\n", net);
    return 2;
  }
  uint32_t mask = bits == 0 ? 0 : ~0u << (32 - bits);
  uint32_t first = (ntohl(a.s_addr) & mask) + 1, last = (ntohl(a.s_addr) | ~mask) - 1;
  uint32_t hosts = last - first + 1;
  uint8_t *seen = calloc(hosts, 1);
  static uint8_t tx[BATCH][FRAME], rx[BATCH][64];
  struct mmsghdr tmsg[BATCH], rmsg[BATCH];
  struct iovec tiov[BATCH], riov[BATCH];
  memset(tmsg, 0, sizeof tmsg), memset(rmsg, 0, sizeof rmsg);
  for (int i = 0; i < BATCH; i++) {
    tiov[i] = (struct iovec){tx[i], FRAME}, tmsg[i].msg_hdr.msg_iov = &tiov[i], tmsg[i].msg_hdr.msg_iovlen = 1;
    riov[i] = (struct iovec){rx[i], sizeof rx[i]}, rmsg[i].msg_hdr.msg_iov = &riov[i], rmsg[i].msg_hdr.msg_iovlen = 1;
  }
  struct link l = open_link(ifname);
  uint64_t start = now_ns(), last_reply = start;
  uint32_t next = first, sent = 0, answered = 0, written_off = 0;
  for (;;) {
    // Receive whatever is there.
    int got;
    while ((got = recvmmsg(l.fd, rmsg, BATCH, MSG_DONTWAIT, NULL)) > 0) {
      for (int i = 0; i < got; i++) {
        uint32_t ip = reply_sender(&l, rx[i], rmsg[i].msg_len);
        if (ip >= first && ip <= last && !seen[ip - first]) seen[ip - first] = 1, answered++, last_reply = now_ns();
      }
    }
    if (got < 0 && errno != EAGAIN && errno != EINTR) die("recvmmsg");
    uint64_t t = now_ns();
    if (next > last && (answered + written_off >= sent || t - last_reply > SILENT_MS * 1000000ull)) break;
    uint32_t in_flight = sent - answered - written_off;
    if (next <= last && in_flight < WINDOW) {
      int n = 0;
      for (; n < BATCH && next <= last && in_flight + (uint32_t)n < WINDOW; n++, next++) request(&l, htonl(next), tx[n]);
      struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname), .sll_halen = 6};
      memset(to.sll_addr, 0xff, 6);
      for (int i = 0; i < n; i++) tmsg[i].msg_hdr.msg_name = &to, tmsg[i].msg_hdr.msg_namelen = sizeof to;
      for (int done = 0; done < n;) {
        int k = sendmmsg(l.fd, tmsg + done, (unsigned)(n - done), 0);
        if (k < 0 && errno != EINTR && errno != EAGAIN && errno != ENOBUFS) die("sendmmsg");
        if (k > 0) done += k;
      }
      sent += (uint32_t)n;
      continue;
    }
    // Window full (or all sent): wait for replies; a window silent for SILENT_MS is written off.
    struct pollfd p = {.fd = l.fd, .events = POLLIN};
    int r = poll(&p, 1, SILENT_MS);
    if (r < 0 && errno != EINTR) die("poll");
    if (r == 0 && next <= last) written_off = sent - answered;
  }
  uint64_t elapsed = now_ns() - start;
  printf("{\"sent\":%u,\"answered\":%u,\"elapsedNs\":%llu}\n", sent, answered, (unsigned long long)elapsed);
  free(seen);
  close(l.fd);
  return 0;
}

static int latency(const char *ifname, const char *ipText, int count, int warmup) {
  struct in_addr a;
  if (inet_pton(AF_INET, ipText, &a) != 1 || count < 1 || count > 1000000 || warmup < 0) {
    fprintf(stderr, "arp-peer: latency IFNAME IP COUNT WARMUP\n");
    return 2;
  }
  struct link l = open_link(ifname);
  struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname), .sll_halen = 6};
  memset(to.sll_addr, 0xff, 6);
  uint8_t f[FRAME], r[64];
  request(&l, a.s_addr, f);
  uint64_t *lat = calloc((size_t)count, sizeof *lat);
  int n = 0, lost = 0;
  for (int i = 0; i < warmup + count; i++) {
    uint64_t t0 = now_ns(), deadline = t0 + 1000000000ull;
    if (sendto(l.fd, f, FRAME, 0, (struct sockaddr *)&to, sizeof to) < 0) die("sendto");
    for (;;) {
      ssize_t k = recv(l.fd, r, sizeof r, MSG_DONTWAIT);
      if (k > 0 && reply_sender(&l, r, k) == ntohl(a.s_addr)) {
        if (i >= warmup) lat[n++] = now_ns() - t0;
        break;
      }
      if (k < 0 && errno != EAGAIN && errno != EINTR) die("recv");
      uint64_t t = now_ns();
      if (t >= deadline) {
        if (i >= warmup) lost++;
        break;
      }
      struct pollfd p = {.fd = l.fd, .events = POLLIN};
      if (k < 0 && poll(&p, 1, (int)((deadline - t) / 1000000) + 1) < 0 && errno != EINTR) die("poll");
    }
  }
  printf("{\"latenciesNs\":[");
  for (int i = 0; i < n; i++) printf(i ? ",%llu" : "%llu", (unsigned long long)lat[i]);
  printf("],\"lost\":%d}\n", lost);
  free(lat);
  close(l.fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "sweep") == 0) return sweep(argv[2], argv[3]);
  if (argc == 6 && strcmp(argv[1], "latency") == 0) return latency(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
  fprintf(stderr, "usage: arp-peer sweep IFNAME CIDR | arp-peer latency IFNAME IP COUNT WARMUP\n");
  return 2;
}
