/* stock: skip (a cleaned-up multi is freed memory in libcurl: undefined behaviour)
   curlmux answers CURLM_BAD_HANDLE to every call on a cleaned-up handle, for
   good, even after many new handles were made. */
#include "harness.h"

static void all_bad(CURLM *m, CURL *e)
{
  int running, numfds, maxfd, q = -1;
  long ms;
  fd_set r, w, x;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_ZERO(&x);
  CHECK_EQ(curl_multi_add_handle(m, e), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_remove_handle(m, e), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_perform(m, &running), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_fdset(m, &r, &w, &x, &maxfd), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_wait(m, NULL, 0, 0, &numfds), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_poll(m, NULL, 0, 0, &numfds), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_wakeup(m), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_timeout(m, &ms), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 5L), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_assign(m, 3, NULL), CURLM_BAD_HANDLE);
  CHECK(curl_multi_info_read(m, &q) == NULL);
  CHECK_EQ(q, 0);
  CHECK_EQ(curl_multi_cleanup(m), CURLM_BAD_HANDLE);
}

int main(void)
{
  struct body b;
  CURLM *m, *others[50];
  CURL *e;
  int i, running;

  harness_init();
  e = new_transfer(&b, "/bytes/10");
  m = curl_multi_init();
  MOK(curl_multi_add_handle(m, e));
  MOK(curl_multi_perform(m, &running));
  MOK(curl_multi_cleanup(m));
  all_bad(m, e);
  for(i = 0; i < 50; i++) {
    others[i] = curl_multi_init();
    CHECK(others[i] != m);
  }
  all_bad(m, e);
  for(i = 0; i < 50; i++)
    MOK(curl_multi_cleanup(others[i]));
  curl_easy_cleanup(e);
  printf("stale handle refused\n");
  return 0;
}
