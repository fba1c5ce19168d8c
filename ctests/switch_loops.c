/* A program may change how it drives a multi with transfers in flight: an
   event loop (socket and timer callbacks, curl_multi_socket_action) for the
   first half, then a classic select, wait or poll loop for the rest — and
   the other way round. curlmux keeps the sockets of an app-driven multi out
   of its own epoll set until something waits through it, and must put them
   back, as libcurl last wished them, the moment a classic loop starts.
   Every transfer ends in exactly one message with its whole body.
   Switching to events, a program must ask libcurl once for every socket
   (curl_multi_socket_all): stock's perform tells the socket callback only
   while resolving, so from 8.12 on, where no timer covers for it, the slow
   transfers would sit until CURLOPT_TIMEOUT. */
#include "loops.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define FAST 10
#define SLOW 10
#define ALL (FAST + SLOW)

static struct body bodies[ALL];
static int seen[ALL], done;
static CURLM *multi;

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
  CHECK_EQ(b->len, (size_t)(i < FAST ? 2000 + i : 3000));
  MOK(curl_multi_remove_handle(multi, e));
  curl_easy_cleanup(e);
  done++;
}

/* The event loop of loops.h, until `target` transfers are done. */
static void events_until(CURLM *m, int target)
{
  int running = 1;
  while(done < target && running) {
    struct epoll_event events[64];
    int i, n = epoll_wait(ev.epfd, events, 64, 1000);
    CHECK(n >= 0 || errno == EINTR);
    for(i = 0; i < n; i++) {
      if(events[i].data.fd == ev.tfd) {
        uint64_t count;
        if(read(ev.tfd, &count, sizeof(count)) < 0)
          CHECK(errno == EAGAIN);
        MOK(curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running));
      }
      else {
        int bits = (events[i].events & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) |
                   (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                   (events[i].events & EPOLLERR ? CURL_CSELECT_ERR : 0);
        MOK(curl_multi_socket_action(m, events[i].data.fd, bits, &running));
      }
    }
    drain_messages(m, on_done);
  }
}

/* One loop style until every fast transfer is done. */
static void classic_until_fast_done(enum loop l, CURLM *m)
{
  int running = 1, numfds;
  while(done < FAST && running) {
    if(l == LOOP_SELECT) {
      fd_set r, w, x;
      int maxfd = -1;
      struct timeval tv = {0, 100 * 1000};
      FD_ZERO(&r);
      FD_ZERO(&w);
      FD_ZERO(&x);
      MOK(curl_multi_fdset(m, &r, &w, &x, &maxfd));
      CHECK(select(maxfd + 1, &r, &w, &x, &tv) >= 0 || errno == EINTR);
    }
    else if(l == LOOP_POLL)
      MOK(curl_multi_poll(m, NULL, 0, 100, &numfds));
    else
      MOK(curl_multi_wait(m, NULL, 0, 100, &numfds));
    MOK(curl_multi_perform(m, &running));
    drain_messages(m, on_done);
  }
}

static void run(enum loop l, int events_first)
{
  CURLM *m = multi = curl_multi_init();
  int i, running, slow_in_flight;
  CHECK(m != NULL);
  memset(seen, 0, sizeof(seen));
  done = 0;
  events_init(m);
  for(i = 0; i < ALL; i++)
    MOK(curl_multi_add_handle(m, i < FAST ? new_transfer(&bodies[i], "/bytes/%d", 2000 + i)
                                          : new_transfer(&bodies[i], "/trickle/3000/3/1500")));
  if(events_first)
    events_until(m, FAST);
  else {
    MOK(curl_multi_perform(m, &running));
    classic_until_fast_done(l, m);
  }
  slow_in_flight = ALL - done;
  /* The slow ones are mid-body, their sockets watched: switch. */
  if(events_first)
    run_loop(l, m, on_done, ALL - done);
  else {
    MOK(curl_multi_socket_all(m, &running));
    drain_messages(m, on_done);
    events_until(m, ALL);
  }
  CHECK_EQ(slow_in_flight, SLOW);
  CHECK_EQ(done, ALL);
  events_done();
  LOOP_PRINTF(l, "%s: %d of %d done, one message each, %d switched mid-body\n",
              events_first ? (l == LOOP_SELECT ? "events then select" : l == LOOP_WAIT ? "events then wait" : "events then poll")
                           : (l == LOOP_SELECT ? "select then events" : l == LOOP_WAIT ? "wait then events" : "poll then events"),
              done, ALL, slow_in_flight);
  MOK(curl_multi_cleanup(m));
}

int main(void)
{
  int l;
  harness_init();
  for(l = LOOP_SELECT; l <= LOOP_POLL; l++)
    if(loop_runs((enum loop)l)) {
      run((enum loop)l, 1);
      run((enum loop)l, 0);
    }
  curl_global_cleanup();
  return 0;
}
