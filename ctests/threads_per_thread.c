/* The common pattern: one multi per thread, many threads at once, each
   running its own transfers to completion. */
#include "harness.h"
#include <pthread.h>

#define THREADS 8
#define PER 25

static void *run(void *arg)
{
  long id = (long)arg, ok = 0;
  struct body b[PER];
  CURL *e[PER];
  CURLM *m = curl_multi_init();
  int i, running = 1, numfds, q;
  CURLMsg *msg;
  CHECK(m != NULL);
  for(i = 0; i < PER; i++) {
    e[i] = new_transfer(&b[i], "/bytes/%ld", 1000 * id + i);
    MOK(curl_multi_add_handle(m, e[i]));
  }
  while(running) {
    MOK(curl_multi_perform(m, &running));
    MOK(curl_multi_wait(m, NULL, 0, 1000, &numfds));
  }
  while((msg = curl_multi_info_read(m, &q))) {
    CHECK_EQ(msg->data.result, CURLE_OK);
    ok++;
  }
  for(i = 0; i < PER; i++) {
    CHECK_EQ(b[i].len, (size_t)(1000 * id + i));
    CHECK(!b[i].mismatch);
    MOK(curl_multi_remove_handle(m, e[i]));
    curl_easy_cleanup(e[i]);
  }
  MOK(curl_multi_cleanup(m));
  return (void *)ok;
}

int main(void)
{
  pthread_t t[THREADS];
  long i, total = 0;
  void *ok;
  harness_init();
  for(i = 0; i < THREADS; i++)
    CHECK_EQ(pthread_create(&t[i], NULL, run, (void *)i), 0);
  for(i = 0; i < THREADS; i++) {
    pthread_join(t[i], &ok);
    total += (long)ok;
  }
  printf("threads %d, transfers ok %ld\n", THREADS, total);
  CHECK_EQ(total, THREADS * PER);
  return 0;
}
