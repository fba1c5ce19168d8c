/* stock: skip (curlmux's own fault injection: CURLMUX_TEST_PANIC)
   An internal panic never crosses into C: the caller gets
   CURLM_INTERNAL_ERROR and the process, and the multi, carry on. The panic
   in perform happens with the multi's lock held. */
#include "harness.h"

int main(int argc, char **argv)
{
  struct body b;
  CURLM *m;
  CURL *e;
  int running = 1, numfds, q;
  CURLMsg *msg;

  harness_init();
  if(argc < 2) {
    /* Re-run this program once per injection point. */
    const char *points[] = {"setopt", "perform"};
    int i;
    for(i = 0; i < 2; i++) {
      char cmd[600];
      snprintf(cmd, sizeof(cmd), "CURLMUX_TEST_PANIC=%s '%s' %s", points[i], argv[0], points[i]);
      CHECK_EQ(system(cmd), 0);
    }
    printf("panics became CURLM_INTERNAL_ERROR; the process went on\n");
    return 0;
  }
  m = curl_multi_init();
  CHECK(m != NULL);
  if(!strcmp(argv[1], "setopt")) {
    CHECK_EQ(curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 5L), CURLM_INTERNAL_ERROR);
    CHECK_EQ(curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 5L), CURLM_INTERNAL_ERROR);
  }
  e = new_transfer(&b, "/bytes/1000");
  MOK(curl_multi_add_handle(m, e));
  if(!strcmp(argv[1], "perform")) {
    CHECK_EQ(curl_multi_perform(m, &running), CURLM_INTERNAL_ERROR);
    CHECK_EQ(curl_multi_perform(m, &running), CURLM_INTERNAL_ERROR);
    /* the multi still answers everything else, lock and all */
    MOK(curl_multi_remove_handle(m, e));
    MOK(curl_multi_cleanup(m));
    curl_easy_cleanup(e);
    return 0;
  }
  while(running) {
    MOK(curl_multi_perform(m, &running));
    MOK(curl_multi_wait(m, NULL, 0, 1000, &numfds));
  }
  msg = curl_multi_info_read(m, &q);
  CHECK(msg && msg->data.result == CURLE_OK);
  CHECK_EQ(b.len, 1000);
  MOK(curl_multi_remove_handle(m, e));
  MOK(curl_multi_cleanup(m));
  curl_easy_cleanup(e);
  return 0;
}
