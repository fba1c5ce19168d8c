/* stock: must-fail (a loop that never asks curl_multi_timeout sleeps through QUIC's timers on stock)
   QUIC lives on timers: a loop that never asks curl_multi_timeout still
   meets them through curlmux, whose descriptor wakes at libcurl's next
   deadline. Two loops, over HTTP/3 only (run on the libcurls that have
   it): fdset + select(20 s) without curl_multi_timeout, and
   curlmux_select(20 s). In each, at once:
   - a connect to a UDP port that takes datagrams and never answers:
     libcurl sends its Initial again on QUIC's probe timer (a datagram
     arrives long after the first) and CURLOPT_CONNECTTIMEOUT_MS ends it
     on time;
   - a response silent mid-body ends at CURLOPT_TIMEOUT_MS;
   - a request never answered, over a UDP relay that goes silent both ways
     once the request is through and the path has been quiet for a second
     (everything sent is acknowledged by then): libcurl's keep-alive ping,
     at half QUIC's idle timeout (the server's 10 s, cli/src/server/h3.rs;
     libcurl announces none of its own) after the last packet it got,
     restarts that timeout, which then closes the connection and ends the
     transfer 15 s after that last packet. Both instants are read from the
     relay's own log of the same run. (Going silent at a fixed time instead,
     the run could catch the request still unacknowledged: its
     retransmission, sent right after the last packet, then restarts the
     idle timer, and the transfer ends 10 s after that, not 15.)
   - bodies, bulk and trickled, arrive whole beside them.
   A select that sleeps its whole 20 s with a transfer running is a stall.
   The silent port and the relay are threads of this program. */
#include "harness.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#define CONNECT_MS 2500L
#define STALL_MS 1500L
#define QUIC_IDLE_S 10.0 /* the server's max_idle_timeout */
#define QUIET_S 1.0     /* the relay falls silent after this long with no datagram */
/* How far the keep-alive and the end may fall from QUIC's instants: timers
   fire late on a loaded 2-core machine, and QUIC's own timers have a
   millisecond grain; a second is room for both, and far from the 5 s that
   a lost keep-alive would make the end come early by. */
#define QUIC_SLACK_S 1.0

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

/* A UDP port on 127.0.0.1 that forwards datagrams to the HTTP/3 server and
   back until it falls silent: once `may_fall_silent` is set (the request is
   through) and no datagram has passed either way for QUIET_S; from then on
   it drops them. With no server (a sink) it never answers at all. Arrivals
   from the client are timed either way; after the silence, the first one
   (libcurl's keep-alive ping) too. */
struct relay {
  int front, back, port;
  struct sockaddr_in client;
  int have_client, datagrams, silent;
  volatile int may_fall_silent;
  double first, last, last_passed, silent_at, last_to_client, first_after;
  volatile int stop;
  pthread_t thread;
};

static void *relay_run(void *arg)
{
  struct relay *r = arg;
  struct pollfd fds[2] = {{r->front, POLLIN, 0}, {r->back, POLLIN, 0}};
  char data[65536];
  r->last_passed = now_s();
  while(!r->stop) {
    struct sockaddr_in from;
    socklen_t len = sizeof(from);
    ssize_t n;
    if(!r->silent && r->back >= 0 && r->may_fall_silent && now_s() - r->last_passed > QUIET_S) {
      r->silent = 1;
      r->silent_at = now_s();
    }
    if(poll(fds, r->back >= 0 ? 2 : 1, 20) <= 0)
      continue;
    if(fds[0].revents & POLLIN &&
       (n = recvfrom(r->front, data, sizeof(data), 0, (struct sockaddr *)&from, &len)) > 0) {
      r->last = now_s();
      if(!r->datagrams++)
        r->first = r->last;
      if(r->silent && r->first_after == 0)
        r->first_after = r->last;
      r->client = from;
      r->have_client = 1;
      if(r->back >= 0 && !r->silent) {
        r->last_passed = r->last;
        if(send(r->back, data, (size_t)n, 0) < 0)
          CHECK(errno == ECONNREFUSED || errno == EAGAIN);
      }
    }
    if(r->back >= 0 && fds[1].revents & POLLIN && (n = recv(r->back, data, sizeof(data), 0)) > 0 &&
       r->have_client && !r->silent) {
      r->last_passed = r->last_to_client = now_s();
      sendto(r->front, data, (size_t)n, 0, (struct sockaddr *)&r->client, sizeof(r->client));
    }
  }
  return NULL;
}

