/* HTTP/2 multiplexing: many transfers share one connection over TLS with
   ALPN, in every loop style; CURLMOPT_MAX_CONCURRENT_STREAMS bounds the
   streams per connection. h2c with prior knowledge, one connection per
   transfer, and from libcurl 8.0 on also multiplexed over one reused
   connection (before 8.0 libcurl fails every stream after the first there:
   curl commit cbe9d82c22, and harness.h). */
#include "loops.h"

#define N 40
static struct body bodies[N];
static int ok;

static void on_done(CURL *e, CURLcode rc)
{
  struct body *b;
  long version = 0;
  CHECK_DONE(e, rc);
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&b), CURLE_OK);
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version), CURLE_OK);
  CHECK_EQ(version, CURL_HTTP_VERSION_2_0);
  CHECK(!b->mismatch);
  ok++;
}

/* With `shared`, h2c transfers may reuse one connection (harness.h forbids it). */
static int connections(enum proto p, long max_streams, enum loop l, int shared)
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
    CHECK_EQ(curl_multi_setopt(m, CURLMOPT_MAX_CONCURRENT_STREAMS, max_streams), CURLM_OK);
  ok = 0;
  for(i = 0; i < N; i++) {
    easy[i] = new_transfer_p(p, &bodies[i], "/delay/300/%d", 1000 + i);
    /* wait for the first connection to say it multiplexes */
    if(p == HTTPS2 || shared)
      curl_easy_setopt(easy[i], CURLOPT_PIPEWAIT, 1L);
    if(shared) {
      curl_easy_setopt(easy[i], CURLOPT_FRESH_CONNECT, 0L);
      curl_easy_setopt(easy[i], CURLOPT_FORBID_REUSE, 0L);
    }
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
    int conns;
    if(!loop_runs((enum loop)l))
      continue;
    conns = connections(HTTPS2, 0, (enum loop)l, 0);
    /* 7.61's PIPEWAIT does not always wait for the first connection: stock
       opens one to three connections for the 40 streams here, and more when
       driven by socket_action (as curlmux drives it): only that all 40
       finish over h2 is 7.61's fact. */
    if(!libcurl_pipewait_waits())
      LOOP_PRINTF(l, "%s: https/h2 streams done: %d\n", loop_names[l], conns >= 1 ? ok : -1);
    else
      LOOP_PRINTF(l, "%s: https/h2 connections for %d streams: %d\n", loop_names[l], N, conns);
    LOOP_PRINTF(l, "%s: h2c transfers done: %d\n", loop_names[l],
                connections(HTTP2C, 0, (enum loop)l, 0) == N ? N : -1);
    if(libcurl_h2c_multiplexes())
      LOOP_PRINTF(l, "%s: h2c connections for %d streams: %d\n", loop_names[l], N,
                  connections(HTTP2C, 0, (enum loop)l, 1));
    else
      LOOP_PRINTF(l, "%s: h2c over one connection: not before libcurl 8.0\n", loop_names[l]);
  }
  {
    /* libcurl 7.67's option: 7.61 does not know it. */
    CURLM *probe = curl_multi_init();
    CURLMcode known = curl_multi_setopt(probe, CURLMOPT_MAX_CONCURRENT_STREAMS, 10L);
    MOK(curl_multi_cleanup(probe));
    printf("MAX_CONCURRENT_STREAMS: %d\n", known);
    if(known == CURLM_OK)
      printf("https/h2 with MAX_CONCURRENT_STREAMS 10: at least 4 connections: %d\n",
             connections(HTTPS2, 10, LOOP_WAIT, 0) >= 4);
  }
  return 0;
}
