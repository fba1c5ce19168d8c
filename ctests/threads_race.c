/* stock: skip (another thread's call while one sleeps in the multi: libcurl 7.88 races, 8.22 and later answer CURLM_RECURSIVE_API_CALL)
   Another thread's remove, cleanup and wakeup against a thread asleep in
   the multi, each repeated so that a rare interleaving shows:
   - remove: the sleeper (poll, wait, curlmux_select, select on the fdset
     descriptor) returns within 500 ms, not at its 10 s; the transfer is
     gone, with no message;
   - cleanup: the sleeping poll returns within 500 ms, every later call
     answers CURLM_BAD_HANDLE, and the easy is detached and usable again;
   - wakeup: the sleeping poll returns within 500 ms;
   - remove against a thread that performs without sleeping: every transfer
     ends in at most one message, and in exactly one unless removed;
   - on a multi the application drives with its own socket and timer
     callbacks, another thread's add and remove: libcurl's callbacks for
     them (the timer's 0 ms, CURL_POLL_REMOVE) run on the driving thread,
     at its next call, and the added transfers complete;
   - the driving thread pausing (by its write callback) and unpausing
     (curl_easy_pause between calls, which flushes what waited into the
     write callback) while another thread adds: libcurl's pause works on
     the multi, so it must not overlap the other thread's add (libcurl
     would answer that add CURLM_RECURSIVE_API_CALL, or worse).
   500 ms: a kick wakes a sleeper in well under a millisecond here; the rest
   is room for valgrind on a loaded 2-core machine. */
#include "threads.h"
#include <poll.h>
#include <semaphore.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#define SLEEP_MS 10000
#define WITHIN_MS 500.0

enum sleeper { POLL, WAIT, CURLMUX, SELECT_FD };
static const char *const names[] = {"poll", "wait", "curlmux_select", "select on the fdset descriptor"};
typedef CURLMcode (*select_fn)(CURLM *, long, int *);

/* One sleep of up to SLEEP_MS in the multi; its return code. */
static CURLMcode sleep_in(enum sleeper how, CURLM *m)
{
  int n;
  if(how == POLL)
    return curl_multi_poll(m, NULL, 0, SLEEP_MS, &n);
  if(how == WAIT)
    return curl_multi_wait(m, NULL, 0, SLEEP_MS, &n);
  if(how == CURLMUX)
    return ((select_fn)curlmux_symbol("curlmux_select"))(m, SLEEP_MS, &n);
  {
    fd_set r, w, x;
    int maxfd = -1;
    struct timeval tv = {SLEEP_MS / 1000, 0};
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    MOK(curl_multi_fdset(m, &r, &w, &x, &maxfd));
    CHECK(maxfd >= 0);
    CHECK(select(maxfd + 1, &r, &w, &x, &tv) >= 0);
    return CURLM_OK;
  }
}

/* A transfer never answered and never timed out, its request sent. */
static CURL *unanswered(CURLM *m, struct body *b)
{
  int running = 0, n;
  long sent = 0;
  CURL *e = new_transfer(b, "/hang");
  curl_easy_setopt(e, CURLOPT_TIMEOUT, 0L);
  MOK(curl_multi_add_handle(m, e));
  while(!sent) {
    MOK(curl_multi_perform(m, &running));
    CHECK_EQ(curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &sent), CURLE_OK);
    if(!sent)
      MOK(curl_multi_wait(m, NULL, 0, 100, &n));
  }
  CHECK_EQ(running, 1);
  return e;
}

enum act { REMOVE, CLEANUP, WAKEUP };

struct other {
  pid_t sleeper;
  enum act act;
  CURLM *m;
  CURL *e;
  double at;
};

static void *act_once_asleep(void *arg)
{
  struct other *o = arg;
  wait_until_asleep(o->sleeper);
  o->at = now_s();
  if(o->act == REMOVE)
    MOK(curl_multi_remove_handle(o->m, o->e));
  else if(o->act == CLEANUP)
    MOK(curl_multi_cleanup(o->m));
  else
    MOK(curl_multi_wakeup(o->m));
  return NULL;
}

/* The main thread sleeps in m, another thread acts; how long after the act
   the sleep went on (ms), and the sleep's answer. */
