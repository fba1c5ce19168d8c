/* curl_easy_cleanup, from inside one transfer's write callback, of another
   transfer's easy still attached and running. libcurl 8.22 and later do
   nothing then (their call guards, curl dfc01ea2a3): the transfer runs on
   and ends in its message, and the program frees it after; curlmux keeps
   it in its books as libcurl keeps it. 7.61 removes the easy from its
   multi and frees it: one message, the other transfer's. 7.88 to 8.21 free
   the easy while their multi still drives it, and crash or wait forever,
   stock and through curlmux alike (README, Limits and caveats): not run
   there. */
#include "harness.h"

static CURL *victim;
static int freed;

static size_t on_write(char *data, size_t size, size_t n, void *userp)
{
  (void)data;
  (void)userp;
  if(!freed) {
    freed = 1;
    curl_easy_cleanup(victim);
  }
  return size * n;
}

int main(void)
{
  CURLM *m;
  CURL *writer;
  struct body bw, bv;
  int running = 1, numfds, q, messages = 0, victim_done = 0, kept;
  unsigned int version;
  double t0;
  CURLMsg *msg;

  harness_init();
  version = curl_version_info(CURLVERSION_NOW)->version_num;
  kept = version >= 0x081600;
  if(!kept && version >= 0x073e00) {
    printf("an easy freed inside another's callback: not run between libcurl 7.61 and 8.22\n");
    return 0;
  }
  m = curl_multi_init();
  CHECK(m != NULL);
  victim = new_transfer(&bv, "/trickle/2000/4/400");
  writer = new_transfer(&bw, "/bytes/100");
  curl_easy_setopt(writer, CURLOPT_WRITEFUNCTION, on_write);
  MOK(curl_multi_add_handle(m, victim));
  MOK(curl_multi_add_handle(m, writer));
  for(t0 = now_s(); running && now_s() - t0 < 30.0;) {
    MOK(curl_multi_perform(m, &running));
    while((msg = curl_multi_info_read(m, &q))) {
      CHECK_EQ(msg->msg, CURLMSG_DONE);
      CHECK_EQ(msg->data.result, CURLE_OK);
      messages++;
      victim_done += msg->easy_handle == victim;
    }
    MOK(curl_multi_wait(m, NULL, 0, 100, &numfds));
  }
  CHECK_EQ(running, 0);
  CHECK(freed);
  CHECK_EQ(messages, 1 + kept);
  CHECK_EQ(victim_done, kept);
  MOK(curl_multi_remove_handle(m, writer));
  curl_easy_cleanup(writer);
  if(kept) {
    CHECK_EQ(bv.len, (size_t)2000);
    MOK(curl_multi_remove_handle(m, victim));
    curl_easy_cleanup(victim);
  }
  MOK(curl_multi_cleanup(m));
  printf("an easy freed inside another's callback: %s\n",
         kept ? "kept by libcurl, finished, then freed" : "removed and freed, one message");
  return 0;
}
