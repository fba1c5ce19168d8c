/*
 * The soak client (`curlmux soak`): rounds of a mixed workload, each round
 * on a new multi driven by one loop style in turn (fdset + select, wait,
 * poll, curlmux_select, an epoll + timerfd socket_action loop). Transfers
 * succeed, redirect, pause and resume, get refused, time out, are reset or
 * answered 404; some are removed or freed mid-transfer, every fourth round's
 * multi is cleaned up with transfers in flight, and a thread keeps calling
 * curl_multi_wakeup. Where curlmux answers, threads feed and churn too: a
 * producer thread adds a quarter of each round's transfers to the multi the
 * main thread drives (on the event loop it wakes the loop through an
 * eventfd, as an application would), and one thread all along creates a
 * multi, runs one transfer through it and cleans it up (pausing while a
 * round's end is sampled, so that its descriptors never count there). Every
 * added transfer must end exactly once: by one completion message with the
 * result its kind expects (a body checked byte by byte), or by being
 * removed, freed or abandoned with no message.
 *
 * usage: soak_client BASE_URL CLOSED_PORT TRANSFERS CONCURRENCY SEED
 * prints per round: round=K loop=L transfers=T rss_kb=R fds=F
 * and at the end: added= ended_by_message= removed= freed= abandoned=
 * twice= stray= wrong= wakeups= stalled= produced= churned= churn_ok=
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define ROUND 1000
#define MAXC 512
#define ROUND_LIMIT_S 60.0

enum kind { OK, TRICKLE, REDIRECT, CLOSE, REFUSED, TIMEOUT, RESET, NOTFOUND, PAUSE, REMOVE, FREE, KINDS };
static const char *const kind_names[KINDS] = {"ok", "trickle", "redirect", "close", "refused", "timeout",
                                              "reset", "404", "pause", "remove", "free"};
enum style { SELECT, WAIT, POLL, CMSELECT, EVENTS, STYLES };
static const char *const style_names[STYLES] = {"select", "wait", "poll", "curlmux_select", "events"};

struct xfer {
  CURL *e;
  enum kind kind;
  size_t want, got;
  int mismatch, paused, messages;
  double added_at;
  int produced; /* added by the producer thread: the main thread reaps it */
};

static struct xfer slots[MAXC];
/* The producer's transfers: it takes a free one (e NULL), the main thread
   frees it after its message. Under produced_mu. */
#define PRODUCED_AT_ONCE 16
static struct xfer produced_slots[PRODUCED_AT_ONCE];
static pthread_mutex_t produced_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t produced_room = PTHREAD_COND_INITIALIZER;
static int concurrency;
static const char *base;
static int closed_port;
static unsigned long long rng;
static long long added, by_message, removed, freed, abandoned, twice, stray, wrong, wrong_by_kind[KINDS];
/* Counted by several threads: atomics. */
static long long produced, churned, churn_ok;
static int threads_too; /* curlmux answers: other threads may feed a multi */

typedef CURLMcode (*poll_fn)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
typedef CURLMcode (*wakeup_fn)(CURLM *);
typedef CURLMcode (*cmselect_fn)(CURLM *, long, int *);
static poll_fn multi_poll;
static wakeup_fn multi_wakeup;
static cmselect_fn cm_select;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned next_rand(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng >> 16);
}

