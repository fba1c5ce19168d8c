/* stock: must-fail (curl_multi_get_handles is libcurl 8.4, curl_multi_waitfds 8.8; the system has 7.88)
   curlmux provides both on top of libcurl 7.88, with their documented
   semantics; a program looks them up at run time as it would on an older
   system. */
#include "harness.h"

typedef CURL **(*get_handles_fn)(CURLM *);
typedef CURLMcode (*waitfds_fn)(CURLM *, struct curl_waitfd *, unsigned int, unsigned int *);

int main(void)
{
  get_handles_fn get_handles = (get_handles_fn)curlmux_symbol("curl_multi_get_handles");
  waitfds_fn waitfds = (waitfds_fn)curlmux_symbol("curl_multi_waitfds");
  struct body b[3];
  struct curl_waitfd fds[2];
  unsigned int count = 99;
  CURL *e[3], **list;
  CURLM *m;
  int i, found;

  harness_init();
  if(!get_handles || !waitfds) {
    fprintf(stderr, "curl_multi_get_handles / curl_multi_waitfds are not available\n");
    return 1;
  }
  m = curl_multi_init();
  list = get_handles(m);
  CHECK(list != NULL && list[0] == NULL);
  curl_free(list);
  MOK(waitfds(m, NULL, 0, &count));
  CHECK_EQ(count, 0);
  for(i = 0; i < 3; i++) {
    e[i] = new_transfer(&b[i], "/delay/300/10");
    MOK(curl_multi_add_handle(m, e[i]));
  }
  /* Added but not started: no socket to wait on yet, as for fdset. */
  MOK(waitfds(m, NULL, 0, &count));
  CHECK_EQ(count, 0);
  {
    int running;
    MOK(curl_multi_perform(m, &running));
    CHECK_EQ(running, 3);
  }
  list = get_handles(m);
  CHECK(list != NULL);
  for(found = 0; list[found]; found++)
    CHECK(list[found] == e[0] || list[found] == e[1] || list[found] == e[2]);
  CHECK_EQ(found, 3);
  curl_free(list);
  CHECK(get_handles(NULL) == NULL);

  CHECK_EQ(waitfds(m, NULL, 1, &count), CURLM_BAD_FUNCTION_ARGUMENT);
  CHECK_EQ(waitfds(m, NULL, 0, NULL), CURLM_BAD_FUNCTION_ARGUMENT);
  CHECK_EQ(waitfds(NULL, fds, 2, &count), CURLM_BAD_HANDLE);
  MOK(waitfds(m, NULL, 0, &count));
  CHECK_EQ(count, 1);
  CHECK_EQ(waitfds(m, fds, 0, &count), CURLM_OUT_OF_MEMORY);
  count = 0;
  MOK(waitfds(m, fds, 2, &count));
  CHECK_EQ(count, 1);
  CHECK(fds[0].fd >= 0);
  CHECK_EQ(fds[0].events, CURL_WAIT_POLLIN);

  MOK(curl_multi_remove_handle(m, e[1]));
  list = get_handles(m);
  for(found = 0; list[found]; found++)
    CHECK(list[found] != e[1]);
  CHECK_EQ(found, 2);
  curl_free(list);
  for(i = 0; i < 3; i++) {
    curl_multi_remove_handle(m, e[i]);
    curl_easy_cleanup(e[i]);
  }
  MOK(curl_multi_cleanup(m));
  printf("get_handles and waitfds as libcurl 8.x documents them\n");
  return 0;
}
