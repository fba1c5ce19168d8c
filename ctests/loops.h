/*
 * The four ways programs drive a multi, each run until no transfer runs,
 * calling on_done for every message: a classic fdset + select loop that
 * honours curl_multi_timeout, a curl_multi_wait loop, a curl_multi_poll
 * loop, and an event loop on epoll + timerfd with CURLMOPT_SOCKETFUNCTION,
 * CURLMOPT_TIMERFUNCTION and curl_multi_socket_action, shaped like libcurl's
 * docs/examples/ephiperfifo.c. A fifth, curlmux's own: perform +
 * curlmux_select, the seed's pycurl loop (only where curlmux answers).
 */
#ifndef CURLMUX_TEST_LOOPS_H
#define CURLMUX_TEST_LOOPS_H

#include "harness.h"
#include <sys/epoll.h>
#include <sys/timerfd.h>

enum loop { LOOP_SELECT, LOOP_WAIT, LOOP_POLL, LOOP_EVENTS, LOOP_CURLMUX };
static const char *const loop_names[] __attribute__((unused)) = {"select", "wait", "poll", "events",
                                                                 "curlmux_select"};

/* The poll loop needs curl_multi_poll (harness.h); what it found is printed
   on "newer: " lines. The curlmux_select loop has no stock answer to print:
   a test compares what it found with another loop's findings itself. */
static inline int loop_runs(enum loop l)
{
  return l == LOOP_POLL ? HAVE_NEWER : l == LOOP_CURLMUX ? curlmux_symbol("curlmux_select") != NULL : 1;
}

#define LOOP_PRINTF(l, ...) (printf("%s", (l) == LOOP_POLL ? "newer: " : ""), printf(__VA_ARGS__))

static void run_select(CURLM *m, void (*on_done)(CURL *, CURLcode))
{
  int running = 1;
  MOK(curl_multi_perform(m, &running));
  while(running) {
    fd_set r, w, x;
    int maxfd = -1;
    long t = -1;
    struct timeval tv;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    MOK(curl_multi_fdset(m, &r, &w, &x, &maxfd));
    MOK(curl_multi_timeout(m, &t));
    if(t < 0 || t > 1000)
      t = 1000;
    tv.tv_sec = t / 1000;
    tv.tv_usec = (t % 1000) * 1000;
    CHECK(select(maxfd + 1, &r, &w, &x, &tv) >= 0 || errno == EINTR);
    MOK(curl_multi_perform(m, &running));
    drain_messages(m, on_done);
  }
  drain_messages(m, on_done);
}

static void run_wait(CURLM *m, void (*on_done)(CURL *, CURLcode), int poll)
{
  int running = 1, numfds;
  MOK(curl_multi_perform(m, &running));
  while(running) {
    if(poll)
      MOK(curl_multi_poll(m, NULL, 0, 1000, &numfds));
    else
      MOK(curl_multi_wait(m, NULL, 0, 1000, &numfds));
    MOK(curl_multi_perform(m, &running));
    drain_messages(m, on_done);
  }
  drain_messages(m, on_done);
}

typedef CURLMcode (*curlmux_select_fn)(CURLM *, long, int *);

static void run_curlmux_select(CURLM *m, void (*on_done)(CURL *, CURLcode))
{
  curlmux_select_fn sel = (curlmux_select_fn)curlmux_symbol("curlmux_select");
  int running = 1, ready;
  CHECK(sel != NULL);
  MOK(curl_multi_perform(m, &running));
  while(running) {
    MOK(sel(m, 1000, &ready));
    MOK(curl_multi_perform(m, &running));
    drain_messages(m, on_done);
  }
  drain_messages(m, on_done);
}