/* Starts a relay to the HTTP/3 server, or a sink. */
static void relay_start(struct relay *r, int to_server)
{
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  memset(r, 0, sizeof(*r));
  r->back = -1;
  r->front = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK(r->front >= 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK_EQ(bind(r->front, (struct sockaddr *)&a, sizeof(a)), 0);
  CHECK_EQ(getsockname(r->front, (struct sockaddr *)&a, &len), 0);
  r->port = ntohs(a.sin_port);
  if(to_server) {
    const char *h3 = env_or_die("CURLMUX_TEST_H3_URL"); /* https://127.0.0.1:PORT */
    a.sin_port = htons((uint16_t)atoi(strrchr(h3, ':') + 1));
    r->back = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(r->back >= 0);
    CHECK_EQ(connect(r->back, (struct sockaddr *)&a, sizeof(a)), 0);
  }
  CHECK_EQ(pthread_create(&r->thread, NULL, relay_run, r), 0);
}

static void relay_stop(struct relay *r)
{
  r->stop = 1;
  CHECK_EQ(pthread_join(r->thread, NULL), 0);
  close(r->front);
  if(r->back >= 0)
    close(r->back);
}

/* Runs m until no transfer runs, never asking curl_multi_timeout; lets the
   relay fall silent once idle's request is through. */
static void run(CURLM *m, select_fn sel, CURL *idle, struct relay *relay)
{
  int running = 1;
  MOK(curl_multi_perform(m, &running));
  while(running) {
    long sent = 0;
    CHECK_EQ(curl_easy_getinfo(idle, CURLINFO_REQUEST_SIZE, &sent), CURLE_OK);
    if(sent)
      relay->may_fall_silent = 1;
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

/* An HTTP/3 transfer of path through the server, or through port when given. */
static CURL *h3(struct body *b, const char *path, int port)
{
  CURL *e = new_transfer_p(HTTP3, b, "%s", path);
  char url[100];
  if(port) {
    snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(e, CURLOPT_URL, url);
  }
  return e;
}

static const char *within(double spent, double deadline, double slack)
{
  return spent > deadline - 0.005 && spent < deadline + slack ? "yes" : "no";
}

/* Either side: QUIC counts from the last packet it processed, the relay
   from the last it passed on, a moment apart either way. */
static const char *near(double spent, double instant, double slack)
{
  return spent > instant - slack && spent < instant + slack ? "yes" : "no";
}

static void loop(const char *name, select_fn sel)
{
  enum { SILENCE, STALL, IDLE, BULK, TRICKLE, N };
  static const size_t want[] = {0, 1000, 0, 1048576, 30000};
  struct body b[N];
  struct relay sink, relay;
  CURL *e[N];
  CURLM *m = curl_multi_init();
  double start = now_s(), spent;
  int i;
  CHECK(m != NULL);
  nended = 0;
  relay_start(&sink, 0);
  relay_start(&relay, 1);
  e[SILENCE] = h3(&b[SILENCE], "/bytes/10", sink.port);
  curl_easy_setopt(e[SILENCE], CURLOPT_CONNECTTIMEOUT_MS, CONNECT_MS);
  e[STALL] = h3(&b[STALL], "/stall/1000", 0);
  curl_easy_setopt(e[STALL], CURLOPT_TIMEOUT_MS, STALL_MS);
  e[IDLE] = h3(&b[IDLE], "/hang", relay.port);
  e[BULK] = h3(&b[BULK], "/bytes/1048576", 0);
  e[TRICKLE] = h3(&b[TRICKLE], "/trickle/30000/6/1500", 0);
  for(i = 0; i < N; i++)
    MOK(curl_multi_add_handle(m, e[i]));
  run(m, sel, e[IDLE], &relay);
  CHECK_EQ(nended, N);
  relay_stop(&sink);
  relay_stop(&relay);

  spent = ended_at[end_of(e[SILENCE])] - start;
  fprintf(stderr, "%s: %d datagrams to the silent port over %.0f ms; connect timeout after %.0f ms\n", name,
          sink.datagrams, (sink.last - sink.first) * 1000, spent * 1000);
  printf("%s: connect to silence: %s, on time: %s, Initial sent again later: %s\n", name,
         curl_easy_strerror(ended_rc[end_of(e[SILENCE])]), within(spent, CONNECT_MS / 1000.0, 1),
         sink.last - sink.first > 0.3 ? "yes" : "no");
  spent = ended_at[end_of(e[STALL])] - start;
  printf("%s: silent mid-body: %s after %zu bytes, on time: %s\n", name, curl_easy_strerror(ended_rc[end_of(e[STALL])]),
         b[STALL].len, within(spent, STALL_MS / 1000.0, 1));
  /* From the relay's log: the last packet libcurl got, its keep-alive ping
     (the first datagram after the silence), the transfer's end. */
  spent = ended_at[end_of(e[IDLE])] - relay.last_to_client;
  fprintf(stderr,
          "%s: through the relay: silent %.0f ms after the start, the last answer at %.0f ms; then "
          "libcurl's first datagram %.0f ms and the end %.0f ms after that answer\n",
          name, (relay.silent_at - start) * 1000, (relay.last_to_client - start) * 1000,
          relay.first_after ? (relay.first_after - relay.last_to_client) * 1000 : -1.0, spent * 1000);
  /* libcurl pings at half the idle timeout after the last packet it got,
     and that first ack-eliciting packet since restarts the idle timer (RFC
     9000, 10.1): the end comes 1.5 idle timeouts after the last answer. */
  printf("%s: relay gone silent: %s, keep-alive at half QUIC's idle timeout: %s, ended at 1.5 times it: %s\n", name,
         ended_rc[end_of(e[IDLE])] == CURLE_OK ? "no error" : "an error",
         relay.first_after ? near(relay.first_after - relay.last_to_client, 0.5 * QUIC_IDLE_S, QUIC_SLACK_S) : "none",
         near(spent, 1.5 * QUIC_IDLE_S, QUIC_SLACK_S));
  for(i = BULK; i < N; i++)
    printf("%s: body of %zu: %s, %s\n", name, want[i], curl_easy_strerror(ended_rc[end_of(e[i])]),
           b[i].len == want[i] && !b[i].mismatch ? "whole" : "not whole");
  for(i = 0; i < N; i++) {
    MOK(curl_multi_remove_handle(m, e[i]));
    curl_easy_cleanup(e[i]);
  }
  MOK(curl_multi_cleanup(m));
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
