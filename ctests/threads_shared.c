/* stock: skip (two threads on one multi is undefined behaviour in libcurl)
   curlmux serializes them: four threads hammer one multi with add, remove,
   perform, wait and info_read for a bounded number of rounds while a fifth
   wakes it; every transfer ends in exactly one message, nothing crashes. */
#include "threads.h"

#define THREADS 4
#define ROUNDS 60
static CURLM *shared;
static int stop; /* an atomic flag: set once, then the thread is joined */

struct worker {
  int id;
  CURL *easy;
  struct body body;
};

static void *work(void *arg)
{
  struct worker *w = arg;
  int r, running, numfds, q;
  for(r = 0; r < ROUNDS; r++) {
    CURLMsg *msg;
    MOK(curl_multi_add_handle(shared, w->easy));
    MOK(curl_multi_perform(shared, &running));
    MOK(curl_multi_wait(shared, NULL, 0, 5, &numfds));
    MOK(curl_multi_perform(shared, &running));
    /* Any thread may read any message. */
    while((msg = curl_multi_info_read(shared, &q)))
      CHECK_EQ(msg->msg, CURLMSG_DONE);
    MOK(curl_multi_remove_handle(shared, w->easy));
    MOK(curl_multi_remove_handle(shared, w->easy));
  }
  return NULL;
}

static void *waker(void *arg)
{
  (void)arg;
  while(!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    MOK(curl_multi_wakeup(shared));
    usleep(1000);
  }
  return NULL;
}

int main(void)
{
  struct worker w[THREADS];
  pthread_t t[THREADS], wt;
  int i, running = 1, numfds, q, total = 0;
  CURLMsg *msg;

  harness_init();
  ATOMIC_FLAG(stop);
  shared = curl_multi_init();
  CHECK(shared != NULL);
  CHECK_EQ(pthread_create(&wt, NULL, waker, NULL), 0);
  for(i = 0; i < THREADS; i++) {
    w[i].id = i;
    w[i].easy = new_transfer(&w[i].body, "/delay/%d/100", i);
    CHECK_EQ(pthread_create(&t[i], NULL, work, &w[i]), 0);
  }
  for(i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  pthread_join(wt, NULL);
  /* Afterwards the multi is consistent: a last round finishes normally. */
  for(i = 0; i < THREADS; i++)
    MOK(curl_multi_add_handle(shared, w[i].easy));
  while(running) {
    MOK(curl_multi_perform(shared, &running));
    MOK(curl_multi_poll(shared, NULL, 0, 1000, &numfds));
  }
  while((msg = curl_multi_info_read(shared, &q))) {
    CHECK_EQ(msg->data.result, CURLE_OK);
    total++;
  }
  CHECK_EQ(total, THREADS);
  for(i = 0; i < THREADS; i++) {
    MOK(curl_multi_remove_handle(shared, w[i].easy));
    curl_easy_cleanup(w[i].easy);
  }
  MOK(curl_multi_cleanup(shared));
  printf("threads serialized on one multi\n");
  return 0;
}
