/*
 * curlmux's benchmark client (built and run by `curlmux bench`). One
 * workload, one loop style, against whatever libcurl multi it is linked to
 * (stock, or curlmux through LD_PRELOAD):
 *
 *   bench_client LOOP BASE_URL IDLE TRANSFERS CONCURRENCY PATH LIMIT_S
 *   bench_client --has-http3     (exits 0 when the libcurl it loads has HTTP/3)
 *
 * BASE_URL is http://127.0.0.1:PORT (HTTP/1.1), or https://127.0.0.1:PORT
 * for HTTP/3 only (CURL_HTTP_VERSION_3ONLY, the certificate in $BENCH_CA).
 *
 * LOOP is classic (perform + fdset + select, honouring curl_multi_timeout),
 * classic-tf (the same with curl_multi_timeout read before curl_multi_fdset,
 * the order of libcurl's own multi-app.c example), wait, poll, or epoll (epoll + timerfd + curl_multi_socket_action, as
 * libcurl's ephiperfifo.c). IDLE transfers to /hang stay open the whole run;
 * TRANSFERS requests of PATH run CONCURRENCY at a time (a rolling window).
 * Only the latter are counted.
 *
 * LOOP producer and producer-queued: a second thread adds TRANSFERS
 * requests of PATH at CONCURRENCY per second while the main thread drives
 * with curl_multi_poll. producer-queued is libcurl's documented way (the
 * producer queues each easy under a mutex and calls curl_multi_wakeup; the
 * polling thread adds it); producer is the producer's add alone where
 * curlmux answers, and the documented way where stock libcurl does (the
 * only safe one there). Reports latency from add (or queueing) to
 * completion too: lat_med_us, lat_p99_us. skipped=1 where the libcurl
 * lacks curl_multi_poll and curl_multi_wakeup. Prints one line of key=value results, with
 * idle_in_place (idle transfers whose request was out when the clock
 * started) and idle_ended (idle transfers that ended: lost, as the server
 * holds /hang for good).
 *
 * The idle crowd talks to the same server under the name "localhost"
 * (pinned to 127.0.0.1 with CURLOPT_RESOLVE: nothing is looked up), as
 * long-polls usually go to another host than the busy traffic: libcurl
 * keeps one connection bundle per host and walks it on every reuse lookup.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static CURLM *multi;
static const char *base, *path;
static long idle, transfers, concurrency, started, ok, failed, iterations, idle_added, idle_sent, idle_ended;
static int epfd = -1, tfd = -1;
static const char *h3_ca; /* HTTP/3 only, with this CA; NULL for HTTP/1.1 */
static CURL **idlers;
static double limit; /* seconds, for the warm-up and the counted phase each */

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
  (void)p;
  (void)u;
  return s * n;
}

/* The producer loops: each counted transfer's start, by its index. */
static double *queued_at;
static double *latencies;
static long nlatencies;
static pthread_mutex_t queue_mu = PTHREAD_MUTEX_INITIALIZER;
static CURL **queue;
static long queued, taken;
static int direct;
typedef CURLMcode (*poll_fn)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
typedef CURLMcode (*wakeup_fn)(CURLM *);
static poll_fn multi_poll;
static wakeup_fn multi_wakeup;

static struct curl_slist *pin;
static char idle_base[256];

static void add(const char *p, int counted)
{
  char url[512];
  CURL *e = curl_easy_init();
  snprintf(url, sizeof(url), "%s%s", counted ? base : idle_base, p);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_RESOLVE, pin);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(e, CURLOPT_PRIVATE, counted ? (char *)1 : NULL);
  if(h3_ca) {
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_3ONLY);
    curl_easy_setopt(e, CURLOPT_CAINFO, h3_ca);
  }
  if(counted) /* past the run's own limit: a stalled run is not a failed transfer */
    curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)(2 * limit));
  else if(!h3_ca)
    /* Joining, an idle transfer would have libcurl walk the idle host's
       whole bundle for a connection to reuse: placing 18,000 took 52 s,
       12 s without. Over HTTP/3 the crowd multiplexes instead. */
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  curl_multi_add_handle(multi, e);
  if(counted)
    started++;
  else
    idlers[idle_added++] = e;
}

