/* Calls that come back into the multi API from inside libcurl, while other
   threads create and clean up multi handles and run curl_easy_perform
   (whose private multi libcurl drives through its own public functions):
   nothing may wait there for a lock the calling thread holds while another
   thread waits for it. A watchdog fails the test if a round hangs.
   1. An application's own event loop (socket and timer callbacks,
      curl_multi_socket_action) whose socket callback calls
      curl_multi_assign on CURL_POLL_REMOVE, freeing easies still attached
      (curl_easy_cleanup): the free reaches the socket callback from inside
      libcurl's removal.
   2. A perform + wait loop whose write, progress and debug callbacks call
      back in (info_read, get_handles, timeout, assign, wakeup, and
      curl_easy_pause of their own transfer); the answers are
      callback_misuse.c's business, this test only asks that every
      transfer ends once.
   3. curl_multi_cleanup with transfers in flight. */
#include "threads.h"
#include <signal.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#define ROUNDS 100
#define CHURNERS 2
/* For the whole run. Generous, for valgrind on a loaded 2-core machine
   (where the churning threads take most of valgrind's one lock): stock
   libcurl does the 100 rounds in about 0.2 s, and one hung round never
   ends. */
#define WATCHDOG_S 180

static CURLM *multi;
static int epfd, tfd;
static int wished_in;       /* the socket callback has asked for reading */
static long removes, assigns_refused;
static int stop; /* an atomic flag: set once, then the threads are joined */
static long churned, performed;

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
  struct epoll_event event;
  (void)e;
  (void)userp;
  (void)socketp;
  if(what == CURL_POLL_REMOVE) {
    CURLMcode rc;
    removes++;
    epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL);
    /* The pattern: forget the socket's data. libcurl may already have
       forgotten the socket itself (CURLM_BAD_SOCKET). */
    rc = curl_multi_assign(multi, s, NULL);
    CHECK(rc == CURLM_OK || rc == CURLM_BAD_SOCKET);
    assigns_refused += rc == CURLM_BAD_SOCKET;
    return 0;
  }
  memset(&event, 0, sizeof(event));
  event.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
  event.data.fd = s;
  if(epoll_ctl(epfd, EPOLL_CTL_MOD, s, &event) != 0)
    CHECK_EQ(epoll_ctl(epfd, EPOLL_CTL_ADD, s, &event), 0);
  MOK(curl_multi_assign(multi, s, &epfd));
  if(what == CURL_POLL_IN)
    wished_in = 1;
  return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
  struct itimerspec its;
  (void)m;
  (void)userp;
  memset(&its, 0, sizeof(its));
  if(timeout_ms > 0) {
    its.it_value.tv_sec = timeout_ms / 1000;
    its.it_value.tv_nsec = (timeout_ms % 1000) * 1000000;
  }
  else if(timeout_ms == 0)
    its.it_value.tv_nsec = 1;
  CHECK_EQ(timerfd_settime(tfd, 0, &its, NULL), 0);
  return 0;
}

/* One step of the loop: what is ready, to socket_action. */
static void step(void)
{
  struct epoll_event events[8];
  int i, running, n = epoll_wait(epfd, events, 8, 1000);
  CHECK(n >= 0 || errno == EINTR);
  for(i = 0; i < n; i++) {
    if(events[i].data.fd == tfd) {
      uint64_t count;
      if(read(tfd, &count, sizeof(count)) < 0)
        CHECK(errno == EAGAIN);
      MOK(curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running));
    }
    else {
      int bits = (events[i].events & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) |
                 (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0);
      MOK(curl_multi_socket_action(multi, events[i].data.fd, bits, &running));
    }
  }
}