static void die(const char *what, int code)
{
  fprintf(stderr, "soak_client: %s failed: %d\n", what, code);
  exit(3);
}
#define MOK(call)                                                              \
  do {                                                                         \
    CURLMcode rc_ = (call);                                                    \
    if(rc_ != CURLM_OK)                                                        \
      die(#call, rc_);                                                         \
  } while(0)

static size_t on_write(char *data, size_t size, size_t n, void *userp)
{
  struct xfer *x = userp;
  size_t i, len = size * n;
  if(x->kind == PAUSE && !x->paused && x->got > 0) {
    x->paused = 1;
    return CURL_WRITEFUNC_PAUSE;
  }
  for(i = 0; i < len; i++)
    if(data[i] != "abcdefghijklmnopqrstuvwxyz0123456789"[(x->got + i) % 36])
      x->mismatch = 1;
  x->got += len;
  return len;
}

/* Prepares x as a transfer of the given kind, or of a random one (kind
   KINDS); the random numbers are the main thread's. */
static void prepare(struct xfer *x, enum kind kind, size_t want)
{
  char url[300];
  memset(x, 0, sizeof(*x));
  if(kind == KINDS) {
    unsigned r = next_rand();
    kind = (enum kind)(r % 20 < 9 ? OK : r % 20 - 9 + TRICKLE);
    if(kind >= KINDS)
      kind = OK;
    want = 1 + next_rand() % 20000;
  }
  x->kind = kind;
  x->want = want;
  x->e = curl_easy_init();
  if(!x->e)
    die("curl_easy_init", 0);
  curl_easy_setopt(x->e, CURLOPT_TIMEOUT, 30L); /* before the kinds' own */
  switch(x->kind) {
  case TRICKLE:
    snprintf(url, sizeof(url), "%s/trickle/%zu/3/30", base, x->want);
    break;
  case REDIRECT:
    snprintf(url, sizeof(url), "%s/redirect/2/%zu", base, x->want);
    curl_easy_setopt(x->e, CURLOPT_FOLLOWLOCATION, 1L);
    break;
  case CLOSE:
    snprintf(url, sizeof(url), "%s/close/%zu", base, x->want);
    break;
  case REFUSED:
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", closed_port);
    break;
  case TIMEOUT:
    snprintf(url, sizeof(url), "%s/hang", base);
    curl_easy_setopt(x->e, CURLOPT_TIMEOUT_MS, 50L + next_rand() % 100);
    break;
  case RESET:
    snprintf(url, sizeof(url), "%s/reset/%zu", base, x->want);
    break;
  case NOTFOUND:
    snprintf(url, sizeof(url), "%s/status/404", base);
    curl_easy_setopt(x->e, CURLOPT_FAILONERROR, 1L);
    break;
  case REMOVE:
  case FREE:
    snprintf(url, sizeof(url), "%s/delay/300/%zu", base, x->want);
    break;
  default:
    snprintf(url, sizeof(url), "%s/bytes/%zu", base, x->want);
  }
  curl_easy_setopt(x->e, CURLOPT_URL, url);
  curl_easy_setopt(x->e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(x->e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(x->e, CURLOPT_PRIVATE, x);
  x->added_at = now_s();
}

static void start(CURLM *m, struct xfer *x)
{
  prepare(x, KINDS, 0);
  MOK(curl_multi_add_handle(m, x->e));
  __atomic_add_fetch(&added, 1, __ATOMIC_RELAXED);
}

/* The result a transfer of its kind must end with. */
static int as_expected(const struct xfer *x, CURLcode rc)
{
  switch(x->kind) {
  case REFUSED:
    return rc == CURLE_COULDNT_CONNECT;
  case TIMEOUT:
    return rc == CURLE_OPERATION_TIMEDOUT;
  case RESET:
    return rc != CURLE_OK;
  case NOTFOUND:
    return rc == CURLE_HTTP_RETURNED_ERROR;
  default:
    return rc == CURLE_OK && x->got == x->want && !x->mismatch;
  }
}

/* The transfer e is, if it is one in flight (its CURLOPT_PRIVATE, checked
   against both tables). */
static struct xfer *slot_of(CURL *e)
{
  struct xfer *x = NULL;
  curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
  if(x >= slots && x < slots + concurrency && x->e == e)
    return x;
  if(x >= produced_slots && x < produced_slots + PRODUCED_AT_ONCE) {
    int mine;
    pthread_mutex_lock(&produced_mu);
    mine = x->e == e;
    pthread_mutex_unlock(&produced_mu);
    return mine ? x : NULL;
  }
  return NULL;
}

static int inflight(void)
{
  int i, n = 0;
  for(i = 0; i < concurrency; i++)
    n += slots[i].e != NULL;
  return n;
}

static void drain(CURLM *m)
{
  CURLMsg *msg;
  int left;
  while((msg = curl_multi_info_read(m, &left))) {
    struct xfer *x = msg->msg == CURLMSG_DONE ? slot_of(msg->easy_handle) : NULL;
    if(!x) {
      stray++;
      continue;
    }
    if(x->messages++) {
      twice++;
      continue;
    }
    by_message++;
    if(x->produced) {
      /* The producer's: checked, then freed here, its slot given back. */
      if(!as_expected(x, msg->data.result))
        wrong++;
      MOK(curl_multi_remove_handle(m, x->e));
      curl_easy_cleanup(x->e);
      pthread_mutex_lock(&produced_mu);
      x->e = NULL;
      pthread_cond_signal(&produced_room);
      pthread_mutex_unlock(&produced_mu);
      continue;
    }
    if(!as_expected(x, msg->data.result)) {
      wrong++;
      if(wrong_by_kind[x->kind]++ < 3)
        fprintf(stderr, "soak_client: %s transfer ended %d (%s), %zu of %zu bytes%s\n", kind_names[x->kind],
                msg->data.result, curl_easy_strerror(msg->data.result), x->got, x->want,
                x->mismatch ? ", bytes differ" : "");
    }
  }
}

/* What the application does between waits: retire finished transfers,
   resume paused ones, remove or free those whose kind says so. */
static void tend(CURLM *m)
{
  int i;
  double now = now_s();
  for(i = 0; i < concurrency; i++) {
    struct xfer *x = &slots[i];
    if(!x->e)
      continue;
    if(x->messages) {
      MOK(curl_multi_remove_handle(m, x->e));
      curl_easy_cleanup(x->e);
      x->e = NULL;
    }
    else if(x->kind == PAUSE && x->paused == 1) {
      x->paused = 2;
      curl_easy_pause(x->e, CURLPAUSE_CONT);
    }
    else if(x->kind == REMOVE && now - x->added_at > 0.05) {
      MOK(curl_multi_remove_handle(m, x->e));
      curl_easy_cleanup(x->e);
      x->e = NULL;
      removed++;
    }
    else if(x->kind == FREE && now - x->added_at > 0.05) {
      curl_easy_cleanup(x->e); /* still attached: libcurl detaches it */
      x->e = NULL;
      freed++;
    }
  }
}

/* ---- the event loop's callbacks ---- */

struct events {
  int epfd, tfd, evfd; /* evfd: the producer's "look", for the loop */
};

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
  struct events *ev = userp;
  struct itimerspec its;
  (void)m;
  memset(&its, 0, sizeof(its));
  if(timeout_ms > 0) {
    its.it_value.tv_sec = timeout_ms / 1000;
    its.it_value.tv_nsec = (timeout_ms % 1000) * 1000000;
  }
  else if(timeout_ms == 0)
    its.it_value.tv_nsec = 1;
  timerfd_settime(ev->tfd, 0, &its, NULL);
  return 0;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
  struct events *ev = userp;
  struct epoll_event event;
  (void)e;
  (void)socketp;
  if(what == CURL_POLL_REMOVE) {
    epoll_ctl(ev->epfd, EPOLL_CTL_DEL, s, NULL);
    return 0;
  }
  memset(&event, 0, sizeof(event));
  event.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
  event.data.fd = s;
  if(epoll_ctl(ev->epfd, EPOLL_CTL_MOD, s, &event) != 0 && errno == ENOENT)
    epoll_ctl(ev->epfd, EPOLL_CTL_ADD, s, &event);
  return 0;
}

static void step_events(CURLM *m, struct events *ev)
{
  struct epoll_event events[64];
  int i, running, n = epoll_wait(ev->epfd, events, 64, 100);
  for(i = 0; i < n; i++) {
    if(events[i].data.fd == ev->tfd || events[i].data.fd == ev->evfd) {
      uint64_t count;
      if(read(events[i].data.fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
        die("read timerfd", errno);
      MOK(curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running));
    }
    else {
      int bits = (events[i].events & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) |
                 (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                 (events[i].events & EPOLLERR ? CURL_CSELECT_ERR : 0);
      MOK(curl_multi_socket_action(m, events[i].data.fd, bits, &running));
    }
  }
}

static void step(CURLM *m, enum style s, struct events *ev)
{
  int running, n;
  if(s == SELECT) {
    fd_set r, w, x;
    int maxfd = -1;
    long t = -1;
    struct timeval tv;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    MOK(curl_multi_fdset(m, &r, &w, &x, &maxfd));
    MOK(curl_multi_timeout(m, &t));
    if(t < 0 || t > 100)
      t = 100;
    tv.tv_sec = 0;
    tv.tv_usec = t * 1000;
    if(select(maxfd + 1, &r, &w, &x, &tv) < 0 && errno != EINTR)
      die("select", errno);
  }
  else if(s == WAIT)
    MOK(curl_multi_wait(m, NULL, 0, 100, &n));
  else if(s == POLL)
    MOK(multi_poll(m, NULL, 0, 100, &n));
  else if(s == CMSELECT)
    MOK(cm_select(m, 100, &n));
  else {
    step_events(m, ev);
    return;
  }
  MOK(curl_multi_perform(m, &running));
}

/* ---- wakeups from another thread ---- */

static CURLM *woken;
static volatile int waking;
static long long wakeups;

static void *waker(void *arg)
{
  (void)arg;
  while(waking) {
    if(multi_wakeup(woken) != CURLM_OK)
      die("curl_multi_wakeup", -1);
    wakeups++;
    usleep(500);
  }
  return NULL;
}

/* ---- a producer thread feeding the round's multi ---- */

struct producing {
  CURLM *m;
  long long quota;
  int evfd; /* >= 0: the event loop's, written after each add */
  unsigned long long rng;
  volatile int stop;
};

static void *producer(void *arg)
{
  struct producing *p = arg;
  long long n;
  for(n = 0; n < p->quota && !p->stop; n++) {
    struct xfer *x = NULL;
    int i;
    pthread_mutex_lock(&produced_mu);
    while(!x && !p->stop) {
      for(i = 0; i < PRODUCED_AT_ONCE && !x; i++)
        if(!produced_slots[i].e)
          x = &produced_slots[i];
      if(!x)
        pthread_cond_wait(&produced_room, &produced_mu);
    }
    if(x) {
      p->rng ^= p->rng << 13;
      p->rng ^= p->rng >> 7;
      p->rng ^= p->rng << 17;
      prepare(x, p->rng % 2 ? OK : TRICKLE, 1 + (size_t)(p->rng >> 20) % 20000);
      x->produced = 1;
      MOK(curl_multi_add_handle(p->m, x->e));
      __atomic_add_fetch(&produced, 1, __ATOMIC_RELAXED);
      __atomic_add_fetch(&added, 1, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&produced_mu);
    if(x && p->evfd >= 0) {
      uint64_t one = 1;
      if(write(p->evfd, &one, sizeof(one)) < 0)
        die("write eventfd", errno);
    }
  }
  return NULL;
}

static int produced_in_flight(void)
{
  int i, n = 0;
  pthread_mutex_lock(&produced_mu);
  for(i = 0; i < PRODUCED_AT_ONCE; i++)
    n += produced_slots[i].e != NULL;
  pthread_mutex_unlock(&produced_mu);
  return n;
}

/* ---- a thread that makes and cleans up multis all along ---- */

static pthread_mutex_t churn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t churn_cv = PTHREAD_COND_INITIALIZER;
static int churn_paused, churn_busy, churn_stop;

static void *churn(void *arg)
{
  (void)arg;
  for(;;) {
    struct xfer x;
    CURLM *m;
    CURLMsg *msg;
    int running = 1, n, q, ok = 0;
    pthread_mutex_lock(&churn_mu);
    while(churn_paused && !churn_stop)
      pthread_cond_wait(&churn_cv, &churn_mu);
    if(churn_stop) {
      pthread_mutex_unlock(&churn_mu);
      return NULL;
    }
    churn_busy = 1;
    pthread_mutex_unlock(&churn_mu);
    m = curl_multi_init();
    if(!m)
      die("curl_multi_init (churn)", 0);
    prepare(&x, OK, 100);
    MOK(curl_multi_add_handle(m, x.e));
    while(running) {
      MOK(curl_multi_perform(m, &running));
      if(running)
        MOK(multi_poll(m, NULL, 0, 1000, &n));
    }
    while((msg = curl_multi_info_read(m, &q)))
      ok += msg->easy_handle == x.e && as_expected(&x, msg->data.result);
    MOK(curl_multi_remove_handle(m, x.e));
    curl_easy_cleanup(x.e);
    MOK(curl_multi_cleanup(m));
    __atomic_add_fetch(&churned, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&churn_ok, ok == 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&churn_mu);
    churn_busy = 0;
    pthread_cond_broadcast(&churn_cv);
    pthread_mutex_unlock(&churn_mu);
  }
}

/* Holds the churning thread between its multis (true), or lets it go on. */
static void churn_hold(int hold)
{
  pthread_mutex_lock(&churn_mu);
  churn_paused = hold;
  pthread_cond_broadcast(&churn_cv);
  while(hold && churn_busy)
    pthread_cond_wait(&churn_cv, &churn_mu);
  pthread_mutex_unlock(&churn_mu);
}

/* ---- what the process holds ---- */

static long rss_kb(void)
{
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if(f) {
    if(fscanf(f, "%ld %ld", &pages, &resident) != 2)
      resident = 0;
    fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int open_fds(void)
{
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  struct dirent *entry;
  if(!d)
    return -1;
  while((entry = readdir(d)))
    n += entry->d_name[0] != '.';
  closedir(d);
  return n - 1; /* the directory's own */
}

static int round_of(long long quota, enum style s, int abandon)
{
  CURLM *m = curl_multi_init();
  struct events ev = {-1, -1, -1};
  struct producing p;
  pthread_t thread, producing_thread;
  long long target = added + quota, own = threads_too ? quota - quota / 4 : quota, own_started = 0;
  double began = now_s();
  int i, stalled = 0;
  if(!m)
    die("curl_multi_init", 0);
  if(s == EVENTS) {
    struct epoll_event event;
    ev.epfd = epoll_create1(EPOLL_CLOEXEC);
    ev.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    memset(&event, 0, sizeof(event));
    event.events = EPOLLIN;
    event.data.fd = ev.tfd;
    epoll_ctl(ev.epfd, EPOLL_CTL_ADD, ev.tfd, &event);
    MOK(curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket));
    MOK(curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &ev));
    MOK(curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer));
    MOK(curl_multi_setopt(m, CURLMOPT_TIMERDATA, &ev));
    ev.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    event.data.fd = ev.evfd;
    epoll_ctl(ev.epfd, EPOLL_CTL_ADD, ev.evfd, &event);
  }
  if(multi_wakeup) {
    woken = m;
    waking = 1;
    pthread_create(&thread, NULL, waker, NULL);
  }
  memset(&p, 0, sizeof(p));
  p.m = m;
  p.quota = quota - own;
  p.evfd = ev.evfd;
  p.rng = rng ^ 0x9E3779B97F4A7C15ULL;
  if(threads_too)
    pthread_create(&producing_thread, NULL, producer, &p);
  for(;;) {
    long long so_far;
    for(i = 0; i < concurrency && own_started < own; i++)
      if(!slots[i].e) {
        start(m, &slots[i]);
        own_started++;
      }
    so_far = __atomic_load_n(&added, __ATOMIC_RELAXED);
    if(abandon && so_far >= target - quota / 2)
      break;
    if(so_far >= target && !inflight() && !produced_in_flight())
      break;
    step(m, s, &ev);
    drain(m);
    tend(m);
    if(now_s() - began > ROUND_LIMIT_S) {
      long t = -2;
      stalled = 1;
      curl_multi_timeout(m, &t);
      fprintf(stderr, "soak_client: %s round stalled; curl_multi_timeout says %ld ms\n", style_names[s], t);
      for(i = 0; i < concurrency; i++)
        if(slots[i].e)
          fprintf(stderr, "soak_client: %s stalled: a %s transfer, %zu of %zu bytes, %.1f s old\n", style_names[s],
                  kind_names[slots[i].kind], slots[i].got, slots[i].want, now_s() - slots[i].added_at);
      break;
    }
  }
  if(multi_wakeup) {
    waking = 0;
    pthread_join(thread, NULL);
  }
  if(threads_too) {
    pthread_mutex_lock(&produced_mu);
    p.stop = 1;
    pthread_cond_broadcast(&produced_room);
    pthread_mutex_unlock(&produced_mu);
    pthread_join(producing_thread, NULL);
  }
  MOK(curl_multi_cleanup(m));
  /* The producer's transfers still attached were abandoned with it. */
  for(i = 0; i < PRODUCED_AT_ONCE; i++) {
    if(produced_slots[i].e) {
      abandoned += !produced_slots[i].messages;
      curl_easy_cleanup(produced_slots[i].e);
      produced_slots[i].e = NULL;
    }
  }
  /* Whatever is still attached was abandoned with the multi. */
  for(i = 0; i < concurrency; i++) {
    if(slots[i].e) {
      abandoned += !slots[i].messages;
      curl_easy_cleanup(slots[i].e);
      slots[i].e = NULL;
    }
  }
  if(s == EVENTS) {
    close(ev.epfd);
    close(ev.tfd);
    close(ev.evfd);
  }
  return stalled;
}

int main(int argc, char **argv)
{
  long long transfers, round = 0;
  int stalled = 0;
  pthread_t churning;
  if(argc != 6) {
    fprintf(stderr, "usage: soak_client BASE_URL CLOSED_PORT TRANSFERS CONCURRENCY SEED\n");
    return 2;
  }
  base = argv[1];
  closed_port = atoi(argv[2]);
  transfers = atoll(argv[3]);
  concurrency = atoi(argv[4]);
  rng = strtoull(argv[5], NULL, 10) | 1;
  if(concurrency < 1 || concurrency > MAXC)
    concurrency = 50;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  /* libcurl 7.66's and 7.68's functions, and curlmux's own, where the process has them. */
  multi_poll = (poll_fn)dlsym(RTLD_DEFAULT, "curl_multi_poll");
  multi_wakeup = (wakeup_fn)dlsym(RTLD_DEFAULT, "curl_multi_wakeup");
  cm_select = (cmselect_fn)dlsym(RTLD_DEFAULT, "curlmux_select");
  threads_too = dlsym(RTLD_DEFAULT, "curlmux_version") != NULL;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if(threads_too)
    pthread_create(&churning, NULL, churn, NULL);
  while(added < transfers && !stalled) {
    enum style s = (enum style)(round % STYLES);
    long long quota = transfers - added < ROUND ? transfers - added : ROUND;
    if((s == POLL && !multi_poll) || (s == CMSELECT && !cm_select))
      s = WAIT;
    stalled = round_of(quota, s, round % 4 == 3);
    churn_hold(1);
    printf("round=%lld loop=%s transfers=%lld rss_kb=%ld fds=%d\n", round, style_names[s], added, rss_kb(),
           open_fds());
    churn_hold(0);
    round++;
  }
  if(threads_too) {
    pthread_mutex_lock(&churn_mu);
    churn_stop = 1;
    pthread_cond_broadcast(&churn_cv);
    pthread_mutex_unlock(&churn_mu);
    pthread_join(churning, NULL);
  }
  curl_global_cleanup();
  printf("added=%lld ended_by_message=%lld removed=%lld freed=%lld abandoned=%lld twice=%lld stray=%lld "
         "wrong=%lld wakeups=%lld stalled=%d produced=%lld churned=%lld churn_ok=%lld\n",
         added, by_message, removed, freed, abandoned, twice, stray, wrong, wakeups, stalled, produced, churned,
         churn_ok);
  return 0;
}
