/* stock: must-fail (curlmux_select is curlmux's own function)
   The seed's second loop: perform, then curlmux_select(timeout) as pycurl's
   m.select(1.0), where -1 means "timed out, select again". */
#include "interrupt.h"

#define N 20
typedef CURLMcode (*select_fn)(CURLM *, long, int *);
static struct body bodies[N], hang_body;
static int timed_out;

static void expect_timeout(CURL *e, CURLcode rc)
{
  (void)e;
  CHECK_EQ(rc, CURLE_OPERATION_TIMEDOUT);
  timed_out++;
}

/* The seed's loop with a signal every 200 us (no SA_RESTART): each
   interrupted select returns CURLM_OK early, and every transfer finishes. */
static int interrupted(select_fn sel)
{
  CURL *easy[N];
  CURLM *m = curl_multi_init();
  int i, ready, running = 1, ok = 0;
  for(i = 0; i < N; i++) {
    easy[i] = new_transfer(&bodies[i], "/trickle/%d/4/200", 1000 * i);
    MOK(curl_multi_add_handle(m, easy[i]));
  }
  interrupt_start();
  MOK(curl_multi_perform(m, &running));
  while(running) {
    MOK(sel(m, 1000, &ready));
    MOK(curl_multi_perform(m, &running));
  }
  CHECK(interrupt_stop() > 100);
  for(i = 0; i < N; i++) {
    ok += bodies[i].len == (size_t)1000 * i && !bodies[i].mismatch;
    curl_multi_remove_handle(m, easy[i]);
    curl_easy_cleanup(easy[i]);
  }
  MOK(curl_multi_cleanup(m));
  return ok;
}

int main(void)
{
  select_fn sel;
  CURL *easy[N];
  CURLM *m;
  int i, ready = 0, running = 0, timeouts = 0;
  double t0;

  harness_init();
  sel = (select_fn)curlmux_symbol("curlmux_select");
  if(!sel) {
    fprintf(stderr, "curlmux_select is not available\n");
    return 1;
  }
  m = curl_multi_init();
  CHECK(m != NULL);

  /* Nothing attached: sleeps the whole timeout and says -1. */
  t0 = now_s();
  MOK(sel(m, 100, &ready));
  CHECK_EQ(ready, -1);
  CHECK(now_s() - t0 >= 0.09);
  CHECK_EQ(sel(m, -1, &ready), CURLM_BAD_FUNCTION_ARGUMENT);
  CHECK_EQ(sel(NULL, 10, &ready), CURLM_BAD_HANDLE);

  for(i = 0; i < N; i++) {
    easy[i] = new_transfer(&bodies[i], i % 2 ? "/delay/100/%d" : "/trickle/%d/4/200", 1000 * i);
    MOK(curl_multi_add_handle(m, easy[i]));
  }
  /* A fresh transfer is due at once: a timer, not a socket, says so. */
  MOK(sel(m, 5000, &ready));
  CHECK_EQ(ready, 0);

  MOK(curl_multi_perform(m, &running));
  while(running) {
    MOK(sel(m, 1000, &ready));
    if(ready == -1) {
      timeouts++;
      continue;
    }
    MOK(curl_multi_perform(m, &running));
    drain_messages(m, expect_ok);
  }
  drain_messages(m, expect_ok);
  for(i = 0; i < N; i++) {
    CHECK_EQ(bodies[i].len, (size_t)1000 * i);
    curl_multi_remove_handle(m, easy[i]);
    curl_easy_cleanup(easy[i]);
  }
  MOK(curl_multi_cleanup(m));
  printf("transfers %d, ok %d, select timeouts %d\n", N, harness_ok, timeouts);
  CHECK_EQ(harness_ok, N);
  CHECK_EQ(timeouts, 0);

  /* A transfer that waits only for libcurl's own timer (its TIMEOUT_MS; the
     server never answers): select ends when that timer is due and says 0
     ("call perform"), never -1 (its 5 s did not pass). */
  m = curl_multi_init();
  CHECK(m != NULL);
  easy[0] = new_transfer(&hang_body, "/hang");
  curl_easy_setopt(easy[0], CURLOPT_TIMEOUT_MS, 300L);
  MOK(curl_multi_add_handle(m, easy[0]));
  t0 = now_s();
  MOK(curl_multi_perform(m, &running));
  while(running) {
    MOK(sel(m, 5000, &ready));
    CHECK(ready >= 0);
    MOK(curl_multi_perform(m, &running));
  }
  /* At the 300 ms timeout (never before it), not the select's 5 s: 4 s
     leaves room for valgrind on a loaded 2-core machine. */
  CHECK(now_s() - t0 >= 0.29 && now_s() - t0 < 4.0);
  CHECK_EQ(drain_messages(m, expect_timeout), 1);
  CHECK_EQ(timed_out, 1);
  MOK(curl_multi_remove_handle(m, easy[0]));
  curl_easy_cleanup(easy[0]);
  MOK(curl_multi_cleanup(m));
  printf("a timer-only wait: select said 0 when it came due\n");
  printf("interrupted every 200 us: %d of %d transfers complete\n", interrupted(sel), N);
  return 0;
}
