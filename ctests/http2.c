/* HTTP/2 multiplexing: many transfers share one connection over TLS with
   ALPN, in every loop style; CURLMOPT_MAX_CONCURRENT_STREAMS bounds the
   streams per connection. h2c with prior knowledge runs one connection per
   transfer (libcurl 7.88.1 cannot multiplex it: see harness.h). */
#include "loops.h"

#define N 40
static struct body bodies[N];
static int ok;

static void on_done(CURL *e, CURLcode rc)
{
  struct body *b;
  long version = 0;
  CHECK_EQ(rc, CURLE_OK);
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&b), CURLE_OK);
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version), CURLE_OK);
  CHECK_EQ(version, CURL_HTTP_VERSION_2_0);
  CHECK(!b->mismatch);
  ok++;
}

static int connections(enum proto p, long max_streams, enum loop l)
{
  CURL *easy[N];
  long ports[N];
  CURLM *m = curl_multi_init();
  int i, j, distinct = 0;
  CHECK(m != NULL);
  if(l == LOOP_EVENTS)
    events_init(m);
  MOK(curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX));
  if(max_streams)
    MOK(curl_multi_setopt(m, CURLMOPT_MAX_CONCURRENT_STREAMS, max_streams));
  ok = 0;
  for(i = 0; i < N; i++) {
    easy[i] = new_transfer_p(p, &bodies[i], "/delay/300/%d", 1000 + i);
    /* wait for the first connection to say it multiplexes */
    if(p == HTTPS2)
      curl_easy_setopt(easy[i], CURLOPT_PIPEWAIT, 1L);
    MOK(curl_multi_add_handle(m, easy[i]));
  }
  run_loop(l, m, on_done, N);
  CHECK_EQ(ok, N);
  for(i = 0; i < N; i++) {
    CHECK_EQ(bodies[i].len, (size_t)(1000 + i));
    CHECK_EQ(curl_easy_getinfo(easy[i], CURLINFO_LOCAL_PORT, &ports[i]), CURLE_OK);
    for(j = 0; j < i && ports[j] != ports[i]; j++)
      ;
    distinct += j == i;
    MOK(curl_multi_remove_handle(m, easy[i]));
    curl_easy_cleanup(easy[i]);
  }
  MOK(curl_multi_cleanup(m));
  if(l == LOOP_EVENTS)
    events_done();
  return distinct;
}

int main(void)
{
  int l;
  harness_init();
  for(l = LOOP_SELECT; l <= LOOP_EVENTS; l++) {
    printf("%s: https/h2 connections for %d streams: %d\n", loop_names[l], N, connections(HTTPS2, 0, (enum loop)l));
    printf("%s: h2c transfers done: %d\n", loop_names[l], connections(HTTP2C, 0, (enum loop)l) == N ? N : -1);
  }
  printf("https/h2 with MAX_CONCURRENT_STREAMS 10: at least 4 connections: %d\n",
         connections(HTTPS2, 10, LOOP_POLL) >= 4);
  return 0;
}