static void *churn(void *arg)
{
  (void)arg;
  while(!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    CURLM *m = curl_multi_init();
    CHECK(m != NULL);
    MOK(curl_multi_cleanup(m));
    __atomic_add_fetch(&churned, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

/* curl_easy_perform over and over: libcurl's own multi, which it drives
   through its public multi functions (before 8.22), and so through curlmux. */
static void *perform_easily(void *arg)
{
  (void)arg;
  while(!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    struct body b;
    CURL *e = new_transfer(&b, "/bytes/10");
    CHECK_DONE(e, curl_easy_perform(e));
    CHECK_EQ(b.len, 10);
    curl_easy_cleanup(e);
    __atomic_add_fetch(&performed, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

/* Phase 2: callbacks that call back in. */
static CURLM *calling;
static long taken_inside; /* messages a callback's info_read took (8.22+) */

static void call_back_in(CURL *self)
{
  int q;
  long ms;
  typedef CURL **(*get_handles_fn)(CURLM *);
  get_handles_fn get_handles = (get_handles_fn)newer_symbol("curl_multi_get_handles");
  if(curl_multi_info_read(calling, &q))
    taken_inside++;
  if(get_handles) {
    CURL **all = get_handles(calling);
    curl_free(all);
  }
  curl_multi_timeout(calling, &ms);
  curl_multi_assign(calling, 100000, NULL);
  if(HAVE_NEWER)
    curl_multi_wakeup(calling);
  if(self)
    curl_easy_pause(self, CURLPAUSE_CONT);
}

static size_t write_back_in(char *data, size_t size, size_t n, void *userp)
{
  struct body *b = userp;
  call_back_in(NULL);
  return body_write(data, size, n, b);
}

static int progress_back_in(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
  (void)dt;
  (void)dn;
  (void)ut;
  (void)un;
  call_back_in(p);
  return 0;
}

static int debug_back_in(CURL *e, curl_infotype type, char *data, size_t size, void *userp)
{
  (void)e;
  (void)type;
  (void)data;
  (void)size;
  (void)userp;
  call_back_in(NULL);
  return 0;
}

static void callbacks_calling_back(int transfers)
{
  struct body b[20];
  CURL *e[20];
  int i, left = transfers, running = 1, n, q;
  CURLMsg *msg;
  calling = curl_multi_init();
  CHECK(calling != NULL);
  while(left > 0) {
    int batch = left < 20 ? left : 20, done = 0;
    for(i = 0; i < batch; i++) {
      e[i] = new_transfer(&b[i], "/trickle/3000/3/30");
      curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, write_back_in);
      curl_easy_setopt(e[i], CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(e[i], CURLOPT_XFERINFOFUNCTION, progress_back_in);
      curl_easy_setopt(e[i], CURLOPT_XFERINFODATA, e[i]);
      if(i % 4 == 0) {
        curl_easy_setopt(e[i], CURLOPT_VERBOSE, 1L);
        curl_easy_setopt(e[i], CURLOPT_DEBUGFUNCTION, debug_back_in);
      }
      MOK(curl_multi_add_handle(calling, e[i]));
    }
    running = 1;
    while(running) {
      MOK(curl_multi_perform(calling, &running));
      while((msg = curl_multi_info_read(calling, &q))) {
        CHECK_DONE(msg->easy_handle, msg->data.result);
        done++;
      }
      if(running)
        MOK(curl_multi_wait(calling, NULL, 0, 1000, &n));
    }
    while((msg = curl_multi_info_read(calling, &q)))
      done++;
    CHECK_EQ(done + taken_inside, batch);
    taken_inside = 0;
    for(i = 0; i < batch; i++) {
      CHECK_EQ(b[i].len, 3000);
      MOK(curl_multi_remove_handle(calling, e[i]));
      curl_easy_cleanup(e[i]);
    }
    left -= batch;
  }
  MOK(curl_multi_cleanup(calling));
}

/* Phase 3: cleaned up with transfers in flight; the easies survive it. */
static void cleanup_in_flight(int times)
{
  int r, i, running, n;
  for(r = 0; r < times; r++) {
    struct body b[4];
    CURL *e[4];
    CURLM *m = curl_multi_init();
    CHECK(m != NULL);
    for(i = 0; i < 4; i++) {
      e[i] = new_transfer(&b[i], i % 2 ? "/hang" : "/trickle/4000/4/400");
      MOK(curl_multi_add_handle(m, e[i]));
    }
    for(i = 0; i < 3; i++) {
      MOK(curl_multi_perform(m, &running));
      MOK(curl_multi_wait(m, NULL, 0, 20, &n));
    }
    MOK(curl_multi_cleanup(m));
    for(i = 0; i < 4; i++)
      curl_easy_cleanup(e[i]);
  }
}

static void hung(int sig)
{
  static const char msg[] = "threads_churn: a round hung (watchdog)\n";
  (void)sig;
  if(write(2, msg, sizeof(msg) - 1) < 0)
    _exit(2);
  _exit(1);
}

int main(void)
{
  pthread_t churners[CHURNERS], performer;
  struct epoll_event event;
  int i, r, q;

  harness_init();
  ATOMIC_FLAG(stop);
  signal(SIGALRM, hung);
  alarm(WATCHDOG_S);
  multi = curl_multi_init();
  CHECK(multi != NULL);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  CHECK(epfd >= 0 && tfd >= 0);
  memset(&event, 0, sizeof(event));
  event.events = EPOLLIN;
  event.data.fd = tfd;
  CHECK_EQ(epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &event), 0);
  MOK(curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket));
  MOK(curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer));
  for(i = 0; i < CHURNERS; i++)
    CHECK_EQ(pthread_create(&churners[i], NULL, churn, NULL), 0);
  CHECK_EQ(pthread_create(&performer, NULL, perform_easily, NULL), 0);

  for(r = 0; r < rounds(ROUNDS); r++) {
    struct body b;
    CURL *e = new_transfer(&b, "/hang");
    long before = removes;
    wished_in = 0;
    MOK(curl_multi_add_handle(multi, e));
    while(!wished_in)
      step();
    /* Attached, its request sent, its socket watched: freed. */
    curl_easy_cleanup(e);
    CHECK(removes > before);
  }
  CHECK(curl_multi_info_read(multi, &q) == NULL);
  MOK(curl_multi_cleanup(multi));
  close(epfd);
  close(tfd);
  printf("%d easies freed while attached, each socket's removal seen\n", r);
  callbacks_calling_back(rounds(200));
  printf("%d transfers whose callbacks call back in, each ended once\n", rounds(200));
  cleanup_in_flight(rounds(50));
  printf("%d multis cleaned up with transfers in flight\n", rounds(50));
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  for(i = 0; i < CHURNERS; i++)
    CHECK_EQ(pthread_join(churners[i], NULL), 0);
  CHECK_EQ(pthread_join(performer, NULL), 0);
  CHECK(churned > 0 && performed > 0);
  alarm(0);
  return 0;
}