static double race(enum sleeper how, struct other *o, CURLMcode *rc)
{
  pthread_t t;
  double end;
  o->sleeper = thread_id();
  o->at = 0;
  CHECK_EQ(pthread_create(&t, NULL, act_once_asleep, o), 0);
  *rc = sleep_in(how, o->m);
  end = now_s();
  CHECK_EQ(pthread_join(t, NULL), 0);
  /* A sleep that ended before the act (a spurious return) says nothing. */
  return end > o->at ? (end - o->at) * 1000 : 0;
}

static void removes(enum sleeper how, int times)
{
  int i, late = 0, q, running;
  for(i = 0; i < times; i++) {
    struct other o;
    struct body b;
    CURLMcode rc;
    memset(&o, 0, sizeof(o));
    o.act = REMOVE;
    o.m = curl_multi_init();
    CHECK(o.m != NULL);
    o.e = unanswered(o.m, &b);
    late += race(how, &o, &rc) >= WITHIN_MS;
    MOK(rc);
    MOK(curl_multi_perform(o.m, &running));
    CHECK_EQ(running, 0);
    CHECK(curl_multi_info_read(o.m, &q) == NULL);
    curl_easy_cleanup(o.e);
    MOK(curl_multi_cleanup(o.m));
  }
  printf("%s: another thread removed the only transfer: woken within %.0f ms %d of %d times, "
         "nothing left running, no message\n", names[how], WITHIN_MS, times - late, times);
  CHECK_EQ(late, 0);
}

static void cleanups(int times)
{
  int i, late = 0, running;
  for(i = 0; i < times; i++) {
    struct other o;
    struct body b;
    CURLMcode rc;
    CURLM *again;
    memset(&o, 0, sizeof(o));
    o.act = CLEANUP;
    o.m = curl_multi_init();
    CHECK(o.m != NULL);
    o.e = unanswered(o.m, &b);
    late += race(POLL, &o, &rc) >= WITHIN_MS;
    CHECK(rc == CURLM_OK || rc == CURLM_BAD_HANDLE);
    CHECK_EQ(curl_multi_perform(o.m, &running), CURLM_BAD_HANDLE);
    CHECK_EQ(curl_multi_add_handle(o.m, o.e), CURLM_BAD_HANDLE);
    /* Detached, not freed: another multi takes it. */
    again = curl_multi_init();
    CHECK(again != NULL);
    MOK(curl_multi_add_handle(again, o.e));
    MOK(curl_multi_remove_handle(again, o.e));
    MOK(curl_multi_cleanup(again));
    curl_easy_cleanup(o.e);
  }
  printf("poll: another thread cleaned the multi up: woken within %.0f ms %d of %d times, "
         "then CURLM_BAD_HANDLE, the easy usable again\n", WITHIN_MS, times - late, times);
  CHECK_EQ(late, 0);
}

static void wakeups(int times)
{
  int i, late = 0;
  struct other o;
  struct body b;
  memset(&o, 0, sizeof(o));
  o.act = WAKEUP;
  o.m = curl_multi_init();
  CHECK(o.m != NULL);
  o.e = unanswered(o.m, &b);
  for(i = 0; i < times; i++) {
    CURLMcode rc;
    late += race(POLL, &o, &rc) >= WITHIN_MS;
    MOK(rc);
  }
  MOK(curl_multi_remove_handle(o.m, o.e));
  curl_easy_cleanup(o.e);
  MOK(curl_multi_cleanup(o.m));
  printf("poll: another thread's wakeup: woken within %.0f ms %d of %d times\n", WITHIN_MS, times - late, times);
  CHECK_EQ(late, 0);
}

/* Remove against a thread that performs without sleeping. */
#define RACERS 40
struct racer {
  struct body b; /* first: the write callback's data */
  int messages;
  int removed; /* an atomic flag, set before the remove: the driver reads it at a message */
  sem_t started;
};
static struct racer racers[RACERS];
static CURL *racer_easy[RACERS];
static CURLM *busy;

static size_t racer_write(char *data, size_t size, size_t n, void *userp)
{
  struct racer *x = userp;
  if(x->b.len == 0)
    sem_post(&x->started);
  return body_write(data, size, n, userp);
}

static void *remove_some(void *arg)
{
  int i;
  (void)arg;
  for(i = 0; i < RACERS; i += 2) {
    /* Mid-transfer: its body has started. */
    CHECK_EQ(sem_wait(&racers[i].started), 0);
    __atomic_store_n(&racers[i].removed, 1, __ATOMIC_RELEASE);
    MOK(curl_multi_remove_handle(busy, racer_easy[i]));
  }
  return NULL;
}

