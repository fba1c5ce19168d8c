/* A timer due within a millisecond of another one of the same transfer.
   libcurl before 8.4 (curl 579f09343d) counts a transfer's timers in whole
   milliseconds when it runs one: a second timer due less than 1 ms later is
   dropped as passed, while the transfer itself still has time left. A
   transfer whose CURLOPT_TIMEOUT_MS timer goes that way, on a server that
   never answers, has nothing left to wake it: libcurl's perform still ends
   it (it checks every transfer at every call), an event-driven loop never
   does. Here every transfer is run (paused and resumed: a "run now" timer)
   at a spread of instants just before its timeout, in perform loops, which
   must end every transfer with its timeout on every libcurl. How many
   timeouts came late (dropped, then caught) goes to stderr. */
#include "harness.h"

enum loop { LOOP_SELECT, LOOP_WAIT, LOOP_POLL };
static const char *const loop_names[] = {"select", "wait", "poll"};

#define N 40
#define TIMEOUT_MS 100
#define STAGGER_S 0.007
#define GUARD_S 20.0

struct xfer {
  CURL *e;
  struct body b;
  double due;  /* when its timeout falls, at the latest */
  double poke; /* when it is paused and resumed */
  double ended;
  int messages;
  CURLcode rc;
};

static struct xfer xs[N];

static void spin_until(double t)
{
  while(now_s() < t)
    ;
}

static void on_done(CURL *e, CURLcode rc)
{
  int i;
  for(i = 0; i < N && xs[i].e != e; i++)
    ;
  CHECK(i < N);
  if(!xs[i].messages++) {
    xs[i].rc = rc;
    xs[i].ended = now_s();
  }
}

static int finished(void)
{
  int i, n = 0;
  for(i = 0; i < N; i++)
    n += xs[i].messages > 0;
  return n;
}

static void one_step(CURLM *m, enum loop l, long cap_ms)
{
  int running, numfds;
  if(l == LOOP_SELECT) {
    fd_set r, w, x;
    int maxfd = -1;
    long t = -1;
    struct timeval tv;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    MOK(curl_multi_fdset(m, &r, &w, &x, &maxfd));
    MOK(curl_multi_timeout(m, &t));
    if(t < 0 || t > cap_ms)
      t = cap_ms;
    tv.tv_sec = t / 1000;
    tv.tv_usec = (t % 1000) * 1000;
    CHECK(select(maxfd + 1, &r, &w, &x, &tv) >= 0 || errno == EINTR);
  }
  else if(l == LOOP_WAIT)
    MOK(curl_multi_wait(m, NULL, 0, (int)cap_ms, &numfds));
  else
    MOK(curl_multi_poll(m, NULL, 0, (int)cap_ms, &numfds));
  MOK(curl_multi_perform(m, &running));
  drain_messages(m, on_done);
}

static void run(enum loop l)
{
  CURLM *m = curl_multi_init();
  double t0, began;
  int i, added = 0, poked = 0, late = 0;
  double latest = 0;
  char hang[600];
  CHECK(m != NULL);
  memset(xs, 0, sizeof(xs));
  /* A connection each to reuse, as busy programs do: a new one would bring
     a happy-eyeballs timer (200 ms) that runs the transfer again. */
  for(i = 0; i < N; i++) {
    xs[i].e = new_transfer(&xs[i].b, "/bytes/100");
    MOK(curl_multi_add_handle(m, xs[i].e));
  }
  began = now_s();
  while(finished() < N && now_s() - began < GUARD_S)
    one_step(m, l, 100);
  snprintf(hang, sizeof(hang), "%s/hang", test_url());
  for(i = 0; i < N; i++) {
    CHECK_EQ(xs[i].rc, CURLE_OK);
    MOK(curl_multi_remove_handle(m, xs[i].e));
    curl_easy_setopt(xs[i].e, CURLOPT_URL, hang);
    curl_easy_setopt(xs[i].e, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
    xs[i].messages = 0;
  }
  t0 = now_s();
  /* Adds (one every STAGGER_S) and pokes in time order; performs between. */
  while(poked < N) {
    double next_add = added < N ? t0 + added * STAGGER_S : 1e300;
    if(next_add <= xs[poked].poke || poked >= added) {
      struct xfer *x = &xs[added];
      spin_until(next_add);
      MOK(curl_multi_add_handle(m, x->e));
      MOK(curl_multi_perform(m, &i));
      x->due = now_s() + TIMEOUT_MS / 1000.0;
      /* from 2 ms to 0.05 ms before, in even steps */
      x->poke = x->due - 0.002 + added * (0.00195 / (N - 1));
      added++;
    }
    else {
      struct xfer *x = &xs[poked++];
      spin_until(x->poke);
      if(!x->messages) {
        curl_easy_pause(x->e, CURLPAUSE_RECV);
        curl_easy_pause(x->e, CURLPAUSE_CONT);
      }
      MOK(curl_multi_perform(m, &i));
    }
    drain_messages(m, on_done);
  }
  began = now_s();
  while(finished() < N && now_s() - began < GUARD_S)
    one_step(m, l, 100);
  for(i = 0; i < N; i++) {
    if(!xs[i].messages)
      fprintf(stderr, "%s: transfer %d (poked %.2f ms before its timeout) never ended\n", loop_names[l], i,
              (xs[i].due - xs[i].poke) * 1000);
    else
    {
      late += xs[i].ended - xs[i].due > 0.03;
      if(xs[i].ended - xs[i].due > latest)
        latest = xs[i].ended - xs[i].due;
    }
    CHECK_EQ(xs[i].messages, 1);
    CHECK_EQ(xs[i].rc, CURLE_OPERATION_TIMEDOUT);
    MOK(curl_multi_remove_handle(m, xs[i].e));
    curl_easy_cleanup(xs[i].e);
  }
  fprintf(stderr, "%s: %d of %d timeouts came more than 30 ms late (a dropped timer, caught later), the latest %.0f ms\n",
          loop_names[l], late, N, latest * 1000);
  if(l == LOOP_POLL)
    printf("newer: ");
  printf("%s: %d transfers poked just before their timeout, each ended once, timed out\n", loop_names[l], N);
  MOK(curl_multi_cleanup(m));
}

int main(void)
{
  enum loop l;
  harness_init();
  for(l = LOOP_SELECT; l <= LOOP_POLL; l++)
    if(l != LOOP_POLL || HAVE_NEWER)
      run(l);
  return 0;
}
