/* stock: must-fail (a loop that never asks curl_multi_timeout sleeps through QUIC's timers on stock)
   QUIC lives on timers: a loop that never asks curl_multi_timeout still
   meets them through curlmux, whose descriptor wakes at libcurl's next
   deadline. Two loops, over HTTP/3 only (run on the libcurls that have
   it): fdset + select(20 s) without curl_multi_timeout, and
   curlmux_select(20 s). In each, at once:
   - a connect to a UDP port that takes datagrams and never answers:
     libcurl retransmits its Initial on QUIC's probe timer (a datagram
     arrives long after the first) and CURLOPT_CONNECTTIMEOUT_MS ends it
     on time;
   - a response silent mid-body ends at CURLOPT_TIMEOUT_MS;
   - bodies, bulk and trickled, arrive whole beside them.
   A select that sleeps its whole 20 s with a transfer running is a stall. */
#include "harness.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define CONNECT_MS 2500L
#define STALL_MS 1500L

typedef CURLMcode (*select_fn)(CURLM *, long, int *);

static CURL *ended[8];
static CURLcode ended_rc[8];
static double ended_at[8];
static int nended;

static void on_end(CURL *e, CURLcode rc)
{
  int i;
  for(i = 0; i < nended; i++)
    CHECK(ended[i] != e);
  CHECK(nended < 8);
  ended[nended] = e;
  ended_rc[nended] = rc;
  ended_at[nended++] = now_s();
}

static int end_of(CURL *e)
{
  int i;
  for(i = 0; i < nended && ended[i] != e; i++)
    ;
  CHECK(i < nended);
  return i;
}

/* A UDP socket on 127.0.0.1 that is never read until the end: QUIC's
   datagrams queue there with their arrival times. */
static int silent_udp(int *port)
{
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int on = 1, s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  CHECK(s >= 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK_EQ(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
  CHECK_EQ(getsockname(s, (struct sockaddr *)&a, &len), 0);
  CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)), 0);
  *port = ntohs(a.sin_port);
  return s;
}

/* Seconds between the first and the last datagram queued on s; *count of them. */
static double spread(int s, int *count)
{
  double first = -1, last = -1;
  *count = 0;
  for(;;) {
    char data[2048], control[256];
    struct iovec iov = {data, sizeof(data)};
    struct msghdr msg;
    struct cmsghdr *c;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    if(recvmsg(s, &msg, 0) < 0) {
      CHECK(errno == EAGAIN);
      break;
    }
    for(c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if(c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof(ts));
        last = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        if(first < 0)
          first = last;
      }
    (*count)++;
  }
  return first < 0 ? 0 : last - first;
}

/* Runs m until no transfer runs, never asking curl_multi_timeout. */
static void run(CURLM *m, select_fn sel)
{
  int running = 1;
  MOK(curl_multi_perform(m, &running));
  while(running) {
    if(sel) {
      int ready;
      MOK(sel(m, 20000, &ready));
      if(ready == -1) {
        fprintf(stderr, "stall: curlmux_select slept 20 s with transfers running\n");
        exit(1);
      }
    }
    else {
      fd_set r, w, x;
      int maxfd = -1;
      struct timeval tv = {20, 0};
      FD_ZERO(&r);
      FD_ZERO(&w);
      FD_ZERO(&x);
      MOK(curl_multi_fdset(m, &r, &w, &x, &maxfd));
      if(select(maxfd + 1, &r, &w, &x, &tv) == 0) {
        fprintf(stderr, "stall: select slept 20 s with transfers running\n");
        exit(1);
      }
    }
    MOK(curl_multi_perform(m, &running));
    drain_messages(m, on_end);
  }
  drain_messages(m, on_end);
}

static void loop(const char *name, select_fn sel)
{
  enum { SILENCE, STALL, BULK, TRICKLE, N };
  static const size_t want[] = {0, 1000, 1048576, 30000};
  struct body b[N];
  CURL *e[N];
  CURLM *m = curl_multi_init();
  char url[100];
  int port, i, datagrams, s = silent_udp(&port);
  double start, spent, gap;
  CHECK(m != NULL);
  nended = 0;
  e[SILENCE] = new_transfer_p(HTTP3, &b[SILENCE], "/bytes/10");
  snprintf(url, sizeof(url), "https://127.0.0.1:%d/bytes/10", port);
  curl_easy_setopt(e[SILENCE], CURLOPT_URL, url);
  curl_easy_setopt(e[SILENCE], CURLOPT_CONNECTTIMEOUT_MS, CONNECT_MS);
  e[STALL] = new_transfer_p(HTTP3, &b[STALL], "/stall/1000");
  curl_easy_setopt(e[STALL], CURLOPT_TIMEOUT_MS, STALL_MS);
  e[BULK] = new_transfer_p(HTTP3, &b[BULK], "/bytes/1048576");
  e[TRICKLE] = new_transfer_p(HTTP3, &b[TRICKLE], "/trickle/30000/6/1500");
  start = now_s();
  for(i = 0; i < N; i++)
    MOK(curl_multi_add_handle(m, e[i]));
  run(m, sel);
  CHECK_EQ(nended, N);
  gap = spread(s, &datagrams);
  spent = ended_at[end_of(e[SILENCE])] - start;
  fprintf(stderr, "%s: %d datagrams to the silent port over %.0f ms; connect timeout after %.0f ms\n", name,
          datagrams, gap * 1000, spent * 1000);
  printf("%s: connect to silence: %s, on time: %s, Initial sent again later: %s\n", name,
         curl_easy_strerror(ended_rc[end_of(e[SILENCE])]),
         spent > CONNECT_MS / 1000.0 - 0.005 && spent < CONNECT_MS / 1000.0 + 1 ? "yes" : "no",
         gap > 0.3 ? "yes" : "no");
  spent = ended_at[end_of(e[STALL])] - start;
  printf("%s: silent mid-body: %s after %zu bytes, on time: %s\n", name, curl_easy_strerror(ended_rc[end_of(e[STALL])]),
         b[STALL].len, spent > STALL_MS / 1000.0 - 0.005 && spent < STALL_MS / 1000.0 + 1 ? "yes" : "no");
  for(i = BULK; i < N; i++)
    printf("%s: body of %zu: %s, %s\n", name, want[i], curl_easy_strerror(ended_rc[end_of(e[i])]),
           b[i].len == want[i] && !b[i].mismatch ? "whole" : "not whole");
  for(i = 0; i < N; i++) {
    MOK(curl_multi_remove_handle(m, e[i]));
    curl_easy_cleanup(e[i]);
  }
  MOK(curl_multi_cleanup(m));
  close(s);
}

int main(void)
{
  select_fn sel;
  harness_init();
  CHECK(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP3);
  loop("select without curl_multi_timeout", NULL);
  sel = (select_fn)curlmux_symbol("curlmux_select");
  CHECK(sel != NULL);
  loop("curlmux_select", sel);
  return 0;
}
