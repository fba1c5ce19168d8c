/* curl_multi_poll woken by curl_multi_wakeup from another thread; wakeups
   collapse and stay pending until a poll takes them; wait takes them only
   from libcurl 8.20 on, and only when it has something to wait on. */
#include "threads.h"

#define N 20
static struct body bodies[N];
static int stop; /* an atomic flag: set once, then the thread is joined */

static pid_t poller;

/* Wakes m once the polling thread sleeps in the kernel. */
static void *wake_later(void *m)
{
  wait_until_asleep(poller);
  MOK(curl_multi_wakeup(m));
  return NULL;
}

static void *wake_often(void *m)
{
  while(!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    MOK(curl_multi_wakeup(m));
    usleep(5 * 1000);
  }
  return NULL;
}

int main(void)
{
  CURL *easy[N], *hang;
  struct body hang_body;
  CURLM *m;
  pthread_t t;
  int i, numfds = -1, running = 0, takes, pipefd[2];
  struct curl_waitfd never;
  double t0;

  harness_init();
  ATOMIC_FLAG(stop);
  if(!HAVE_NEWER)
    return 0; /* stock libcurl before 7.68: nothing to test */
  m = curl_multi_init();
  CHECK(m != NULL);
  CHECK_EQ(curl_multi_poll(m, NULL, 0, -1, &numfds), CURLM_BAD_FUNCTION_ARGUMENT);

  /* Empty multi: poll sleeps until the other thread wakes it (or its 20 s:
     10 s tells the two apart with room for valgrind on a loaded machine). */
  poller = thread_id();
  t0 = now_s();
  CHECK_EQ(pthread_create(&t, NULL, wake_later, m), 0);
  MOK(curl_multi_poll(m, NULL, 0, 20000, &numfds));
  CHECK(now_s() - t0 < 10.0);
  CHECK_EQ(numfds, 0);
  pthread_join(t, NULL);

  /* Empty multi, no wakeup: sleeps the timeout (at least; a slow machine
     only sleeps longer). */
  t0 = now_s();
  MOK(curl_multi_poll(m, NULL, 0, 100, &numfds));
  CHECK(now_s() - t0 >= 0.09);

  /* Two wakeups collapse into one; wait does not consume it. */
  MOK(curl_multi_wakeup(m));
  MOK(curl_multi_wakeup(m));
  MOK(curl_multi_wait(m, NULL, 0, 100, &numfds));
  t0 = now_s();
  MOK(curl_multi_poll(m, NULL, 0, 20000, &numfds));
  CHECK(now_s() - t0 < 10.0);
  t0 = now_s();
  MOK(curl_multi_poll(m, NULL, 0, 100, &numfds));
  CHECK(now_s() - t0 >= 0.09);

  /* From 8.20 libcurl's wait listens for wakeups whenever it waits on
     anything and takes them (curl 9bc8b078eb, dc9a03e855), though its
     documentation still says wakeups do not touch it. Before, it sleeps and
     leaves the wakeup to the next poll. First with a descriptor of the
     caller's that never gets ready, on a multi without transfers. */
  takes = libcurl_wait_takes_wakeups();
  CHECK_EQ(pipe(pipefd), 0);
  never.fd = pipefd[0];
  never.events = CURL_WAIT_POLLIN;
  /* Returned at once, or slept its whole second (never less): half of it
     tells the two apart whatever the machine's speed. */
  MOK(curl_multi_wakeup(m));
  t0 = now_s();
  MOK(curl_multi_wait(m, &never, 1, 1000, &numfds));
  CHECK_EQ(now_s() - t0 < 0.5, takes);
  CHECK_EQ(numfds, 0);
  t0 = now_s();
  MOK(curl_multi_poll(m, NULL, 0, 1000, &numfds));
  CHECK_EQ(now_s() - t0 < 0.5, !takes);
  /* Then with a transfer waiting on the server: from 8.20 the wait
     returns at once; before, the poll after it does. */
  hang = add_unanswered(m, &hang_body);
  MOK(curl_multi_wakeup(m));
  t0 = now_s();
  MOK(curl_multi_wait(m, NULL, 0, 2000, &numfds));
  if(takes)
    CHECK(now_s() - t0 < 1.0);
  t0 = now_s();
  MOK(curl_multi_poll(m, NULL, 0, 2000, &numfds));
  if(!takes)
    CHECK(now_s() - t0 < 1.0);
  MOK(curl_multi_remove_handle(m, hang));
  curl_easy_cleanup(hang);
  close(pipefd[0]);
  close(pipefd[1]);
  NEWER_PRINTF("a wait with a wakeup pending: %s\n", takes ? "returned, the wakeup taken" : "slept, the wakeup left");

  /* A poll loop that is woken all the time still finishes its transfers. */
  for(i = 0; i < N; i++) {
    easy[i] = new_transfer(&bodies[i], "/trickle/%d/5/250", 2000 + 777 * i);
    MOK(curl_multi_add_handle(m, easy[i]));
  }
  CHECK_EQ(pthread_create(&t, NULL, wake_often, m), 0);
  MOK(curl_multi_perform(m, &running));
  while(running) {
    MOK(curl_multi_poll(m, NULL, 0, 1000, &numfds));
    MOK(curl_multi_perform(m, &running));
    drain_messages(m, expect_ok);
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  pthread_join(t, NULL);
  drain_messages(m, expect_ok);
  for(i = 0; i < N; i++) {
    CHECK_EQ(bodies[i].len, (size_t)(2000 + 777 * i));
    MOK(curl_multi_remove_handle(m, easy[i]));
    curl_easy_cleanup(easy[i]);
  }
  MOK(curl_multi_cleanup(m));
  NEWER_PRINTF("woken polls returned; transfers %d, ok %d\n", N, harness_ok);
  CHECK_EQ(harness_ok, N);
  return 0;
}