/* Every idle transfer added so far has sent its request. They send about
   in order, so the scan resumes where it stopped: O(idle) in all. */
static int idle_all_sent(void)
{
  long size;
  while(idle_sent < idle_added &&
        curl_easy_getinfo(idlers[idle_sent], CURLINFO_REQUEST_SIZE, &size) == CURLE_OK && size > 0)
    idle_sent++;
  return idle_sent == idle_added;
}

/* Finished transfers out, new ones in: the rolling window. */
static void harvest(void)
{
  CURLMsg *m;
  int q;
  while((m = curl_multi_info_read(multi, &q))) {
    CURL *e = m->easy_handle;
    char *counted;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, &counted);
    if(!counted) {
      /* The server holds /hang open: an idle transfer that ends was lost.
         Its handle stays in idlers[], unfreed. */
      idle_ended++;
      curl_multi_remove_handle(multi, e);
      continue;
    }
    if(m->data.result == CURLE_OK)
      ok++;
    else
      failed++;
    if(queued_at) {
      long i = (long)(intptr_t)counted - 1;
      latencies[nlatencies++] = (now() - queued_at[i]) * 1e6;
    }
    curl_multi_remove_handle(multi, e);
    curl_easy_cleanup(e);
    if(started < transfers && !queued_at)
      add(path, 1);
  }
}

static int on_timer(CURLM *m, long ms, void *u)
{
  struct itimerspec its;
  (void)m;
  (void)u;
  memset(&its, 0, sizeof(its));
  if(ms > 0) {
    its.it_value.tv_sec = ms / 1000;
    its.it_value.tv_nsec = (ms % 1000) * 1000000;
  }
  else if(ms == 0)
    its.it_value.tv_nsec = 1;
  timerfd_settime(tfd, 0, &its, NULL);
  return 0;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *u, void *sp)
{
  struct epoll_event ev;
  (void)e;
  (void)u;
  memset(&ev, 0, sizeof(ev));
  ev.data.fd = s;
  if(what == CURL_POLL_REMOVE) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL);
    return 0;
  }
  ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
  if(!sp) {
    curl_multi_assign(multi, s, (void *)1);
    if(epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev) && errno == EEXIST)
      epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev);
  }
  else if(epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev) && errno == ENOENT)
    epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev);
  return 0;
}

/* A counted transfer for the producer loops: CURLOPT_PRIVATE is its index + 1. */
static CURL *produced(long i)
{
  char url[512];
  CURL *e = curl_easy_init();
  snprintf(url, sizeof(url), "%s%s", base, path);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)(intptr_t)(i + 1));
  curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)(2 * limit));
  return e;
}

