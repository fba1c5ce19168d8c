/* HTTPS bodies of many sizes, bulk and trickled, through every loop style.
   TLS can hold decrypted data the socket no longer signals: a transfer
   that stalls on it runs into CURLOPT_TIMEOUT and fails the test. */
#include "loops.h"

static const size_t sizes[] = {0, 1, 16383, 16384, 16385, 100000, 1048576, 5000000};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define N (2 * NSIZES)
static struct body bodies[N];

int main(void)
{
  int l, p;
  harness_init();
  for(l = LOOP_SELECT; l <= LOOP_EVENTS; l++) {
    if(!loop_runs((enum loop)l))
      continue;
    for(p = HTTPS1; p <= HTTPS2; p++) {
      CURL *easy[N];
      CURLM *m = curl_multi_init();
      size_t i;
      CHECK(m != NULL);
      if(l == LOOP_EVENTS)
        events_init(m);
      harness_ok = 0;
      for(i = 0; i < N; i++) {
        size_t size = sizes[i % NSIZES];
        easy[i] = i < NSIZES ? new_transfer_p((enum proto)p, &bodies[i], "/bytes/%zu", size)
                             : new_transfer_p((enum proto)p, &bodies[i], "/trickle/%zu/7/350", size);
        curl_easy_setopt(easy[i], CURLOPT_TIMEOUT, 20L);
        MOK(curl_multi_add_handle(m, easy[i]));
      }
      run_loop((enum loop)l, m, expect_ok, N);
      for(i = 0; i < N; i++) {
        CHECK_EQ(bodies[i].len, sizes[i % NSIZES]);
        MOK(curl_multi_remove_handle(m, easy[i]));
        curl_easy_cleanup(easy[i]);
      }
      MOK(curl_multi_cleanup(m));
      if(l == LOOP_EVENTS)
        events_done();
      LOOP_PRINTF(l, "%s over %s: %d of %d\n", proto_name((enum proto)p), loop_names[l], harness_ok, (int)N);
      CHECK_EQ(harness_ok, N);
    }
  }
  return 0;
}
