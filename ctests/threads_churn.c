/* An application's own event loop (socket and timer callbacks,
   curl_multi_socket_action) whose socket callback calls curl_multi_assign on
   CURL_POLL_REMOVE, freeing easies still attached (curl_easy_cleanup) while
   other threads create and clean up multi handles of their own. The free
   reaches the socket callback from inside libcurl's removal, and the
   callback calls back into the multi API: nothing may wait there for a lock
   the freeing thread holds while another thread waits for it. A watchdog
   fails the test if a round hangs. */
#include "harness.h"
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#define ROUNDS 100
#define CHURNERS 2
/* Generous, for valgrind on a loaded 2-core machine: stock libcurl does the
   100 rounds in about 0.2 s, and one hung round never ends. */
#define WATCHDOG_S 120

static CURLM *multi;
static int epfd, tfd;
static int wished_in;       /* the socket callback has asked for reading */
static long removes, assigns_refused;
static volatile int stop;
static volatile long churned;

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
  while(!stop) {
    CURLM *m = curl_multi_init();
    CHECK(m != NULL);
    MOK(curl_multi_cleanup(m));
    churned++;
  }
  return NULL;
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
  pthread_t churners[CHURNERS];
  struct epoll_event event;
  int i, r, q;

  harness_init();
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

  for(r = 0; r < ROUNDS; r++) {
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
  stop = 1;
  for(i = 0; i < CHURNERS; i++)
    pthread_join(churners[i], NULL);
  CHECK(churned > 0);
  CHECK(curl_multi_info_read(multi, &q) == NULL);
  MOK(curl_multi_cleanup(multi));
  close(epfd);
  close(tfd);
  alarm(0);
  printf("%d easies freed while attached, each socket's removal seen, beside multi churn\n", ROUNDS);
  return 0;
}
