/* stock: skip (a multi fed by other threads while one drives it: libcurl 7.88 races, 8.22 and later answer CURLM_RECURSIVE_API_CALL)
   Any thread may feed a multi that another thread drives. In each loop the
   main thread drives (fdset + select, curl_multi_wait, curl_multi_poll,
   curlmux_select), sleeping up to 10 s a turn, with an unanswered transfer
   attached throughout so that every wait has a socket to sleep on:
   - woken: a helper thread waits until the main thread sleeps in the
     kernel, then adds a transfer; the sleep must end within 500 ms, not at
     its 10 s (nor at a timer of libcurl's);
   - fed: four producer threads add 2,500 transfers (at most 200 in
     flight), two of them while holding an application mutex that the
     driving thread's write callback takes too (an add must not wait for the
     driving thread); every transfer ends in exactly one message, its body
     whole, and no turn sleeps its whole 10 s while work is due (a stall). */
#include "threads.h"

#define PRODUCERS 4
#define PER_LOOP 2500
#define IN_FLIGHT 200
#define SLEEP_MS 10000L
#define WAKES 50
/* A kick wakes a sleeper in well under a millisecond here; 500 ms leaves
   room for valgrind on a loaded 2-core machine, and is still shorter than
   any timer that would end the sleep without it (7.88's once-a-second
   sweep, the 10 s cap). */
#define WOKEN_WITHIN_MS 500

enum loop { SELECT, WAIT, POLL, CURLMUX };
static const char *const names[] = {"select", "wait", "poll", "curlmux_select"};

typedef CURLMcode (*select_fn)(CURLM *, long, int *);

struct slot {
  struct body body; /* first: the harness's write callback writes here */
  size_t want;
  int seen;
};

static CURLM *m;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t room = PTHREAD_COND_INITIALIZER;
/* Under mu. */
static long added, completed, next_slot, total, written;
static int producers_done;
static struct slot *slots;

static size_t write_under_mu(char *data, size_t size, size_t n, void *userp)
{
  pthread_mutex_lock(&mu);
  written += (long)(size * n);
  pthread_mutex_unlock(&mu);
  return body_write(data, size, n, userp);
}

static CURL *transfer(struct slot *s)
{
  CURL *e = new_transfer(&s->body, "/bytes/%zu", s->want);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_under_mu);
  curl_easy_setopt(e, CURLOPT_PRIVATE, s);
  return e;
}

static void *produce(void *arg)
{
  /* Not under helgrind: it reads the add's try-lock of the multi, taken
     under mu, as a lock-order inversion against the write callback's mu,
     though a try-lock cannot wait (helgrind checks data races here). */
  int under_mu = (int)(long)arg % 2 && !under_helgrind();
  for(;;) {
    struct slot *s;
    CURL *e;
    pthread_mutex_lock(&mu);
    while(next_slot < total && added - completed >= IN_FLIGHT)
      pthread_cond_wait(&room, &mu);
    if(next_slot >= total) {
      producers_done++;
      pthread_mutex_unlock(&mu);
      return NULL;
    }
    s = &slots[next_slot++];
    added++;
    if(!under_mu)
      pthread_mutex_unlock(&mu);
    s->want = 1 + (size_t)(s - slots) % 3000;
    e = transfer(s);
    MOK(curl_multi_add_handle(m, e));
    if(under_mu)
      pthread_mutex_unlock(&mu);
  }
}

/* One turn of the loop: sleep at most SLEEP_MS, then perform; the ms slept. */
static double turn(enum loop l)
{
  int running, n;
  double start = now_s(), slept;
  if(l == SELECT) {
    fd_set r, w, x;
    int maxfd = -1;
    long t = -1;
    struct timeval tv;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    MOK(curl_multi_fdset(m, &r, &w, &x, &maxfd));
    CHECK(maxfd >= 0); /* the unanswered transfer's socket, or what stands for it */
    MOK(curl_multi_timeout(m, &t));
    if(t < 0 || t > SLEEP_MS)
      t = SLEEP_MS;
    tv.tv_sec = t / 1000;
    tv.tv_usec = (t % 1000) * 1000;
    CHECK(select(maxfd + 1, &r, &w, &x, &tv) >= 0 || errno == EINTR);
  }
  else if(l == WAIT)
    MOK(curl_multi_wait(m, NULL, 0, (int)SLEEP_MS, &n));
  else if(l == POLL)
    MOK(curl_multi_poll(m, NULL, 0, (int)SLEEP_MS, &n));
  else
    MOK(((select_fn)curlmux_symbol("curlmux_select"))(m, SLEEP_MS, &n));
  slept = (now_s() - start) * 1000;
  MOK(curl_multi_perform(m, &running));
  return slept;
}

