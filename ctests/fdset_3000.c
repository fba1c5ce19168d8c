/* stock: must-fail (libcurl 7.88's fdset skips sockets >= FD_SETSIZE)
   3,000 concurrent transfers in a classic fdset + select loop that honours
   curl_multi_timeout, capped at CAP_MS as loops do (the seed uses 1 s).
   Most sockets are past FD_SETSIZE. Responses are staggered (transfer i
   answers after 300 + i/2 ms), so some socket has news at least every few
   milliseconds until all are done: a select that sleeps the whole cap and
   sees nothing while transfers run has slept through work (a stall), which
   fails the test. Under libcurl 7.88 the late, high-numbered sockets are
   invisible to select once the early ones are done. */
#include "harness.h"
#include <sys/resource.h>

#define N 3000
#define CAP_MS 3000
static struct body bodies[N];
static int ok;
static curl_socket_t max_socket;

static void on_done(CURL *e, CURLcode rc)
{
  struct body *b;
  CHECK_DONE(e, rc);
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&b), CURLE_OK);
  CHECK_EQ(b->len, 2000);
  CHECK(!b->mismatch);
  ok++;
}

static int note_socket(void *clientp, curl_socket_t s, curlsocktype purpose)
{
  (void)clientp;
  (void)purpose;
  if(s > max_socket)
    max_socket = s;
  return CURL_SOCKOPT_OK;
}

int main(void)
{
  static CURL *easy[N];
  struct rlimit lim;
  CURLM *m;
  int i;

  harness_init();
  CHECK_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  if(lim.rlim_cur < 2 * N) {
    lim.rlim_cur = lim.rlim_max;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
  }
  CHECK(lim.rlim_cur >= 2 * N);
  m = curl_multi_init();
  CHECK(m != NULL);
  for(i = 0; i < N; i++) {
    easy[i] = new_transfer(&bodies[i], "/delay/%d/2000", 300 + i / 2);
    curl_easy_setopt(easy[i], CURLOPT_SOCKOPTFUNCTION, note_socket);
    MOK(curl_multi_add_handle(m, easy[i]));
  }
  run_select_without_stall(m, CAP_MS, on_done);
  for(i = 0; i < N; i++) {
    MOK(curl_multi_remove_handle(m, easy[i]));
    curl_easy_cleanup(easy[i]);
  }
  MOK(curl_multi_cleanup(m));
  CHECK(max_socket >= FD_SETSIZE);
  printf("transfers %d, ok %d, sockets past FD_SETSIZE used\n", N, ok);
  CHECK_EQ(ok, N);
  return 0;
}
