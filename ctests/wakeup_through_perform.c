/* A pending wakeup survives curl_multi_perform: the next curl_multi_poll
   returns at once, with transfers or without. libcurl 8.21's perform takes
   it (curl #22272, 2a2104f3cf; 8.22 gave libcurl's own signals a second
   descriptor, 009fd378e8): NO_ORACLE in harness.rs. */
#include "harness.h"

static void perform_then_poll(CURLM *m)
{
  int running, numfds;
  double t0;
  MOK(curl_multi_wakeup(m));
  MOK(curl_multi_perform(m, &running));
  t0 = now_s();
  MOK(curl_multi_poll(m, NULL, 0, 2000, &numfds));
  CHECK(now_s() - t0 < 1.0); /* at once, not its 2 s (room for valgrind under load) */
}

int main(void)
{
  CURLM *m;
  CURL *hang;
  struct body body;

  harness_init();
  if(!HAVE_NEWER)
    return 0; /* stock libcurl before 7.68: nothing to test */
  m = curl_multi_init();
  CHECK(m != NULL);
  perform_then_poll(m);
  hang = add_unanswered(m, &body);
  perform_then_poll(m);
  MOK(curl_multi_remove_handle(m, hang));
  curl_easy_cleanup(hang);
  MOK(curl_multi_cleanup(m));
  NEWER_PRINTF("wakeups survived perform\n");
  return 0;
}
