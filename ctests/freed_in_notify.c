/* stock: needs curl_multi_notify_enable
   curl_easy_cleanup, without curl_multi_remove_handle, of a finished easy
   from inside the notify callback (CURLMNOTIFY_EASY_DONE). libcurl 8.22 and
   later run that callback inside a call of the multi, so their call guards
   (curl dfc01ea2a3) make the cleanup a no-op: the easy stays attached and
   its message is still read; the program frees it after. 8.17 to 8.21 free
   it there: no message for it. curlmux runs the callback after libcurl's
   call, and gives the bound libcurl's answer (8.21's below 8.17, where the
   notifications are its own). */
#define _GNU_SOURCE
#include "curlmux.h"
#include "harness.h"

typedef CURLMcode (*notify_fn)(CURLM *, unsigned int);
static CURL *quick;
static int freed;

static void on_notify(CURLM *m, unsigned int kind, CURL *easy, void *data)
{
  (void)m;
  (void)data;
  if(kind == CURLMNOTIFY_EASY_DONE && easy == quick && !freed) {
    freed = 1;
    curl_easy_cleanup(easy);
  }
}

int main(void)
{
  CURLM *m;
  CURL *slow;
  struct body bq, bs;
  int running = 1, numfds, q, quick_messages = 0, slow_messages = 0, kept;
  double t0;
  CURLMsg *msg;
  notify_fn notify_enable;

  harness_init();
  notify_enable = (notify_fn)need_symbol("curl_multi_notify_enable");
  kept = libcurl_call_guards();
  m = curl_multi_init();
  CHECK(m != NULL);
  MOK(curl_multi_setopt(m, CURLMOPT_NOTIFYFUNCTION, on_notify));
  MOK(notify_enable(m, CURLMNOTIFY_EASY_DONE));
  quick = new_transfer(&bq, "/bytes/100");
  slow = new_transfer(&bs, "/delay/300/100");
  MOK(curl_multi_add_handle(m, quick));
  MOK(curl_multi_add_handle(m, slow));
  for(t0 = now_s(); running && now_s() - t0 < 10.0;) {
    MOK(curl_multi_perform(m, &running));
    while((msg = curl_multi_info_read(m, &q))) {
      CHECK_EQ(msg->msg, CURLMSG_DONE);
      CHECK_DONE(msg->easy_handle, msg->data.result);
      quick_messages += msg->easy_handle == quick;
      slow_messages += msg->easy_handle == slow;
    }
    MOK(curl_multi_wait(m, NULL, 0, 100, &numfds));
  }
  CHECK_EQ(running, 0);
  CHECK(freed);
  CHECK_EQ(slow_messages, 1);
  CHECK_EQ(quick_messages, kept);
  if(kept) {
    MOK(curl_multi_remove_handle(m, quick));
    curl_easy_cleanup(quick);
  }
  MOK(curl_multi_remove_handle(m, slow));
  curl_easy_cleanup(slow);
  MOK(curl_multi_cleanup(m));
  printf("an easy freed in the notify callback: %s\n",
         kept ? "kept by libcurl, its message read, then freed" : "freed there, no message");
  return 0;
}