/* The event loop's state, and what it checked of libcurl's callbacks. */
struct events {
  CURLM *multi;
  int epfd, tfd;
  long socket_calls, timer_calls, removes;
  int wrong_multi, wrong_socketp;
};
struct sockinfo {
  curl_socket_t fd;
};
static struct events ev;

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
  struct itimerspec its;
  CHECK(userp == &ev);
  ev.timer_calls++;
  ev.wrong_multi += m != ev.multi;
  memset(&its, 0, sizeof(its));
  if(timeout_ms > 0) {
    its.it_value.tv_sec = timeout_ms / 1000;
    its.it_value.tv_nsec = (timeout_ms % 1000) * 1000000;
  }
  else if(timeout_ms == 0)
    its.it_value.tv_nsec = 1; /* "now", from the loop: never act inside the callback */
  CHECK_EQ(timerfd_settime(ev.tfd, 0, &its, NULL), 0);
  return 0;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
  struct sockinfo *si = socketp;
  struct epoll_event event;
  (void)e;
  CHECK(userp == &ev);
  CHECK(what >= CURL_POLL_IN && what <= CURL_POLL_REMOVE);
  ev.socket_calls++;
  if(si && si->fd != s)
    ev.wrong_socketp++;
  if(what == CURL_POLL_REMOVE) {
    ev.removes++;
    epoll_ctl(ev.epfd, EPOLL_CTL_DEL, s, NULL); /* it may be closed already */
    free(si);
    return 0;
  }
  memset(&event, 0, sizeof(event));
  event.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
  event.data.fd = s;
  if(!si) {
    si = calloc(1, sizeof(*si));
    CHECK(si != NULL);
    si->fd = s;
    MOK(curl_multi_assign(ev.multi, s, si)); /* allowed inside the callback */
    if(epoll_ctl(ev.epfd, EPOLL_CTL_ADD, s, &event) != 0 && errno == EEXIST)
      CHECK_EQ(epoll_ctl(ev.epfd, EPOLL_CTL_MOD, s, &event), 0);
  }
  else if(epoll_ctl(ev.epfd, EPOLL_CTL_MOD, s, &event) != 0 && errno == ENOENT)
    CHECK_EQ(epoll_ctl(ev.epfd, EPOLL_CTL_ADD, s, &event), 0);
  return 0;
}

/* Sets the callbacks; call before adding transfers (or the first timer is missed). */
__attribute__((unused)) static void events_init(CURLM *m)
{
  memset(&ev, 0, sizeof(ev));
  ev.multi = m;
  ev.epfd = epoll_create1(EPOLL_CLOEXEC);
  ev.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  CHECK(ev.epfd >= 0 && ev.tfd >= 0);
  {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = EPOLLIN;
    event.data.fd = ev.tfd;
    CHECK_EQ(epoll_ctl(ev.epfd, EPOLL_CTL_ADD, ev.tfd, &event), 0);
  }
  MOK(curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket));
  MOK(curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &ev));
  MOK(curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer));
  MOK(curl_multi_setopt(m, CURLMOPT_TIMERDATA, &ev));
}

/* One turn of the event loop: what epoll reports within wait_ms, to
   socket_action; the running count after it (-1 when nothing was ready). */
static int events_turn(CURLM *m, int wait_ms)
{
  struct epoll_event events[64];
  int i, running = -1, n = epoll_wait(ev.epfd, events, 64, wait_ms);
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
  return running;
}

static void run_events(CURLM *m, void (*on_done)(CURL *, CURLcode), int transfers)
{
  int running = transfers;
  while(running) {
    int now = events_turn(m, 1000);
    if(now >= 0)
      running = now;
    drain_messages(m, on_done);
  }
  drain_messages(m, on_done);
  CHECK_EQ(ev.wrong_multi, 0);
  CHECK_EQ(ev.wrong_socketp, 0);
}

/* Checks the loop was driven by the callbacks, over every run since events_init:
   one run may see none (7.61 can finish every transfer inside one socket_action). */
__attribute__((unused)) static void events_done(void)
{
  CHECK(ev.timer_calls > 0 && ev.socket_calls > 0);
  close(ev.epfd);
  close(ev.tfd);
}

/* Runs the transfers already added to m (events: after events_init) with the given loop. */
static void run_loop(enum loop l, CURLM *m, void (*on_done)(CURL *, CURLcode), int transfers)
{
  switch(l) {
  case LOOP_SELECT:
    run_select(m, on_done);
    break;
  case LOOP_WAIT:
    run_wait(m, on_done, 0);
    break;
  case LOOP_POLL:
    run_wait(m, on_done, 1);
    break;
  case LOOP_EVENTS:
    run_events(m, on_done, transfers);
    break;
  case LOOP_CURLMUX:
    run_curlmux_select(m, on_done);
    break;
  }
}

#endif
