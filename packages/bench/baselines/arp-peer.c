// The physical limit the bench measures ersatz against: ARP over one AF_PACKET socket, in C, with batched
// system calls and nothing else. Built by the bench with `cc -O2` when a compiler is present.
//
//   arp-peer sweep IFNAME CIDR              every usable host of CIDR once;
//                                           JSON {sent, replies, answered, drops, elapsedNs, end}
//   arp-peer latency IFNAME IP COUNT WARMUP one request at a time, poll for its reply;
//                                           JSON {latenciesNs: [...], medianNs, p99Ns, lost}
//
// A classic BPF filter passes only ARP replies addressed to our MAC, so our own requests and other hosts' chatter
// never reach the socket. Every loop is bounded: the sweep keeps at most `window` requests unanswered (sized from
// the receive buffer the kernel granted, so it never overflows), writes off a window silent for SILENT_MS and
// stops after DEADLINE_S whatever happens; the latency mode waits at most 1 s per request.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
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

enum { BATCH = 256, FRAME = 60, SNAP = 64, MAX_WINDOW = 16384, SILENT_MS = 200, DEADLINE_S = 60 };
// Per queued reply the socket is charged its skb's truesize: ~1 KiB for a 60-byte frame; 2 KiB leaves headroom.
enum { RCVBUF = 32 << 20, CHARGE = 2048 };

static void die(const char *what) {
  fprintf(stderr, "arp-peer: %s: %s\n", what, strerror(errno));
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec t;
  if (clock_gettime(CLOCK_MONOTONIC, &t) < 0) die("clock_gettime");
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

struct link {
  int fd, ifindex, rcvbuf;
  uint8_t mac[6];
  uint32_t ip; // network order
  struct sockaddr_ll to; // broadcast on our interface
};

// ethertype ARP, operation reply, target hardware address ours; 64 bytes kept.
static void attach_filter(const struct link *l) {
  uint32_t hi = (uint32_t)l->mac[0] << 24 | (uint32_t)l->mac[1] << 16 | (uint32_t)l->mac[2] << 8 | l->mac[3];
  uint32_t lo = (uint32_t)l->mac[4] << 8 | l->mac[5];
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 0, 7),
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 5),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 32),  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 3),
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 36),  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SNAP),         BPF_STMT(BPF_RET | BPF_K, 0),
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  if (setsockopt(l->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) die("SO_ATTACH_FILTER");
}

static struct link open_link(const char *ifname) {
  struct link l;
  memset(&l, 0, sizeof l);
  // Protocol 0: nothing is queued until bind, by which time the filter is in place.
  l.fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (l.fd < 0) die("socket(AF_PACKET)");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (strlen(ifname) >= sizeof ifr.ifr_name) {
    errno = ENAMETOOLONG;
    die(ifname);
  }
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl(l.fd, SIOCGIFINDEX, &ifr) < 0) die(ifname);
  l.ifindex = ifr.ifr_ifindex;
  if (ioctl(l.fd, SIOCGIFHWADDR, &ifr) < 0) die("SIOCGIFHWADDR");
  memcpy(l.mac, ifr.ifr_hwaddr.sa_data, 6);
  if (ioctl(l.fd, SIOCGIFADDR, &ifr) < 0) die("SIOCGIFADDR (no IPv4 address on the interface?)");
  l.ip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr;
  attach_filter(&l);
  int one = 1, want = RCVBUF;
  // Saves cloning our own requests to the socket (the filter would drop them anyway); absent before Linux 4.20.
  if (setsockopt(l.fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0 && errno != ENOPROTOOPT) die("PACKET_IGNORE_OUTGOING");
  // FORCE needs CAP_NET_ADMIN; without it the kernel caps SO_RCVBUF at net.core.rmem_max.
  if (setsockopt(l.fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) < 0) {
    if (errno != EPERM) die("SO_RCVBUFFORCE");
    if (setsockopt(l.fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want) < 0) die("SO_RCVBUF");
  }
  socklen_t len = sizeof l.rcvbuf;
  if (getsockopt(l.fd, SOL_SOCKET, SO_RCVBUF, &l.rcvbuf, &len) < 0) die("getsockopt(SO_RCVBUF)");
  struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP), .sll_ifindex = l.ifindex};
  if (bind(l.fd, (struct sockaddr *)&sll, sizeof sll) < 0) die("bind");
  l.to = (struct sockaddr_ll){.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP), .sll_ifindex = l.ifindex, .sll_halen = 6};
  memset(l.to.sll_addr, 0xff, 6);
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