/* Reads every message: one per transfer, each whole; removes and frees. */
static int reap(void)
{
  CURLMsg *msg;
  int q, n = 0;
  while((msg = curl_multi_info_read(m, &q))) {
    CURL *e = msg->easy_handle;
    struct slot *s;
    CHECK_EQ(msg->msg, CURLMSG_DONE);
    CHECK_DONE(e, msg->data.result);
    CHECK_EQ(curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s), CURLE_OK);
    CHECK_EQ(s->seen, 0);
    s->seen = 1;
    CHECK_EQ(s->body.len, s->want);
    CHECK(!s->body.mismatch);
    MOK(curl_multi_remove_handle(m, e));
    curl_easy_cleanup(e);
    pthread_mutex_lock(&mu);
    completed++;
    pthread_cond_broadcast(&room);
    pthread_mutex_unlock(&mu);
    n++;
  }
  return n;
}

struct waker {
  pid_t driver;
  struct slot slot;
  double added_at; /* under mu: when the add was made, 0 before */
};

static void *add_once_asleep(void *arg)
{
  struct waker *w = arg;
  CURL *e = transfer(&w->slot);
  double at;
  wait_until_asleep(w->driver);
  at = now_s();
  MOK(curl_multi_add_handle(m, e));
  pthread_mutex_lock(&mu);
  w->added_at = at;
  pthread_mutex_unlock(&mu);
  return NULL;
}

/* The driver asleep, another thread adds: the sleep ends at once. */
static void woken(enum loop l, int times)
{
  int i, slow = 0;
  double worst = 0;
  for(i = 0; i < times; i++) {
    struct waker w;
    pthread_t t;
    double late = -1;
    memset(&w, 0, sizeof(w));
    w.driver = thread_id();
    w.slot.want = 10;
    CHECK_EQ(pthread_create(&t, NULL, add_once_asleep, &w), 0);
    /* How long the turn that saw the add went on after it. */
    while(!w.slot.seen) {
      double at;
      turn(l);
      pthread_mutex_lock(&mu);
      at = w.added_at;
      pthread_mutex_unlock(&mu);
      if(at > 0 && late < 0)
        late = (now_s() - at) * 1000;
      reap();
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    slow += late >= WOKEN_WITHIN_MS;
    worst = late > worst ? late : worst;
  }
  fprintf(stderr, "%s: the slowest wake after another thread's add: %.1f ms\n", names[l], worst);
  printf("%s: asleep when another thread added, woken at once: %d of %d\n", names[l], times - slow, times);
  CHECK_EQ(slow, 0);
}

static void fed(enum loop l, int n)
{
  pthread_t p[PRODUCERS];
  long i;
  int stalls = 0, once = 0;
  slots = calloc((size_t)n, sizeof(*slots));
  CHECK(slots != NULL);
  pthread_mutex_lock(&mu);
  total = n;
  added = completed = next_slot = written = 0;
  producers_done = 0;
  pthread_mutex_unlock(&mu);
  for(i = 0; i < PRODUCERS; i++)
    CHECK_EQ(pthread_create(&p[i], NULL, produce, (void *)i), 0);
  for(;;) {
    int done;
    double ms = turn(l);
    reap();
    pthread_mutex_lock(&mu);
    done = producers_done == PRODUCERS && completed == total;
    pthread_mutex_unlock(&mu);
    if(done)
      break;
    stalls += ms >= SLEEP_MS;
  }
  for(i = 0; i < PRODUCERS; i++)
    CHECK_EQ(pthread_join(p[i], NULL), 0);
  for(i = 0; i < n; i++)
    once += slots[i].seen == 1;
  if(stalls)
    fprintf(stderr, "%s: %d turns slept %ld ms with work due\n", names[l], stalls, SLEEP_MS);
  printf("%s: %d transfers added by %d threads, one message each: %s, stalls: %d\n", names[l], n, PRODUCERS,
         once == n ? "yes" : "no", stalls);
  CHECK_EQ(once, n);
  CHECK_EQ(stalls, 0);
  free(slots);
}

/* Attached all along, never answered and never timed out: every wait has
   a socket to sleep on. */
static CURL *unanswered(struct body *b)
{
  int i, running = 0, n;
  CURL *e = new_transfer(b, "/hang");
  curl_easy_setopt(e, CURLOPT_TIMEOUT, 0L);
  MOK(curl_multi_add_handle(m, e));
  for(i = 0; i < 5; i++) {
    MOK(curl_multi_perform(m, &running));
    MOK(curl_multi_wait(m, NULL, 0, 20, &n));
  }
  CHECK_EQ(running, 1);
  return e;
}

int main(void)
{
  enum loop l;
  if(!curlmux_symbol("curlmux_version")) {
    printf("stock libcurl: one multi fed from several threads is undefined\n");
    return 0;
  }
  harness_init();
  for(l = SELECT; l <= CURLMUX; l++) {
    struct body hb;
    CURL *hang;
    int q;
    if(l == POLL && !HAVE_NEWER)
      continue;
    m = curl_multi_init();
    CHECK(m != NULL);
    hang = unanswered(&hb);
    woken(l, rounds(WAKES));
    fed(l, rounds(PER_LOOP));
    CHECK(curl_multi_info_read(m, &q) == NULL);
    MOK(curl_multi_remove_handle(m, hang));
    curl_easy_cleanup(hang);
    MOK(curl_multi_cleanup(m));
  }
  return 0;
}
