/* A curl_multi_wait loop with one extra descriptor of the caller's own, and
   slow (trickled) transfers that must not make the loop spin: a wait that
   keeps returning with nothing to do shows up as iterations. */
#include "harness.h"

#define N 25
static struct body bodies[N];

int main(void)
{
  CURL *easy[N];
  CURLM *m;
  struct curl_waitfd extra;
  int i, numfds = -1, running = 0, pipefd[2], extra_seen = 0, slow_iterations = 0;
  double t0;

  harness_init();
  m = curl_multi_init();
  CHECK(m != NULL);

  /* Refused since 7.69; 7.61 waits without a limit (here: nothing to wait on). */
  printf("negative timeout: %d\n", curl_multi_wait(m, NULL, 0, -1, &numfds));
  /* Nothing to wait on: returns at once. */
  t0 = now_s();
  MOK(curl_multi_wait(m, NULL, 0, 5000, &numfds));
  CHECK_EQ(numfds, 0);
  CHECK(now_s() - t0 < 2.5); /* at once, not its 5 s (room for valgrind under load) */

  /* Only the caller's descriptor: its revents are filled in. */
  CHECK_EQ(pipe(pipefd), 0);
  CHECK_EQ(write(pipefd[1], "x", 1), 1);
  extra.fd = pipefd[0];
  extra.events = CURL_WAIT_POLLIN;
  extra.revents = 0;
  MOK(curl_multi_wait(m, &extra, 1, 5000, &numfds));
  CHECK_EQ(numfds, 1);
  CHECK_EQ(extra.revents, CURL_WAIT_POLLIN);

  for(i = 0; i < N; i++) {
    easy[i] = new_transfer(&bodies[i], "/trickle/%d/3/1500", 3000 * (i + 1));
    MOK(curl_multi_add_handle(m, easy[i]));
  }
  MOK(curl_multi_perform(m, &running));
  /* Some still run: curlmux's perform goes on while it finds work (README),
     and under valgrind that took over 300 ms on 7.61 and, in CI, finished
     every 150 ms trickle on 7.88: the trickles last 1.5 s. */
  CHECK(running > 0 && running <= N);
  while(running) {
    extra.revents = 0;
    MOK(curl_multi_wait(m, &extra, 1, 1000, &numfds));
    CHECK(numfds >= 1); /* the pipe stays readable */
    extra_seen += extra.revents == CURL_WAIT_POLLIN;
    MOK(curl_multi_perform(m, &running));
    drain_messages(m, expect_ok);
  }
  drain_messages(m, expect_ok);

  /* Trickled bodies without the extra fd: each transfer gets 4 chunks over
     0.6 s, so a loop that only wakes for work turns a few times per chunk. */
  for(i = 0; i < N; i++) {
    MOK(curl_multi_remove_handle(m, easy[i]));
    curl_easy_cleanup(easy[i]);
    easy[i] = new_transfer(&bodies[i], "/trickle/%d/4/600", 3000 * (i + 1));
    MOK(curl_multi_add_handle(m, easy[i]));
  }
  MOK(curl_multi_perform(m, &running));
  while(running) {
    slow_iterations++;
    MOK(curl_multi_wait(m, NULL, 0, 1000, &numfds));
    MOK(curl_multi_perform(m, &running));
    drain_messages(m, expect_ok);
  }
  CHECK(slow_iterations < 20 * 4 * N);
  for(i = 0; i < N; i++) {
    CHECK_EQ(bodies[i].len, (size_t)3000 * (i + 1));
    MOK(curl_multi_remove_handle(m, easy[i]));
    curl_easy_cleanup(easy[i]);
  }
  MOK(curl_multi_cleanup(m));
  close(pipefd[0]);
  close(pipefd[1]);
  printf("transfers %d, ok %d, extra fd always reported %d\n", 2 * N, harness_ok, extra_seen > 0);
  CHECK_EQ(harness_ok, 2 * N);
  return 0;
}
