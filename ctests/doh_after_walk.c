/* DNS-over-HTTPS answers read by libcurl's own walk. libcurl 7.73 to 8.17
   run every transfer in curl_multi_perform with one clock that moves on
   when a transfer starts, then drop every timer due by that clock: a wake-up
   set during the walk for a transfer it ran earlier is lost. Before 8.15 a
   DoH parent is woken that way when its probes answer, and the parent comes
   before its probes. curlmux walks on its own too (few busy transfers, and
   once more when it stops walking); after its last walk a dropped wake-up
   would leave the parent waiting for its own timeout.

   Here a small multi walks while its DoH lookups are asked (the answers
   come 300 ms later), the answers then wait in the sockets, and 130
   transfers are added: curlmux stops walking (more than it walks), and its
   last walk reads the answers and starts the 130. A select loop capped at
   500 ms must then finish everything without sleeping its cap with nothing
   ready while transfers run. */
#include "harness.h"

#define K 4
#define N 130
#define ROUNDS 3

static int counts[100];

static void on_done(CURL *e, CURLcode rc)
{
  (void)e;
  CHECK(rc < 100);
  counts[rc]++;
}

int main(void)
{
  static struct body b[K + N];
  char doh[300], url[300];
  int i, r;

  harness_init();
  snprintf(doh, sizeof(doh), "%s/delay/300/dns-query", env_or_die("CURLMUX_TEST_TLS_URL"));
  for(r = 0; r < ROUNDS; r++) {
    CURL *e[K + N];
    CURLM *m = doh_multi_init();
    int running, numfds;
    for(i = 0; i < K; i++) {
      e[i] = new_transfer(&b[i], "/bytes/10");
      snprintf(url, sizeof(url), "http://no-such-host-%d-%d.example.invalid/", r, i);
      curl_easy_setopt(e[i], CURLOPT_URL, url);
      curl_easy_setopt(e[i], CURLOPT_DOH_URL, doh);
      curl_easy_setopt(e[i], CURLOPT_CAINFO, env_or_die("CURLMUX_TEST_CA"));
      MOK(curl_multi_add_handle(m, e[i]));
    }
    /* A few turns: the lookups go out (fewer than the six quiet looks
       after which curlmux would stop walking by itself). */
    for(i = 0; i < 3; i++) {
      MOK(curl_multi_perform(m, &running));
      MOK(curl_multi_wait(m, NULL, 0, 50, &numfds));
    }
    usleep(400 * 1000);
    for(i = K; i < K + N; i++) {
      e[i] = new_transfer(&b[i], "/bytes/10");
      MOK(curl_multi_add_handle(m, e[i]));
    }
    run_select_without_stall(m, 500, on_done);
    for(i = 0; i < K + N; i++) {
      MOK(curl_multi_remove_handle(m, e[i]));
      curl_easy_cleanup(e[i]);
    }
    MOK(curl_multi_cleanup(m));
  }
  printf("ok %d, no such host %d, other %d\n", counts[CURLE_OK], counts[CURLE_COULDNT_RESOLVE_HOST],
         ROUNDS * (K + N) - counts[CURLE_OK] - counts[CURLE_COULDNT_RESOLVE_HOST]);
  return 0;
}
