/* A rolling window of fast transfers, then a crowd of slow ones on top, then
   the fast ones alone again, in each of the four loops. In the classic ones
   (select, wait, poll) curlmux drives few, mostly ready transfers by
   libcurl's own walk and switches back to socket_action when the crowd
   arrives (walk.rs); the event loop drives itself. The wait loop runs once
   more over HTTPS (many TLS connections). Every
   transfer must still end in exactly one message with its whole body. A
   curl_multi_poll with a wakeup pending returns at once, whichever way the
   multi is driven. The soft descriptor limit is lowered to FD_SETSIZE first,
   as in most processes (curlmux walks a select loop only then). */
#include "loops.h"
#include <sys/resource.h>

#define FAST 4000
#define WINDOW 60
#define SLOW 150
#define ALL (FAST + SLOW)

static struct body bodies[ALL];
static int seen[ALL], started_fast, done_fast, done_slow;
static CURLM *multi;
static enum proto proto = HTTP1;

static void add_fast(void)
{
  int i = started_fast++;
  MOK(curl_multi_add_handle(multi, new_transfer_p(proto, &bodies[i], "/bytes/%d", 1000 + i)));
}

static void on_done(CURL *e, CURLcode rc)
{
  struct body *b;
  int i;
  expect_ok(e, rc);
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&b), CURLE_OK);
  i = (int)(b - bodies);
  CHECK(i >= 0 && i < ALL);
  CHECK_EQ(seen[i], 0);
  seen[i] = 1;
  CHECK_EQ(b->len, (size_t)(i < FAST ? 1000 + i : 3000));
  MOK(curl_multi_remove_handle(multi, e));
  curl_easy_cleanup(e);
  if(i < FAST) {
    done_fast++;
    /* The crowd arrives three quarters of the way, on top of the window. */
    if(done_fast == FAST / 4 * 3) {
      int k;
      for(k = FAST; k < ALL; k++)
        MOK(curl_multi_add_handle(multi, new_transfer_p(proto, &bodies[k], "/trickle/3000/3/%d", 100 + k % 200)));
    }
    if(started_fast < FAST)
      add_fast();
  }
  else
    done_slow++;
}

/* One idle transfer attached, a wakeup pending: poll must not sleep. */
static void poll_wakes(void)
{
  struct body b;
  CURL *e = new_transfer(&b, "/hang");
  int numfds, running;
  double t0;
  MOK(curl_multi_add_handle(multi, e));
  MOK(curl_multi_perform(multi, &running));
  MOK(curl_multi_wakeup(multi));
  t0 = now_s();
  MOK(curl_multi_poll(multi, NULL, 0, 5000, &numfds));
  /* At once, not its 5 s: half of them leaves room for valgrind on a
     loaded 2-core machine. */
  CHECK(now_s() - t0 < 2.5);
  MOK(curl_multi_remove_handle(multi, e));
  curl_easy_cleanup(e);
}

/* One multi through the whole workload with one loop, over protocol p. */
static void run(enum loop loop, enum proto p)
{
  int i;
  memset(seen, 0, sizeof(seen));
  started_fast = done_fast = done_slow = 0;
  proto = p;
  multi = curl_multi_init();
  CHECK(multi != NULL);
  if(loop == LOOP_EVENTS)
    events_init(multi);
  for(i = 0; i < WINDOW; i++)
    add_fast();
  /* The event loop ends when a message leaves nothing running, before
     on_done adds the next: go on until every transfer is done. */
  while(done_fast + done_slow < ALL)
    run_loop(loop, multi, on_done, 1);
  if(loop == LOOP_EVENTS)
    events_done();
  CHECK_EQ(done_fast, FAST);
  CHECK_EQ(done_slow, SLOW);
  if(loop == LOOP_POLL)
    poll_wakes();
  MOK(curl_multi_cleanup(multi));
  LOOP_PRINTF(loop, "%s over %s: %d fast and %d slow transfers, one message each\n", loop_names[loop], proto_name(p),
              done_fast, done_slow);
}

int main(void)
{
  struct rlimit lim;
  int loop;
  harness_init();
  CHECK_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  if(lim.rlim_cur > FD_SETSIZE) {
    lim.rlim_cur = FD_SETSIZE;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
  }
  for(loop = LOOP_SELECT; loop <= LOOP_EVENTS; loop++)
    if(loop_runs((enum loop)loop))
      run(loop, HTTP1);
  run(LOOP_WAIT, HTTPS1);
  curl_global_cleanup();
  return 0;
}
