/* Messages live with their transfer: a CURLMsg pointer survives later
   info_read calls and the removal of its easy; remove_handle drops a queued
   message; msgs_in_queue and running_handles are exact. */
#include "harness.h"

int main(void)
{
  struct body b[5];
  CURL *e[5];
  CURLM *m;
  CURLMsg *m1, *m2, *m3;
  CURL *first;
  int running = -1, q = -1, i;

  harness_init();
  m = curl_multi_init();
  CHECK(m != NULL);
  for(i = 0; i < 5; i++)
    e[i] = new_transfer(&b[i], i < 4 ? "/delay/100/%d" : "/delay/3000/%d", 10 * (i + 1));

  /* Two finished transfers; both messages read before either is handled. */
  MOK(curl_multi_add_handle(m, e[0]));
  MOK(curl_multi_add_handle(m, e[1]));
  run_until_done(m);
  m1 = curl_multi_info_read(m, &q);
  CHECK(m1 != NULL);
  CHECK_EQ(q, 1);
  first = m1->easy_handle;
  m2 = curl_multi_info_read(m, &q);
  CHECK(m2 != NULL);
  CHECK_EQ(q, 0);
  CHECK(m1 != m2);
  CHECK(curl_multi_info_read(m, &q) == NULL);
  CHECK_EQ(q, 0);
  CHECK(m1->easy_handle == first);
  CHECK(m1->easy_handle == e[0] || m1->easy_handle == e[1]);
  CHECK(m2->easy_handle == e[0] || m2->easy_handle == e[1]);
  CHECK(m1->easy_handle != m2->easy_handle);
  CHECK_EQ(m1->msg, CURLMSG_DONE);
  CHECK_EQ(m1->data.result, CURLE_OK);
  MOK(curl_multi_remove_handle(m, m1->easy_handle));
  /* still readable after its easy was removed */
  CHECK(m1->easy_handle == first);
  CHECK_EQ(m1->data.result, CURLE_OK);
  MOK(curl_multi_remove_handle(m, m2->easy_handle));

  /* remove_handle drops a queued message */
  MOK(curl_multi_add_handle(m, e[2]));
  MOK(curl_multi_add_handle(m, e[3]));
  run_until_done(m);
  MOK(curl_multi_remove_handle(m, e[2]));
  m3 = curl_multi_info_read(m, &q);
  CHECK(m3 != NULL);
  CHECK(m3->easy_handle == e[3]);
  CHECK_EQ(q, 0);
  CHECK(curl_multi_info_read(m, &q) == NULL);
  MOK(curl_multi_remove_handle(m, e[3]));

  /* running_handles counts what is attached and unfinished */
  MOK(curl_multi_add_handle(m, e[4]));
  MOK(curl_multi_add_handle(m, e[2]));
  MOK(curl_multi_perform(m, &running));
  CHECK_EQ(running, 2);
  MOK(curl_multi_remove_handle(m, e[4]));
  MOK(curl_multi_perform(m, &running));
  CHECK(running <= 1);
  run_until_done(m);
  MOK(curl_multi_perform(m, &running));
  CHECK_EQ(running, 0);
  /* a re-added easy yields a new message */
  m3 = curl_multi_info_read(m, &q);
  CHECK(m3 != NULL);
  CHECK(m3->easy_handle == e[2]);
  CHECK_EQ(q, 0);
  MOK(curl_multi_remove_handle(m, e[2]));
  MOK(curl_multi_cleanup(m));
  for(i = 0; i < 5; i++)
    curl_easy_cleanup(e[i]);
  printf("message lifetime and removal as libcurl\n");
  return 0;
}