static void busy_removes(int times)
{
  int r, i, lost = 0, doubled = 0;
  for(r = 0; r < times; r++) {
    pthread_t t;
    int running = 1, n, q;
    CURLMsg *msg;
    busy = curl_multi_init();
    CHECK(busy != NULL);
    for(i = 0; i < RACERS; i++) {
      memset(&racers[i], 0, sizeof(racers[i]));
      ATOMIC_FLAG(racers[i].removed);
      CHECK_EQ(sem_init(&racers[i].started, 0, 0), 0);
      racer_easy[i] = new_transfer(&racers[i].b, "/trickle/20000/4/40");
      curl_easy_setopt(racer_easy[i], CURLOPT_WRITEFUNCTION, racer_write);
      curl_easy_setopt(racer_easy[i], CURLOPT_WRITEDATA, &racers[i]);
      curl_easy_setopt(racer_easy[i], CURLOPT_PRIVATE, &racers[i]);
      MOK(curl_multi_add_handle(busy, racer_easy[i]));
    }
    CHECK_EQ(pthread_create(&t, NULL, remove_some, NULL), 0);
    while(running) {
      MOK(curl_multi_perform(busy, &running));
      while((msg = curl_multi_info_read(busy, &q))) {
        struct racer *x;
        CHECK_EQ(curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x), CURLE_OK);
        x->messages++;
        if(!__atomic_load_n(&x->removed, __ATOMIC_ACQUIRE))
          CHECK_DONE(msg->easy_handle, msg->data.result);
      }
      MOK(curl_multi_wait(busy, NULL, 0, 100, &n));
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    while((msg = curl_multi_info_read(busy, &q))) {
      struct racer *x;
      CHECK_EQ(curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x), CURLE_OK);
      x->messages++;
    }
    for(i = 0; i < RACERS; i++) {
      doubled += racers[i].messages > 1;
      lost += !racers[i].removed && racers[i].messages != 1;
      MOK(curl_multi_remove_handle(busy, racer_easy[i]));
      curl_easy_cleanup(racer_easy[i]);
      sem_destroy(&racers[i].started);
    }
    MOK(curl_multi_cleanup(busy));
  }
  printf("perform without sleeping, another thread removing half: two messages for one transfer: %d, "
         "none for one not removed: %d\n", doubled, lost);
  CHECK_EQ(doubled, 0);
  CHECK_EQ(lost, 0);
}

/* The application's own event loop, and another thread feeding it. */
struct app {
  CURLM *m;
  pthread_t loop;
  int epfd, tfd, evfd;
  long strays, timer_calls, removes;
};
static struct app app;

static int app_timer(CURLM *m, long ms, void *userp)
{
  struct itimerspec its;
  (void)m;
  (void)userp;
  app.strays += !pthread_equal(app.loop, pthread_self());
  app.timer_calls++;
  memset(&its, 0, sizeof(its));
  if(ms > 0) {
    its.it_value.tv_sec = ms / 1000;
    its.it_value.tv_nsec = (ms % 1000) * 1000000;
  }
  else if(ms == 0)
    its.it_value.tv_nsec = 1;
  CHECK_EQ(timerfd_settime(app.tfd, 0, &its, NULL), 0);
  return 0;
}

static int app_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
  struct epoll_event event;
  (void)e;
  (void)userp;
  (void)socketp;
  app.strays += !pthread_equal(app.loop, pthread_self());
  if(what == CURL_POLL_REMOVE) {
    app.removes++;
    epoll_ctl(app.epfd, EPOLL_CTL_DEL, fd, NULL);
    return 0;
  }
  memset(&event, 0, sizeof(event));
  event.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
  event.data.fd = fd;
  if(epoll_ctl(app.epfd, EPOLL_CTL_MOD, fd, &event) != 0)
    CHECK_EQ(epoll_ctl(app.epfd, EPOLL_CTL_ADD, fd, &event), 0);
  return 0;
}

/* One turn of the application's loop: its timer, its eventfd (another
   thread asks it to look: it calls the multi for the relayed callbacks and
   the timeout), its sockets. */
