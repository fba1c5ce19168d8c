/* curl_multi_setopt's argument reaches the libcurl multi underneath:
   MAX_TOTAL_CONNECTIONS 1 makes five transfers share one connection, one
   after the other; without it they use five. libcurl 8.16 to 8.20's
   options answer as the bound libcurl does (CURLM_UNKNOWN_OPTION where it
   lacks them), and CURLMOPT_NETWORK_CHANGED drops the cached connection
   there. */
#define _GNU_SOURCE
#include "curlmux.h"
#include "harness.h"

#define N 5

static int distinct_ports(CURLM *m, CURL **e)
{
  long ports[N];
  int i, j, running = 1, numfds, distinct = 0;
  MOK(curl_multi_perform(m, &running));
  while(running) {
    MOK(curl_multi_wait(m, NULL, 0, 1000, &numfds));
    MOK(curl_multi_perform(m, &running));
  }
  for(i = 0; i < N; i++) {
    CHECK_EQ(curl_easy_getinfo(e[i], CURLINFO_LOCAL_PORT, &ports[i]), CURLE_OK);
    for(j = 0; j < i && ports[j] != ports[i]; j++)
      ;
    distinct += j == i;
  }
  return distinct;
}

static int run_with_limit(long limit)
{
  struct body b[N];
  CURL *e[N];
  CURLM *m = curl_multi_init();
  int i, distinct;
  CHECK(m != NULL);
  if(limit)
    MOK(curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, limit));
  for(i = 0; i < N; i++) {
    e[i] = new_transfer(&b[i], "/delay/100/%d", 10 + i);
    MOK(curl_multi_add_handle(m, e[i]));
  }
  distinct = distinct_ports(m, e);
  for(i = 0; i < N; i++) {
    CHECK_EQ(b[i].len, (size_t)(10 + i));
    MOK(curl_multi_remove_handle(m, e[i]));
    curl_easy_cleanup(e[i]);
  }
  MOK(curl_multi_cleanup(m));
  return distinct;
}

/* Two transfers one after the other on one multi, with `option` set to
   `value` between them; whether the second made a new connection. */
static long between(CURLMoption option, long value, CURLMcode *rc)
{
  struct body b;
  CURLM *m = curl_multi_init();
  CURL *e = new_transfer(&b, "/bytes/10");
  long connects = -1;
  int i, running, numfds;
  for(i = 0; i < 2; i++) {
    if(i == 1)
      *rc = curl_multi_setopt(m, option, value);
    MOK(curl_multi_add_handle(m, e));
    running = 1;
    while(running) {
      MOK(curl_multi_perform(m, &running));
      if(running)
        MOK(curl_multi_wait(m, NULL, 0, 1000, &numfds));
    }
    CHECK_EQ(b.len, (size_t)10);
    MOK(curl_multi_remove_handle(m, e));
    memset(&b, 0, sizeof(b));
  }
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects), CURLE_OK);
  curl_easy_cleanup(e);
  MOK(curl_multi_cleanup(m));
  return connects;
}

int main(void)
{
  CURLMcode rc = -1;
  long connects;
  /* 8.16 to 8.19 have CLEAR_CONNS at bit 0, where 8.20 put CLEAR_ALL. */
  long clear_conns = libcurl_network_changed_bits() ? CURLMNWC_CLEAR_CONNS : 1L;
  harness_init();
  connects = between(CURLMOPT_NETWORK_CHANGED, clear_conns, &rc);
  printf("NETWORK_CHANGED CLEAR_CONNS: %d, next transfer's new connections: %ld\n", rc, connects);
  connects = between(CURLMOPT_NETWORK_CHANGED, CURLMNWC_CLEAR_ALL, &rc);
  printf("NETWORK_CHANGED CLEAR_ALL (8.20's bits): %d, next transfer's new connections: %ld\n", rc, connects);
  connects = between(CURLMOPT_NETWORK_CHANGED, CURLMNWC_CLEAR_DNS, &rc);
  printf("NETWORK_CHANGED CLEAR_DNS (8.20's bits): %d, next transfer's new connections: %ld\n", rc, connects);
  connects = between(CURLMOPT_MAXCONNECTS, 5L, &rc);
  printf("without it: %d, next transfer's new connections: %ld\n", rc, connects);
  between(CURLMOPT_RESOLVE_THREADS_MAX, 4L, &rc);
  printf("RESOLVE_THREADS_MAX 4: %d\n", rc);
  between(CURLMOPT_QUICK_EXIT, 1L, &rc);
  printf("QUICK_EXIT 1: %d\n", rc);
  printf("connections with MAX_TOTAL_CONNECTIONS 1: %d\n", run_with_limit(1));
  printf("connections without a limit: %d\n", run_with_limit(0));
  return 0;
}
