/*
 * kube-sli-ct-events: conntrack events as `conntrack -E -o timestamp,id,extended,ktimestamp`
 * prints them, read with the receive buffer it was asked for and filtered in the kernel.
 *
 * Why not `conntrack -E` itself (conntrack-tools v1.4.7, measured with strace and ss):
 * - `-b N` is applied with SO_RCVBUFFORCE to a second netlink socket that is not subscribed
 *   to any event group; the event socket keeps net.core.rmem_default (212,992 bytes), which
 *   is global and read-only inside a network namespace. The NOTICE line reports the other
 *   socket's size. A reader that stalls for ~160 events loses events, whatever `-b` says.
 * - `-d CIDR` filters in user space: every event of every flow is still queued on the
 *   socket, so flows outside the Service CIDR use up the buffer the measured flows need.
 *
 * This reader uses libnetfilter_conntrack (the library conntrack is built on):
 * - SO_RCVBUFFORCE on the event socket itself; the NOTICE line reports that socket's size;
 * - nfct_filter_attach: a BPF socket filter on the ORIGINAL destination (repeatable
 *   --dst CIDR, of one family), so other flows' events are dropped before they are queued.
 *   Measured with libnetfilter_conntrack 1.0.9: IPv4 ranges also drop every IPv6 event;
 *   IPv6 ranges let every IPv4 event through; IPv4 and IPv6 ranges together drop the IPv6
 *   flows inside the IPv6 range, so both together are refused;
 * - output in conntrack's own text format (nfct_snprintf with the flags conntrack uses),
 *   so the kit's parser reads both; stdout is written in batches: flushed when the socket
 *   has no event pending, not after every event.
 * Stderr lines, as conntrack v1.4.7 prints them where the meaning is the same:
 *   NOTICE: Netlink socket buffer size has been set to N bytes.   (ready: socket open)
 *   WARNING: We have hit ENOBUFS! We are losing events.            (one per overrun)
 *   kube-sli-ct-events: N flow events have been shown.             (on SIGTERM/SIGINT)
 *
 * Usage: kube-sli-ct-events [--buffer BYTES] [--dst CIDR]...
 * Builds with only the shared library (no -dev headers needed):
 *   cc -O2 -o kube-sli-ct-events ct-events.c -l:libnetfilter_conntrack.so.3
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#if defined(__has_include) && !defined(KSLI_OWN_DECLARATIONS)
#if __has_include(<libnetfilter_conntrack/libnetfilter_conntrack.h>)
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#define HAVE_NFCT_HEADERS 1
#endif
#endif

#ifndef HAVE_NFCT_HEADERS
/* The subset of libnetfilter_conntrack.h (ABI of libnetfilter_conntrack.so.3) used here. */
struct nfct_handle;
struct nf_conntrack;
struct nfct_filter;
struct nfct_filter_ipv4 { uint32_t addr; uint32_t mask; };
struct nfct_filter_ipv6 { uint32_t addr[4]; uint32_t mask[4]; };
enum nf_conntrack_msg_type { NFCT_T_NEW = 1, NFCT_T_UPDATE = 2, NFCT_T_DESTROY = 4, NFCT_T_ALL = 7 };
enum nfct_filter_attr { NFCT_FILTER_DST_IPV4 = 3, NFCT_FILTER_DST_IPV6 = 5 };
enum { CONNTRACK = 1 };
enum { NFCT_CB_CONTINUE = 1 };
enum { NFCT_O_DEFAULT = 0 };
enum { NFCT_OF_SHOW_LAYER3 = 1, NFCT_OF_ID = 4, NFCT_OF_TIMESTAMP = 8 };
extern struct nfct_handle *nfct_open(uint8_t, unsigned);
extern int nfct_close(struct nfct_handle *);
extern int nfct_fd(struct nfct_handle *);
extern int nfct_callback_register(struct nfct_handle *, enum nf_conntrack_msg_type,
                                  int (*)(enum nf_conntrack_msg_type, struct nf_conntrack *, void *), void *);
extern int nfct_catch(struct nfct_handle *);
extern int nfct_snprintf(char *, unsigned int, const struct nf_conntrack *, const unsigned int,
                         const unsigned int, const unsigned int);
extern struct nfct_filter *nfct_filter_create(void);
extern void nfct_filter_destroy(struct nfct_filter *);
extern void nfct_filter_add_attr(struct nfct_filter *, const enum nfct_filter_attr, const void *);
extern int nfct_filter_attach(int, struct nfct_filter *);
#endif

/* the ctnetlink event groups: NEW, UPDATE, DESTROY (linux/netfilter/nfnetlink_compat.h) */
#define CT_EVENT_GROUPS 0x7

