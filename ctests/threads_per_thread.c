/* The common pattern: one multi per thread, sixteen threads at once, each
   driving its own transfers to completion in its own loop style (fdset +
   select, wait, poll, curlmux_select where curlmux answers, and an event
   loop on its own epoll + timerfd with socket and timer callbacks). Every
   callback of a multi (write, socket, timer) must run on the thread that
   drives it. */
#include "loops.h"
#include "threads.h"

#define THREADS 16
#define PER 25

struct owned {
  struct body body; /* first: CURLOPT_PRIVATE doubles as the body */
  pthread_t owner;
  size_t want;
};

/* Callbacks that ran on another thread than their multi's. */
static long strays;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void stray_if_not(pthread_t owner)
{
  if(!pthread_equal(owner, pthread_self())) {
    pthread_mutex_lock(&mu);
    strays++;
    pthread_mutex_unlock(&mu);
  }
}

static size_t owned_write(char *data, size_t size, size_t n, void *userp)
{
  struct owned *o = userp;
  stray_if_not(o->owner);
  return body_write(data, size, n, userp);
}

static void on_done(CURL *e, CURLcode rc)
{
  struct owned *o;
  CHECK_DONE(e, rc);
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&o), CURLE_OK);
  stray_if_not(o->owner);
  CHECK_EQ(o->body.len, o->want);
  CHECK(!o->body.mismatch);
}

/* A per-thread event loop: its own epoll and timerfd. */
struct loop_state {
  pthread_t owner;
  int epfd, tfd;
};

static int ev_timer(CURLM *m, long ms, void *userp)
{
  struct loop_state *s = userp;
  struct itimerspec its;
  (void)m;
  stray_if_not(s->owner);
  memset(&its, 0, sizeof(its));
  if(ms > 0) {
    its.it_value.tv_sec = ms / 1000;
    its.it_value.tv_nsec = (ms % 1000) * 1000000;
  }
  else if(ms == 0)
    its.it_value.tv_nsec = 1;
  CHECK_EQ(timerfd_settime(s->tfd, 0, &its, NULL), 0);
  return 0;
}

static int ev_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
  struct loop_state *s = userp;
  struct epoll_event event;
  (void)e;
  (void)socketp;
  stray_if_not(s->owner);
  if(what == CURL_POLL_REMOVE) {
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
    return 0;
  }
  memset(&event, 0, sizeof(event));
  event.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
  event.data.fd = fd;
  if(epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &event) != 0)
    CHECK_EQ(epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &event), 0);
  return 0;
}

static void run_own_events(CURLM *m, struct loop_state *s)
{
  int running = 1;
  struct epoll_event event;
  memset(&event, 0, sizeof(event));
  event.events = EPOLLIN;
  event.data.fd = s->tfd;
  CHECK_EQ(epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->tfd, &event), 0);
  MOK(curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running));
  while(running) {
    struct epoll_event events[16];
    int i, n = epoll_wait(s->epfd, events, 16, 1000);
    CHECK(n >= 0 || errno == EINTR);
    for(i = 0; i < n; i++) {
      if(events[i].data.fd == s->tfd) {
        uint64_t count;
        if(read(s->tfd, &count, sizeof(count)) < 0)
          CHECK(errno == EAGAIN);
        MOK(curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running));
      }
      else {
        int bits = (events[i].events & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) |
                   (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0);
        MOK(curl_multi_socket_action(m, events[i].data.fd, bits, &running));
      }
    }
    drain_messages(m, on_done);
  }
  drain_messages(m, on_done);
}

static void *run(void *arg)
{
  long id = (long)arg;
  enum loop style = (enum loop)(id % 5);
  struct owned o[PER];
  struct loop_state s;
  CURL *e[PER];
  CURLM *m = curl_multi_init();
  int i;
  CHECK(m != NULL);
  if(!loop_runs(style))
    style = LOOP_WAIT;
  s.owner = pthread_self();
  if(style == LOOP_EVENTS) {
    s.epfd = epoll_create1(EPOLL_CLOEXEC);
    s.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    CHECK(s.epfd >= 0 && s.tfd >= 0);
    MOK(curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, ev_socket));
    MOK(curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &s));
    MOK(curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, ev_timer));
    MOK(curl_multi_setopt(m, CURLMOPT_TIMERDATA, &s));
  }
  for(i = 0; i < PER; i++) {
    o[i].owner = pthread_self();
    o[i].want = (size_t)(1000 * id + i);
    e[i] = new_transfer(&o[i].body, "/bytes/%zu", o[i].want);
    curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, owned_write);
    curl_easy_setopt(e[i], CURLOPT_WRITEDATA, &o[i]);
    curl_easy_setopt(e[i], CURLOPT_PRIVATE, &o[i]);
    MOK(curl_multi_add_handle(m, e[i]));
  }
  if(style == LOOP_EVENTS)
    run_own_events(m, &s);
  else
    run_loop(style, m, on_done, PER);
  for(i = 0; i < PER; i++) {
    MOK(curl_multi_remove_handle(m, e[i]));
    curl_easy_cleanup(e[i]);
  }
  MOK(curl_multi_cleanup(m));
  if(style == LOOP_EVENTS) {
    close(s.epfd);
    close(s.tfd);
  }
  return NULL;
}

int main(void)
{
  pthread_t t[THREADS];
  long i;
  harness_init();
  for(i = 0; i < THREADS; i++)
    CHECK_EQ(pthread_create(&t[i], NULL, run, (void *)i), 0);
  for(i = 0; i < THREADS; i++)
    CHECK_EQ(pthread_join(t[i], NULL), 0);
  printf("threads %d, transfers ok %d each, callbacks on another thread: %ld\n", THREADS, PER, strays);
  CHECK_EQ(strays, 0);
  return 0;
}
