/* stock: skip (a cleaned-up multi is freed memory in libcurl: undefined behaviour)
   curlmux answers CURLM_BAD_HANDLE to every call on a cleaned-up handle, for
   good, even after many new handles were made. */
#include "harness.h"

static void all_bad(CURLM *m, CURL *e)
{
  int running;
  expect_bad_handle(m, e);
  CHECK_EQ(curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_assign(m, 3, NULL), CURLM_BAD_HANDLE);
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