static volatile sig_atomic_t stopping = 0;
static unsigned long long shown = 0;
static int event_fd = -1;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static void die(const char *what) {
  fprintf(stderr, "kube-sli-ct-events: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* host-order IPv4/IPv6 network and mask from "ADDR/LEN" (or a bare address) */
static int add_dst(struct nfct_filter *filter, const char *arg, int *families) {
  char addr[INET6_ADDRSTRLEN + 1];
  const char *slash = strchr(arg, '/');
  size_t n = slash ? (size_t)(slash - arg) : strlen(arg);
  if (n == 0 || n >= sizeof(addr)) return -1;
  memcpy(addr, arg, n);
  addr[n] = '\0';
  char *end = NULL;
  long len = -1;
  if (slash) {
    errno = 0;
    len = strtol(slash + 1, &end, 10);
    if (errno != 0 || end == slash + 1 || *end != '\0' || len < 0) return -1;
  }
  struct in_addr a4;
  struct in6_addr a6;
  if (inet_pton(AF_INET, addr, &a4) == 1) {
    if (len < 0) len = 32;
    if (len > 32) return -1;
    struct nfct_filter_ipv4 f;
    f.mask = len == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - len));
    f.addr = ntohl(a4.s_addr) & f.mask;
    nfct_filter_add_attr(filter, NFCT_FILTER_DST_IPV4, &f);
    *families |= 1;
    return 0;
  }
  if (inet_pton(AF_INET6, addr, &a6) == 1) {
    if (len < 0) len = 128;
    if (len > 128) return -1;
    struct nfct_filter_ipv6 f;
    for (int i = 0; i < 4; i++) {
      long bits = len - 32 * i;
      uint32_t m = bits >= 32 ? 0xffffffffu : bits <= 0 ? 0 : (uint32_t)(0xffffffffu << (32 - bits));
      uint32_t w;
      memcpy(&w, &a6.s6_addr[4 * i], 4);
      f.mask[i] = m;
      f.addr[i] = ntohl(w) & m;
    }
    nfct_filter_add_attr(filter, NFCT_FILTER_DST_IPV6, &f);
    *families |= 2;
    return 0;
  }
  return -1;
}

static int on_event(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data) {
  (void)data;
  char buf[1024];
  struct timeval tv;
  gettimeofday(&tv, NULL);
  nfct_snprintf(buf, sizeof(buf), ct, type, NFCT_O_DEFAULT, NFCT_OF_SHOW_LAYER3 | NFCT_OF_ID | NFCT_OF_TIMESTAMP);
  /* the same prefix conntrack prints for `-o timestamp` */
  printf("[%-.8ld.%-.6ld]\t%s\n", (long)tv.tv_sec, (long)tv.tv_usec, buf);
  shown++;
  /* batch: write out only when no further event is queued on the socket */
  struct pollfd p = { .fd = event_fd, .events = POLLIN };
  if (poll(&p, 1, 0) == 0) fflush(stdout);
  return NFCT_CB_CONTINUE;
}

int main(int argc, char **argv) {
  long long buffer = 0;
  struct nfct_filter *filter = nfct_filter_create();
  int filters = 0, families = 0; /* bit 0: IPv4 ranges given, bit 1: IPv6 */
  if (filter == NULL) die("nfct_filter_create");
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--buffer") == 0 && i + 1 < argc) {
      char *end = NULL;
      buffer = strtoll(argv[++i], &end, 10);
      if (*end != '\0' || buffer <= 0 || buffer > 0x3fffffff) {
        fprintf(stderr, "kube-sli-ct-events: --buffer %s: not a byte count (1 to 1073741823)\n", argv[i]);
        return 2;
      }
    } else if (strcmp(argv[i], "--dst") == 0 && i + 1 < argc) {
      if (add_dst(filter, argv[++i], &families) != 0) {
        fprintf(stderr, "kube-sli-ct-events: --dst %s: not an IPv4 or IPv6 address or CIDR\n", argv[i]);
        return 2;
      }
      filters++;
    } else {
      fprintf(stderr, "kube-sli-ct-events: unknown argument %s\nusage: kube-sli-ct-events [--buffer BYTES] [--dst CIDR]...\n", argv[i]);
      return 2;
    }
  }

  if (families == 3) {
    /* measured: the filter then drops the IPv6 flows that match an IPv6 range */
    fprintf(stderr, "kube-sli-ct-events: --dst ranges of both IPv4 and IPv6 cannot be filtered together; give one family\n");
    return 2;
  }

  static char out[1 << 20];
  setvbuf(stdout, out, _IOFBF, sizeof(out));

  struct nfct_handle *h = nfct_open(CONNTRACK, CT_EVENT_GROUPS);
  if (h == NULL) die("cannot open the conntrack event socket (nfct_open; root or CAP_NET_ADMIN?)");
  event_fd = nfct_fd(h);
  if (buffer > 0) {
    int b = (int)buffer;
    if (setsockopt(event_fd, SOL_SOCKET, SO_RCVBUFFORCE, &b, sizeof(b)) != 0 &&
        setsockopt(event_fd, SOL_SOCKET, SO_RCVBUF, &b, sizeof(b)) != 0) {
      die("setsockopt SO_RCVBUF");
    }
  }
  /* wake up now and then so a stop request never waits for the next event */
  struct timeval tick = { .tv_sec = 0, .tv_usec = 200000 };
  if (setsockopt(event_fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick)) != 0) die("setsockopt SO_RCVTIMEO");
  if (filters > 0 && nfct_filter_attach(event_fd, filter) != 0) die("nfct_filter_attach");
  nfct_filter_destroy(filter);

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal; /* no SA_RESTART: the blocking receive returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  nfct_callback_register(h, NFCT_T_ALL, on_event, NULL);

  int effective = 0;
  socklen_t len = sizeof(effective);
  if (getsockopt(event_fd, SOL_SOCKET, SO_RCVBUF, &effective, &len) != 0) die("getsockopt SO_RCVBUF");
  fprintf(stderr, "NOTICE: Netlink socket buffer size has been set to %d bytes.\n", effective);

  while (!stopping) {
    int r = nfct_catch(h);
    if (r == -1) {
      if (errno == ENOBUFS) {
        fflush(stdout);
        fprintf(stderr, "WARNING: We have hit ENOBUFS! We are losing events.\n");
        continue;
      }
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      die("nfct_catch");
    }
  }
  fflush(stdout);
  nfct_close(h);
  fprintf(stderr, "kube-sli-ct-events: %llu flow events have been shown.\n", shown);
  return 0;
}
