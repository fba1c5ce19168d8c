/* The seed's first loop (pycurl-CurlMulti.txt): perform, then fdset + select
   until no transfer runs; every body checked byte by byte. */
#include "harness.h"

#define N 30
static struct body bodies[N];

int main(void)
{
  static const size_t sizes[] = {0, 10, 5000, 100000, 1000000};
  CURL *easy[N];
  CURLM *m;
  int i, running = 0;
  size_t total = 0;

  harness_init();
  m = curl_multi_init();
  CHECK(m != NULL);
  for(i = 0; i < N; i++) {
    easy[i] = new_transfer(&bodies[i], "/bytes/%zu", sizes[i % 5]);
    MOK(curl_multi_add_handle(m, easy[i]));
  }
  MOK(curl_multi_perform(m, &running));
  while(running) {
    fd_set r, w, x;
    int maxfd = -1;
    struct timeval tv = {1, 0};
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    MOK(curl_multi_fdset(m, &r, &w, &x, &maxfd));
    CHECK(select(maxfd + 1, &r, &w, &x, &tv) >= 0);
    MOK(curl_multi_perform(m, &running));
    drain_messages(m, expect_ok);
  }
  drain_messages(m, expect_ok);
  for(i = 0; i < N; i++) {
    CHECK_EQ(bodies[i].len, sizes[i % 5]);
    total += bodies[i].len;
    MOK(curl_multi_remove_handle(m, easy[i]));
    curl_easy_cleanup(easy[i]);
  }
  MOK(curl_multi_cleanup(m));
  printf("transfers %d, ok %d, bytes %zu\n", N, harness_ok, total);
  CHECK_EQ(harness_ok, N);
  return 0;
}
