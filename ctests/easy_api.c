/* libcurl calls its own multi functions through its PLT: curl_easy_perform
   runs a private multi, and curl_easy_cleanup of an easy still attached
   detaches it with curl_multi_remove_handle. curlmux must pass the first
   through untouched and keep its books for the second. */
#include "harness.h"

static CURLcode perform_once(const char *path, size_t expect_len, long expect_status)
{
  struct body b;
  long status = 0;
  CURL *e = new_transfer(&b, "%s", path);
  CURLcode rc = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  CHECK_EQ(status, expect_status);
  if(rc == CURLE_OK)
    CHECK_EQ(b.len, expect_len);
  if(expect_status == 200)
    CHECK(!b.mismatch);
  curl_easy_cleanup(e);
  return rc;
}

int main(void)
{
  struct body b[3];
  CURL *e[3];
  CURLM *m;
  int running = -1, q = -1, i, numfds;
  CURLMsg *msg;

  harness_init();
  printf("easy perform 100000: %d\n", perform_once("/bytes/100000", 100000, 200));
  printf("easy perform 404: %d\n", perform_once("/status/404", 11, 404));
  printf("easy perform reset: %d\n", perform_once("/reset/3000", 0, 200));

  /* An easy already in a multi cannot be easy-performed. The two that will
     be cleaned up are never answered, so both are still running after the
     first perform however long it takes (through curlmux a perform goes on
     while it finds work: a 10 ms answer can finish inside it under
     valgrind); the third comes after that. */
  m = curl_multi_init();
  CHECK(m != NULL);
  for(i = 0; i < 3; i++)
    e[i] = new_transfer(&b[i], i == 2 ? "/delay/10/100" : "/hang");
  for(i = 0; i < 2; i++)
    MOK(curl_multi_add_handle(m, e[i]));
  printf("easy perform while attached: %d\n", curl_easy_perform(e[0]));
  MOK(curl_multi_perform(m, &running));
  CHECK_EQ(running, 2);
  MOK(curl_multi_add_handle(m, e[2]));

  /* Cleaning up attached easies detaches them: two fewer running, and no
     message will ever come for them. */
  curl_easy_cleanup(e[0]);
  curl_easy_cleanup(e[1]);
  MOK(curl_multi_perform(m, &running));
  CHECK(running <= 1);
  while(running) {
    MOK(curl_multi_wait(m, NULL, 0, 1000, &numfds));
    MOK(curl_multi_perform(m, &running));
  }
  msg = curl_multi_info_read(m, &q);
  CHECK(msg != NULL);
  CHECK(msg->easy_handle == e[2]);
  CHECK_EQ(q, 0);
  CHECK(curl_multi_info_read(m, &q) == NULL);
  MOK(curl_multi_remove_handle(m, e[2]));
  /* An easy cleaned up while attached with its message queued takes the
     message with it. */
  e[0] = new_transfer(&b[0], "/bytes/10");
  MOK(curl_multi_add_handle(m, e[0]));
  running = 1;
  while(running) {
    MOK(curl_multi_perform(m, &running));
    MOK(curl_multi_wait(m, NULL, 0, 1000, &numfds));
  }
  curl_easy_cleanup(e[0]);
  CHECK(curl_multi_info_read(m, &q) == NULL);
  CHECK_EQ(q, 0);
  MOK(curl_multi_cleanup(m));
  curl_easy_cleanup(e[2]);
  printf("attached easies cleaned up: books kept\n");
  return 0;
}
