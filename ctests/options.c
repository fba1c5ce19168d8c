/* curl_multi_setopt's argument reaches the libcurl multi underneath:
   MAX_TOTAL_CONNECTIONS 1 makes five transfers share one connection, one
   after the other; without it they use five. */
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

int main(void)
{
  harness_init();
  printf("connections with MAX_TOTAL_CONNECTIONS 1: %d\n", run_with_limit(1));
  printf("connections without a limit: %d\n", run_with_limit(0));
  return 0;
}