/* Adds TRANSFERS transfers at CONCURRENCY per second, on time by the clock. */
static void *produce(void *arg)
{
  struct timespec start;
  long i;
  (void)arg;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for(i = 0; i < transfers; i++) {
    double at = start.tv_sec + start.tv_nsec / 1e9 + (double)i / (double)concurrency;
    struct timespec due = {(time_t)at, (long)((at - (time_t)at) * 1e9)};
    CURL *e;
    while(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
      ;
    e = produced(i);
    queued_at[i] = now();
    if(direct)
      curl_multi_add_handle(multi, e);
    else {
      pthread_mutex_lock(&queue_mu);
      queue[queued++] = e;
      pthread_mutex_unlock(&queue_mu);
      multi_wakeup(multi);
    }
  }
  return NULL;
}

/* The polling thread adds what the producer queued (the documented way). */
static void take_queued(void)
{
  pthread_mutex_lock(&queue_mu);
  while(taken < queued) {
    curl_multi_add_handle(multi, queue[taken++]);
    started++;
  }
  pthread_mutex_unlock(&queue_mu);
}

static int by_value(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One turn of the loop: wait for something, then let libcurl work. */
static void step(const char *loop)
{
  int running, n;
  iterations++;
  if(!strncmp(loop, "classic", 7)) {
    fd_set r, w, x;
    int maxfd = -1;
    long t = -1;
    struct timeval tv;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    if(!strcmp(loop, "classic-tf")) {
      curl_multi_timeout(multi, &t);
      curl_multi_fdset(multi, &r, &w, &x, &maxfd);
    }
    else {
      curl_multi_fdset(multi, &r, &w, &x, &maxfd);
      curl_multi_timeout(multi, &t);
    }
    if(t < 0 || t > 1000)
      t = 1000;
    if(maxfd == -1 && t > 100)
      t = 100; /* as libcurl's documentation advises */
    tv.tv_sec = t / 1000;
    tv.tv_usec = (t % 1000) * 1000;
    select(maxfd + 1, &r, &w, &x, &tv);
    curl_multi_perform(multi, &running);
  }
  else if(!strncmp(loop, "producer", 8)) {
    multi_poll(multi, NULL, 0, 1000, &n);
    take_queued();
    curl_multi_perform(multi, &running);
  }
  else if(!strcmp(loop, "wait") || !strcmp(loop, "poll")) {
    if(loop[0] == 'w')
      curl_multi_wait(multi, NULL, 0, 1000, &n);
    else
      curl_multi_poll(multi, NULL, 0, 1000, &n);
    curl_multi_perform(multi, &running);
  }
  else {
    struct epoll_event evs[256];
    int i;
    n = epoll_wait(epfd, evs, 256, 1000);
    for(i = 0; i < n; i++) {
      if(evs[i].data.fd == tfd) {
        uint64_t c;
        if(read(tfd, &c, 8) < 0) {
          /* spurious */
        }
        curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
      }
      else {
        int bits = (evs[i].events & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) |
                   (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                   (evs[i].events & EPOLLERR ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(multi, evs[i].data.fd, bits, &running);
      }
    }
  }
  harvest();
}

int main(int argc, char **argv)
{
  const char *loop;
  double t0, c0, wall, used, warm;
  struct rusage ru;
  long i;
  int stalled = 0;

  if(argc == 2 && !strcmp(argv[1], "--has-http3"))
    return curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP3 ? 0 : 1;
  if(argc != 8) {
    fprintf(stderr, "usage: %s LOOP BASE_URL IDLE TRANSFERS CONCURRENCY PATH LIMIT_S\n", argv[0]);
    return 2;
  }
  loop = argv[1];
  base = argv[2];
  idle = atol(argv[3]);
  transfers = atol(argv[4]);
  concurrency = atol(argv[5]);
  path = argv[6];
  limit = atof(argv[7]);
  if(!strncmp(base, "https://", 8) && !(h3_ca = getenv("BENCH_CA"))) {
    fprintf(stderr, "an https:// BASE_URL (HTTP/3) needs BENCH_CA\n");
    return 2;
  }
  idlers = calloc((size_t)idle + 1, sizeof(*idlers));
  {
    /* A program sizes its descriptor limit to its load: the cell's need, at
       least the usual 1,024 (the runner raised the hard limit for all). */
    struct rlimit lim;
    rlim_t need = (rlim_t)(idle + concurrency + 64);
    if(need < 1024)
      need = 1024;
    if(!getrlimit(RLIMIT_NOFILE, &lim) && lim.rlim_cur > need) {
      lim.rlim_cur = need;
      setrlimit(RLIMIT_NOFILE, &lim);
    }
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  {
    /* base is http(s)://127.0.0.1:PORT */
    const char *port = strrchr(base, ':') + 1;
    char entry[64];
    snprintf(idle_base, sizeof(idle_base), "%s://localhost:%s", h3_ca ? "https" : "http", port);
    snprintf(entry, sizeof(entry), "localhost:%s:127.0.0.1", port);
    pin = curl_slist_append(NULL, entry);
  }
  multi = curl_multi_init();
  if(!strncmp(loop, "producer", 8)) {
    pthread_t producer;
    double *sorted;
    multi_poll = (poll_fn)dlsym(RTLD_DEFAULT, "curl_multi_poll");
    multi_wakeup = (wakeup_fn)dlsym(RTLD_DEFAULT, "curl_multi_wakeup");
    if(!multi_poll || !multi_wakeup) {
      printf("skipped=1\n");
      return 0;
    }
    direct = !strcmp(loop, "producer") && dlsym(RTLD_DEFAULT, "curlmux_version");
    queued_at = calloc((size_t)transfers, sizeof(*queued_at));
    latencies = calloc((size_t)transfers, sizeof(*latencies));
    queue = calloc((size_t)transfers, sizeof(*queue));
    t0 = now();
    c0 = cpu();
    pthread_create(&producer, NULL, produce, NULL);
    while(ok + failed < transfers) {
      if(now() - t0 > limit) {
        stalled = 1;
        break;
      }
      step(loop);
    }
    wall = now() - t0;
    used = cpu() - c0;
    pthread_join(producer, NULL);
    getrusage(RUSAGE_SELF, &ru);
    sorted = latencies;
    qsort(sorted, (size_t)nlatencies, sizeof(*sorted), by_value);
    printf("ok=%ld failed=%ld wall_s=%.4f cpu_s=%.4f cpu_us_per=%.2f iterations=%ld maxrss_kb=%ld stalled=%d "
           "lat_med_us=%.1f lat_p99_us=%.1f\n",
           ok, failed, wall, used, ok ? used * 1e6 / ok : 0.0, iterations, ru.ru_maxrss, stalled,
           nlatencies ? sorted[nlatencies / 2] : 0.0, nlatencies ? sorted[nlatencies * 99 / 100] : 0.0);
    return 0;
  }
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)(idle + concurrency + 16));
  if(!strcmp(loop, "epoll")) {
    struct epoll_event ev;
    epfd = epoll_create1(0);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.fd = tfd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
  }
  /* The idle crowd connects and sends its requests before the clock
     starts, a hundred at a time: thousands of QUIC handshakes at once
     overrun the server's socket, and long-polls gather over time anyway. */
  warm = now();
  while(idle_added < idle && now() - warm < limit) {
    for(i = 0; i < 100 && idle_added < idle; i++)
      add("/hang", 0);
    while(!idle_all_sent() && now() - warm < limit)
      step(loop);
  }
  for(warm = now(); now() - warm < 0.3;)
    step(loop);
  idle_all_sent();

  t0 = now();
  c0 = cpu();
  iterations = 0;
  for(i = 0; i < concurrency && started < transfers; i++)
    add(path, 1);
  while(ok + failed < transfers) {
    if(now() - t0 > limit) {
      stalled = 1;
      break;
    }
    step(loop);
  }
  wall = now() - t0;
  used = cpu() - c0;
  getrusage(RUSAGE_SELF, &ru);
  printf("ok=%ld failed=%ld wall_s=%.4f cpu_s=%.4f cpu_us_per=%.2f iterations=%ld maxrss_kb=%ld stalled=%d "
         "idle_in_place=%ld idle_ended=%ld\n",
         ok, failed, wall, used, ok ? used * 1e6 / ok : 0.0, iterations, ru.ru_maxrss, stalled, idle_sent, idle_ended);
  fflush(stdout);
  /* Exiting is the cheapest way to drop thousands of handles, but a QUIC
     server learns of a vanished client only at its idle timeout, holding
     every stream till then: close the connections (not measured). */
  if(h3_ca)
    curl_multi_cleanup(multi);
  return 0;
}
