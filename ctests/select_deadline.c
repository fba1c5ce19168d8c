/* stock: must-fail (libcurl's fdset carries no timer: the loop must ask curl_multi_timeout)
   A select loop that never asks curl_multi_timeout still wakes when a
   transfer's CURLOPT_TIMEOUT_MS expires: the descriptor curlmux reports
   becomes readable at libcurl's deadline. The loop's own select timeout is
   20 s; sleeping through it with a transfer running is a stall. */
#include "harness.h"

int main(void)
{
  struct body b;
  CURLM *m;
  CURL *e;
  CURLMsg *msg;
  int running = 0, q;

  harness_init();
  m = curl_multi_init();
  CHECK(m != NULL);
  e = new_transfer(&b, "/hang");
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 300L);
  MOK(curl_multi_add_handle(m, e));
  MOK(curl_multi_perform(m, &running));
  while(running) {
    fd_set r, w, x;
    int maxfd = -1;
    struct timeval tv = {20, 0};
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    MOK(curl_multi_fdset(m, &r, &w, &x, &maxfd));
    if(select(maxfd + 1, &r, &w, &x, &tv) == 0) {
      fprintf(stderr, "stall: select slept 20 s past a 300 ms timeout\n");
      return 1;
    }
    MOK(curl_multi_perform(m, &running));
  }
  msg = curl_multi_info_read(m, &q);
  CHECK(msg != NULL);
  CHECK_EQ(msg->data.result, CURLE_OPERATION_TIMEDOUT);
  MOK(curl_multi_remove_handle(m, e));
  MOK(curl_multi_cleanup(m));
  curl_easy_cleanup(e);
  printf("timed out on time: %d\n", CURLE_OPERATION_TIMEDOUT);
  return 0;
}