// The sender IP (host order) of an ARP reply to our MAC, or 0 for anything else (checked again behind the filter).
static uint32_t reply_sender(const struct link *l, const uint8_t *f, ssize_t n) {
  if (n < 42 || f[12] != 0x08 || f[13] != 0x06 || f[20] != 0 || f[21] != 2) return 0;
  if (memcmp(f + 32, l->mac, 6) != 0) return 0;
  uint32_t spa;
  memcpy(&spa, f + 28, 4);
  return ntohl(spa);
}

// Frames the kernel dropped on this socket since the last call (receive buffer full).
static unsigned drops(const struct link *l) {
  struct tpacket_stats st;
  socklen_t len = sizeof st;
  if (getsockopt(l->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0) die("PACKET_STATISTICS");
  return st.tp_drops;
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
  uint32_t mask = ~0u << (32 - bits);
  uint32_t first = (ntohl(a.s_addr) & mask) + 1, last = (ntohl(a.s_addr) | ~mask) - 1;
  uint8_t *seen = calloc(last - first + 1, 1);
  if (!seen) die("calloc");
  static uint8_t tx[BATCH][FRAME], rx[BATCH][SNAP];
  static struct mmsghdr tmsg[BATCH], rmsg[BATCH];
  static struct iovec tiov[BATCH], riov[BATCH];
  struct link l = open_link(ifname);
  for (int i = 0; i < BATCH; i++) {
    tiov[i] = (struct iovec){tx[i], FRAME}, riov[i] = (struct iovec){rx[i], SNAP};
    tmsg[i].msg_hdr = (struct msghdr){.msg_name = &l.to, .msg_namelen = sizeof l.to, .msg_iov = &tiov[i], .msg_iovlen = 1};
    rmsg[i].msg_hdr = (struct msghdr){.msg_iov = &riov[i], .msg_iovlen = 1};
  }
  int64_t window = l.rcvbuf / CHARGE;
  if (window > MAX_WINDOW) window = MAX_WINDOW;
  if (window < BATCH) window = BATCH;
  (void)drops(&l); // reset the counter
  uint64_t start = now_ns(), last_reply = start, deadline = start + DEADLINE_S * 1000000000ull, t = start;
  uint32_t next = first, sent = 0, replies = 0, answered = 0, written_off = 0;
  int queued = 0; // frames built in tx[] and not yet sent
  const char *end; // why it stopped: every request answered, a silence after the last, or the deadline
  for (;;) {
    int got;
    while ((got = recvmmsg(l.fd, rmsg, BATCH, MSG_DONTWAIT, NULL)) > 0) {
      t = now_ns();
      for (int i = 0; i < got; i++) {
        uint32_t ip = reply_sender(&l, rx[i], rmsg[i].msg_len);
        if (ip == 0) continue;
        replies++;
        if (ip >= first && ip <= last && !seen[ip - first]) seen[ip - first] = 1, answered++, last_reply = t;
      }
    }
    if (got < 0 && errno != EAGAIN && errno != EINTR) die("recvmmsg");
    t = now_ns();
    if (t >= deadline) {
      end = "deadline";
      break;
    }
    int done_sending = next > last && queued == 0;
    int silent = t - last_reply > SILENT_MS * 1000000ull;
    if (done_sending && answered >= sent) {
      end = "answered";
      break;
    }
    if (done_sending && (answered + written_off >= sent || silent)) {
      end = "silence";
      break;
    }
    // Replies to written-off requests may still come: in flight never goes below zero.
    int64_t in_flight = (int64_t)sent - answered - written_off;
    if (in_flight < 0) in_flight = 0;
    if (!done_sending && in_flight < window) {
      if (queued == 0)
        for (; queued < BATCH && next <= last && in_flight + queued < window; queued++, next++) request(&l, htonl(next), tx[queued]);
      int k = sendmmsg(l.fd, tmsg, (unsigned)queued, 0);
      if (k < 0 && errno != EINTR && errno != EAGAIN && errno != ENOBUFS) die("sendmmsg");
      if (k > 0) {
        sent += (uint32_t)k, queued -= k;
        memmove(tx, tx[k], (size_t)queued * FRAME); // the unsent tail, kept for the next try
        continue;
      }
      // Transmit queue full: fall through to a short wait, receiving meanwhile.
    }
    if (silent && !done_sending && in_flight >= window) written_off = sent - answered, last_reply = t;
    uint64_t wake = done_sending || in_flight >= window ? last_reply + SILENT_MS * 1000000ull : t + 1000000;
    if (wake > deadline) wake = deadline;
    struct pollfd p = {.fd = l.fd, .events = POLLIN};
    if (poll(&p, 1, wake > t ? (int)((wake - t) / 1000000) + 1 : 0) < 0 && errno != EINTR) die("poll");
  }
  uint64_t elapsed = now_ns() - start;
  printf("{\"sent\":%u,\"replies\":%u,\"answered\":%u,\"drops\":%u,\"elapsedNs\":%llu,\"end\":\"%s\"}\n", sent, replies, answered, drops(&l),
         (unsigned long long)elapsed, end);
  free(seen);
  if (close(l.fd) < 0) die("close");
  return 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static int latency(const char *ifname, const char *ipText, long count, long warmup) {
  struct in_addr a;
  if (inet_pton(AF_INET, ipText, &a) != 1 || count < 1 || count > 1000000 || warmup < 0 || warmup > 1000000) {
    fprintf(stderr, "arp-peer: latency IFNAME IP COUNT WARMUP (COUNT 1..1000000)\n");
    return 2;
  }
  struct link l = open_link(ifname);
  uint8_t f[FRAME], r[SNAP];
  request(&l, a.s_addr, f);
  uint64_t *lat = calloc((size_t)count, sizeof *lat);
  if (!lat) die("calloc");
  long n = 0, lost = 0;
  for (long i = 0; i < warmup + count; i++) {
    // A late reply to an earlier request must not be taken for this one's.
    ssize_t stale = 0;
    for (int j = 0; j < 1024 && (stale = recv(l.fd, r, sizeof r, MSG_DONTWAIT)) >= 0; j++) continue;
    if (stale < 0 && errno != EAGAIN && errno != EINTR) die("recv");
    uint64_t t0 = now_ns(), deadline = t0 + 1000000000ull;
    if (sendto(l.fd, f, FRAME, 0, (struct sockaddr *)&l.to, sizeof l.to) < 0) die("sendto");
    for (;;) {
      ssize_t k = recv(l.fd, r, sizeof r, MSG_DONTWAIT);
      uint64_t t = now_ns();
      if (k > 0 && reply_sender(&l, r, k) == ntohl(a.s_addr)) {
        if (i >= warmup) lat[n++] = t - t0;
        break;
      }
      if (k < 0 && errno != EAGAIN && errno != EINTR) die("recv");
      if (t >= deadline) {
        lost += i >= warmup;
        break;
      }
      struct pollfd p = {.fd = l.fd, .events = POLLIN};
      if (k < 0 && poll(&p, 1, (int)((deadline - t) / 1000000) + 1) < 0 && errno != EINTR) die("poll");
    }
  }
  printf("{\"latenciesNs\":[");
  for (long i = 0; i < n; i++) printf(i ? ",%llu" : "%llu", (unsigned long long)lat[i]);
  qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
  // Nearest rank; null when nothing answered.
  if (n) printf("],\"medianNs\":%llu,\"p99Ns\":%llu", (unsigned long long)lat[(n - 1) / 2], (unsigned long long)lat[(99 * n + 99) / 100 - 1]);
  else printf("],\"medianNs\":null,\"p99Ns\":null");
  printf(",\"lost\":%ld}\n", lost);
  free(lat);
  if (close(l.fd) < 0) die("close");
  return 0;
}

static long number(const char *s) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  return errno || end == s || *end ? -1 : v;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "sweep") == 0) return sweep(argv[2], argv[3]);
  if (argc == 6 && strcmp(argv[1], "latency") == 0) return latency(argv[2], argv[3], number(argv[4]), number(argv[5]));
  fprintf(stderr, "usage: arp-peer sweep IFNAME CIDR | arp-peer latency IFNAME IP COUNT WARMUP\n");
  return 2;
}
