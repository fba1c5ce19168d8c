/* curl_easy_cleanup from inside a callback, of an easy still attached and
   running: first another transfer's (from a write callback), then the
   transfer's own (from its write callback, its progress callback watching).
   libcurl 8.22 and later do nothing then (their call guards, curl
   dfc01ea2a3): the transfer runs on and ends in its message, and the
   program frees it after; curlmux keeps it in its books as libcurl keeps
   it. Before 8.22 the easy is gone for the program, and libcurl is unsafe:
   7.61 removes another's easy and frees it, but crashes on its own; 7.88 to
   8.21 free it while their multi still drives it, and crash, fail the
   perform, or never finish it while calling its callbacks (harness.rs,
   NO_ORACLE). curlmux holds the free back until libcurl's call returns,
   silencing the easy's callbacks meanwhile, then removes and frees it:
   no message for it, no callback after the free. */
#include "harness.h"

static CURL *victim;
static int freed, progress_after_free;

static size_t free_victim(char *data, size_t size, size_t n, void *userp)
{
  if(!freed) {
    freed = 1;
    curl_easy_cleanup(victim);
  }
  return body_write(data, size, n, userp);
}

static int count_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  (void)p;
  (void)dltotal;
  (void)dlnow;
  (void)ultotal;
  (void)ulnow;
  progress_after_free += freed;
  return 0;
}

/* Runs m until no transfer runs (10 s at most); how many messages, and
   how many of them were the victim's (all must be successes). */
static int drain(CURLM *m, int *victim_done)
{
  int running = 1, numfds, q, messages = 0;
  double t0;
  CURLMsg *msg;
  *victim_done = 0;
  for(t0 = now_s(); running && now_s() - t0 < 10.0;) {
    MOK(curl_multi_perform(m, &running));
    while((msg = curl_multi_info_read(m, &q))) {
      CHECK_EQ(msg->msg, CURLMSG_DONE);
      CHECK_DONE(msg->easy_handle, msg->data.result);
      messages++;
      *victim_done += msg->easy_handle == victim;
    }
    MOK(curl_multi_wait(m, NULL, 0, 100, &numfds));
  }
  CHECK_EQ(running, 0);
  CHECK(freed);
  return messages;
}

int main(void)
{
  CURLM *m;
  CURL *writer;
  struct body bw, bv;
  int messages, victim_done, kept;

  harness_init();
  kept = libcurl_call_guards();
  m = curl_multi_init();
  CHECK(m != NULL);

  /* another transfer's easy */
  victim = new_transfer(&bv, "/trickle/2000/4/400");
  writer = new_transfer(&bw, "/bytes/100");
  curl_easy_setopt(writer, CURLOPT_WRITEFUNCTION, free_victim);
  MOK(curl_multi_add_handle(m, victim));
  MOK(curl_multi_add_handle(m, writer));
  messages = drain(m, &victim_done);
  CHECK_EQ(messages, 1 + kept);
  CHECK_EQ(victim_done, kept);
  MOK(curl_multi_remove_handle(m, writer));
  curl_easy_cleanup(writer);
  if(kept) {
    CHECK_EQ(bv.len, (size_t)2000);
    MOK(curl_multi_remove_handle(m, victim));
    curl_easy_cleanup(victim);
  }
  printf("an easy freed inside another's callback: %s\n",
         kept ? "kept by libcurl, finished, then freed" : "removed and freed, one message");

  /* its own easy */
  freed = 0;
  victim = new_transfer(&bv, "/trickle/2000/4/400");
  curl_easy_setopt(victim, CURLOPT_WRITEFUNCTION, free_victim);
  curl_easy_setopt(victim, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(victim, CURLOPT_XFERINFOFUNCTION, count_progress);
  MOK(curl_multi_add_handle(m, victim));
  messages = drain(m, &victim_done);
  CHECK_EQ(messages, kept);
  CHECK_EQ(victim_done, kept);
  if(kept) {
    CHECK_EQ(bv.len, (size_t)2000);
    MOK(curl_multi_remove_handle(m, victim));
    curl_easy_cleanup(victim);
  }
  else
    CHECK_EQ(progress_after_free, 0);
  printf("an easy freed inside its own callback: %s\n",
         kept ? "kept by libcurl, finished, then freed" : "removed and freed, no message, no callback after");
  MOK(curl_multi_cleanup(m));
  return 0;
}