static void app_turn(int *running)
{
  struct epoll_event events[16];
  int i, n = epoll_wait(app.epfd, events, 16, SLEEP_MS);
  CHECK(n >= 0 || errno == EINTR);
  for(i = 0; i < n; i++) {
    int fd = events[i].data.fd;
    if(fd == app.tfd || fd == app.evfd) {
      uint64_t count;
      if(read(fd, &count, sizeof(count)) < 0)
        CHECK(errno == EAGAIN);
      MOK(curl_multi_socket_action(app.m, CURL_SOCKET_TIMEOUT, 0, running));
    }
    else {
      int bits = (events[i].events & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) |
                 (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0);
      MOK(curl_multi_socket_action(app.m, fd, bits, running));
    }
  }
}

struct feed {
  CURL *add, *remove;
};

static void *feed_app(void *arg)
{
  struct feed *f = arg;
  uint64_t one = 1;
  MOK(curl_multi_add_handle(app.m, f->add));
  MOK(curl_multi_remove_handle(app.m, f->remove));
  CHECK_EQ(write(app.evfd, &one, sizeof(one)), (ssize_t)sizeof(one));
  return NULL;
}

static void app_fed(int times)
{
  int r, ok = 0, q;
  struct epoll_event event;
  memset(&app, 0, sizeof(app));
  app.loop = pthread_self();
  app.m = curl_multi_init();
  CHECK(app.m != NULL);
  app.epfd = epoll_create1(EPOLL_CLOEXEC);
  app.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  app.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  CHECK(app.epfd >= 0 && app.tfd >= 0 && app.evfd >= 0);
  memset(&event, 0, sizeof(event));
  event.events = EPOLLIN;
  event.data.fd = app.tfd;
  CHECK_EQ(epoll_ctl(app.epfd, EPOLL_CTL_ADD, app.tfd, &event), 0);
  event.data.fd = app.evfd;
  CHECK_EQ(epoll_ctl(app.epfd, EPOLL_CTL_ADD, app.evfd, &event), 0);
  MOK(curl_multi_setopt(app.m, CURLMOPT_SOCKETFUNCTION, app_socket));
  MOK(curl_multi_setopt(app.m, CURLMOPT_TIMERFUNCTION, app_timer));
  for(r = 0; r < times; r++) {
    struct body hb, b;
    struct feed f;
    CURLMsg *msg;
    pthread_t t;
    int running = 1;
    long removes_before, sent;
    /* A transfer in flight on this thread's loop, for the other to remove. */
    f.remove = new_transfer(&hb, "/hang");
    MOK(curl_multi_add_handle(app.m, f.remove));
    for(sent = 0; !sent;) {
      app_turn(&running);
      CHECK_EQ(curl_easy_getinfo(f.remove, CURLINFO_REQUEST_SIZE, &sent), CURLE_OK);
    }
    removes_before = app.removes;
    f.add = new_transfer(&b, "/bytes/%d", 100 + r);
    CHECK_EQ(pthread_create(&t, NULL, feed_app, &f), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    while(!(msg = curl_multi_info_read(app.m, &q)))
      app_turn(&running);
    CHECK(msg->easy_handle == f.add);
    CHECK_DONE(f.add, msg->data.result);
    ok += b.len == (size_t)(100 + r) && !b.mismatch && app.removes > removes_before;
    MOK(curl_multi_remove_handle(app.m, f.add));
    curl_easy_cleanup(f.add);
    curl_easy_cleanup(f.remove);
  }
  MOK(curl_multi_cleanup(app.m));
  close(app.epfd);
  close(app.tfd);
  close(app.evfd);
  printf("own event loop, another thread adding and removing: %d of %d transfers whole with the removal seen, "
         "callbacks on another thread: %ld\n", ok, times, app.strays);
  CHECK_EQ(ok, times);
  CHECK_EQ(app.strays, 0);
}

/* Pausing and unpausing beside another thread's adds: each time an unpause
   flushes what waited into the write callback (inside curl_easy_pause, on
   the driving thread), the callback has another thread add a transfer and
   waits until that add has returned. */
#define PAUSERS 20
struct pauser {
  struct body b; /* first: the write callback's data */
  int paused, resumed;
};
static struct pauser pausers[PAUSERS], extras[PAUSERS];
static CURLM *pausing;
static sem_t add_now, added_now;
static int extra_adds, in_unpause;

static size_t pause_once(char *data, size_t size, size_t n, void *userp)
{
  struct pauser *x = userp;
  /* The first chunk, however much of the body it holds: it waits, and the
     unpause hands it to this callback again. */
  if(!x->paused) {
    x->paused = 1;
    return CURL_WRITEFUNC_PAUSE;
  }
  if(in_unpause && extra_adds < PAUSERS) {
    in_unpause = 0; /* once per unpause */
    CHECK_EQ(sem_post(&add_now), 0);
    CHECK_EQ(sem_wait(&added_now), 0);
  }
  return body_write(data, size, n, userp);
}

static void *add_on_demand(void *arg)
{
  (void)arg;
  for(;;) {
    CURL *e;
    CHECK_EQ(sem_wait(&add_now), 0);
    if(extra_adds == PAUSERS)
      return NULL;
    e = new_transfer(&extras[extra_adds].b, "/bytes/100");
    curl_easy_setopt(e, CURLOPT_PRIVATE, &extras[extra_adds]);
    MOK(curl_multi_add_handle(pausing, e));
    extra_adds++;
    CHECK_EQ(sem_post(&added_now), 0);
  }
}

static void pauses_beside_adds(void)
{
  pthread_t t;
  int done = 0, i, n, q, running, made;
  CHECK_EQ(sem_init(&add_now, 0, 0), 0);
  CHECK_EQ(sem_init(&added_now, 0, 0), 0);
  pausing = curl_multi_init();
  CHECK(pausing != NULL);
  CHECK_EQ(pthread_create(&t, NULL, add_on_demand, NULL), 0);
  for(i = 0; i < PAUSERS; i++) {
    CURL *e = new_transfer(&pausers[i].b, "/trickle/8000/4/20");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, pause_once);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &pausers[i]);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &pausers[i]);
    MOK(curl_multi_add_handle(pausing, e));
  }
  while(done < PAUSERS + extra_adds) {
    CURLMsg *msg;
    MOK(curl_multi_poll(pausing, NULL, 0, 100, &n));
    MOK(curl_multi_perform(pausing, &running));
    while((msg = curl_multi_info_read(pausing, &q))) {
      struct pauser *x;
      CHECK_DONE(msg->easy_handle, msg->data.result);
      CHECK_EQ(curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x), CURLE_OK);
      CHECK_EQ(x->b.len, x >= extras && x < extras + PAUSERS ? 100 : 8000);
      CHECK(!x->b.mismatch);
      MOK(curl_multi_remove_handle(pausing, msg->easy_handle));
      curl_easy_cleanup(msg->easy_handle);
      done++;
    }
    /* Unpause, between calls, every transfer its callback paused. */
    for(i = 0; i < PAUSERS; i++) {
      if(pausers[i].paused && !pausers[i].resumed) {
        CURL **all, **e;
        typedef CURL **(*get_handles_fn)(CURLM *);
        pausers[i].resumed = 1;
        all = ((get_handles_fn)newer_symbol("curl_multi_get_handles"))(pausing);
        CHECK(all != NULL);
        for(e = all; *e; e++) {
          struct pauser *x;
          CHECK_EQ(curl_easy_getinfo(*e, CURLINFO_PRIVATE, (char **)&x), CURLE_OK);
          if(x == &pausers[i]) {
            in_unpause = 1;
            CHECK_EQ(curl_easy_pause(*e, CURLPAUSE_CONT), CURLE_OK);
            in_unpause = 0;
          }
        }
        curl_free(all);
      }
    }
  }
  made = extra_adds;
  extra_adds = PAUSERS; /* ends the helper */
  CHECK_EQ(sem_post(&add_now), 0);
  CHECK_EQ(pthread_join(t, NULL), 0);
  MOK(curl_multi_cleanup(pausing));
  sem_destroy(&add_now);
  sem_destroy(&added_now);
  fprintf(stderr, "pausing: %d adds made inside unpauses\n", made);
  CHECK(made > 0);
  printf("paused and unpaused by the driving thread, another adding inside each unpause: every transfer whole\n");
}

int main(void)
{
  enum sleeper how;
  if(!curlmux_symbol("curlmux_version")) {
    printf("stock libcurl: another thread's calls while one sleeps in the multi are undefined\n");
    return 0;
  }
  harness_init();
  for(how = POLL; how <= SELECT_FD; how++)
    removes(how, rounds(100));
  cleanups(rounds(100));
  wakeups(rounds(100));
  busy_removes(rounds(10));
  app_fed(rounds(50));
  pauses_beside_adds();
  return 0;
}
