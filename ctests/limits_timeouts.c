/* Connection reuse and limits, and deadlines in every loop style:
   keep-alive reuse across transfers of one multi, MAX_HOST_CONNECTIONS and
   MAX_TOTAL_CONNECTIONS queueing, CURLOPT_TIMEOUT_MS against a server that
   never answers, CURLOPT_CONNECTTIMEOUT_MS against one that never accepts. */
#include "loops.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static int done;
static CURLcode last;
static CURL *ended[64];
static CURLcode ended_rc[64];

static void on_done(CURL *e, CURLcode rc)
{
  if(done < 64) {
    ended[done] = e;
    ended_rc[done] = rc;
  }
  last = rc;
  done++;
}

/* The result of transfer e, as its message said; stderr names a failure. */
static CURLcode result_of(CURL *e, int i)
{
  int k;
  for(k = 0; k < done && k < 64 && ended[k] != e; k++)
    ;
  CHECK(k < done);
  if(ended_rc[k] != CURLE_OK)
    fprintf(stderr, "transfer %d ended %d (%s), message %d of %d\n", i, ended_rc[k],
            curl_easy_strerror(ended_rc[k]), k + 1, done);
  return ended_rc[k];
}

static int distinct_ports(CURL **e, int n)
{
  int i, j, distinct = 0;
  long ports[64];
  for(i = 0; i < n; i++) {
    CHECK_EQ(curl_easy_getinfo(e[i], CURLINFO_LOCAL_PORT, &ports[i]), CURLE_OK);
    for(j = 0; j < i && ports[j] != ports[i]; j++)
      ;
    distinct += j == i;
  }
  return distinct;
}

static int limited(CURLMoption option, long limit, int n)
{
  struct body b[64];
  CURL *e[64];
  CURLM *m = curl_multi_init();
  int i, distinct;
  MOK(curl_multi_setopt(m, option, limit));
  done = 0;
  for(i = 0; i < n; i++) {
    e[i] = new_transfer(&b[i], "/delay/100/%d", 10 + i);
    MOK(curl_multi_add_handle(m, e[i]));
  }
  run_loop(LOOP_WAIT, m, on_done, n);
  CHECK_EQ(done, n);
  distinct = distinct_ports(e, n);
  for(i = 0; i < n; i++) {
    CHECK_EQ(result_of(e[i], i), CURLE_OK);
    CHECK_EQ(b[i].len, (size_t)(10 + i));
    MOK(curl_multi_remove_handle(m, e[i]));
    curl_easy_cleanup(e[i]);
  }
  MOK(curl_multi_cleanup(m));
  return distinct;
}

/* One transfer to `path` (or to a port that never accepts) with a deadline,
   through loop l; returns its result and checks it came in time. */
static CURLcode deadline(enum loop l, int never_accepts, int port)
{
  struct body b;
  CURLM *m = curl_multi_init();
  CURL *e;
  double t0 = now_s();
  char url[100];
  if(l == LOOP_EVENTS)
    events_init(m);
  if(never_accepts) {
    e = new_transfer(&b, "/");
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 300L);
  }
  else {
    e = new_transfer(&b, "/hang");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 300L);
  }
  done = 0;
  MOK(curl_multi_add_handle(m, e));
  run_loop(l, m, on_done, 1);
  CHECK_EQ(done, 1);
  /* On time (300 ms), not after a loop's own sleep (1 s, or 20 s for a
     select loop that never asks curl_multi_timeout): 5 s leaves room for
     valgrind on a loaded 2-core machine and still tells the two apart. */
  CHECK(now_s() - t0 < 5.0);
  MOK(curl_multi_remove_handle(m, e));
  curl_easy_cleanup(e);
  MOK(curl_multi_cleanup(m));
  if(l == LOOP_EVENTS)
    events_done();
  return last;
}

/* A listening socket whose accept queue is full: connects to it hang. */
static int full_listener(int *fds)
{
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int i, s = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK_EQ(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
  CHECK_EQ(listen(s, 0), 0);
  CHECK_EQ(getsockname(s, (struct sockaddr *)&a, &len), 0);
  fds[0] = s;
  for(i = 1; i < 4; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fds[i], (struct sockaddr *)&a, sizeof(a));
  }
  {
    /* Full once the first is through (a backlog of 0 queues one): the
       others' SYNs, and later ones, are dropped. A condition, not a guess. */
    struct pollfd first = {fds[1], POLLOUT, 0};
    CHECK_EQ(poll(&first, 1, 10000), 1);
  }
  return ntohs(a.sin_port);
}

int main(void)
{
  struct body b;
  CURL *reuse[5], *e;
  CURLM *m;
  int i, l, fds[4], port;

  harness_init();

  /* keep-alive: five transfers one after another share one connection */
  m = curl_multi_init();
  e = new_transfer(&b, "/bytes/100");
  for(i = 0; i < 5; i++) {
    done = 0;
    MOK(curl_multi_add_handle(m, e));
    run_loop(LOOP_WAIT, m, on_done, 1);
    CHECK_EQ(done, 1);
    CHECK_EQ(last, CURLE_OK);
    MOK(curl_multi_remove_handle(m, e));
    reuse[i] = e;
  }
  printf("sequential transfers, connections: %d\n", distinct_ports(reuse, 1));
  {
    long connects = -1;
    CHECK_EQ(curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects), CURLE_OK);
    printf("last transfer made new connections: %ld\n", connects);
  }
  curl_easy_cleanup(e);
  MOK(curl_multi_cleanup(m));

  printf("MAX_HOST_CONNECTIONS 2, 12 transfers, connections: %d\n", limited(CURLMOPT_MAX_HOST_CONNECTIONS, 2, 12));
  printf("MAX_TOTAL_CONNECTIONS 3, 12 transfers, connections: %d\n", limited(CURLMOPT_MAX_TOTAL_CONNECTIONS, 3, 12));

  port = full_listener(fds);
  for(l = LOOP_SELECT; l <= LOOP_EVENTS; l++) {
    if(!loop_runs((enum loop)l))
      continue;
    LOOP_PRINTF(l, "%s: TIMEOUT_MS on a silent server: %d\n", loop_names[l], deadline((enum loop)l, 0, 0));
    LOOP_PRINTF(l, "%s: CONNECTTIMEOUT_MS on a full listener: %d\n", loop_names[l], deadline((enum loop)l, 1, port));
  }
  for(i = 0; i < 4; i++)
    close(fds[i]);
  return 0;
}
