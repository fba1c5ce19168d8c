/* Faults in every loop style, each ending in exactly one completion message
   with libcurl's own code: a name that does not resolve (DNS over HTTPS from
   the local server answers NXDOMAIN; libcurl runs its DoH probes as internal
   transfers on the same multi), a server that closes keep-alive connections
   between transfers, resets mid-body, refused connections. */
#include "loops.h"

#define N 12
struct expect {
  struct body body;
  CURLcode result;
  int seen;
};
static struct expect ex[N];

static void on_done(CURL *e, CURLcode rc)
{
  struct expect *x;
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x), CURLE_OK);
  CHECK_EQ(rc, x->result);
  CHECK_EQ(x->seen, 0);
  x->seen = 1;
}

int main(void)
{
  char doh[300], url[300];
  int l, i;

  harness_init();
  snprintf(doh, sizeof(doh), "%s/dns-query", env_or_die("CURLMUX_TEST_TLS_URL"));
  for(l = LOOP_SELECT; l <= LOOP_EVENTS; l++) {
    CURL *e[N];
    CURLM *m;
    int counts[100] = {0};
    if(!loop_runs((enum loop)l))
      continue;
    m = doh_multi_init();
    if(l == LOOP_EVENTS)
      events_init(m);
    for(i = 0; i < N; i++) {
      struct expect *x = &ex[i];
      switch(i % 4) {
      case 0: /* DNS failure */
        e[i] = new_transfer(&x->body, "/bytes/10");
        snprintf(url, sizeof(url), "http://no-such-host-%d.example.invalid/", i);
        curl_easy_setopt(e[i], CURLOPT_URL, url);
        curl_easy_setopt(e[i], CURLOPT_DOH_URL, doh);
        curl_easy_setopt(e[i], CURLOPT_CAINFO, env_or_die("CURLMUX_TEST_CA"));
        x->result = CURLE_COULDNT_RESOLVE_HOST;
        break;
      case 1: /* the server closes every connection after its response */
        e[i] = new_transfer(&x->body, "/close/%d", 1000 + i);
        x->result = CURLE_OK;
        break;
      case 2:
        e[i] = new_transfer(&x->body, "/reset/%d", 3000 + i);
        x->result = CURLE_PARTIAL_FILE;
        break;
      default:
        e[i] = new_transfer(&x->body, "/bytes/10");
        snprintf(url, sizeof(url), "http://127.0.0.1:%s/", env_or_die("CURLMUX_TEST_CLOSED_PORT"));
        curl_easy_setopt(e[i], CURLOPT_URL, url);
        x->result = CURLE_COULDNT_CONNECT;
      }
      x->seen = 0;
      curl_easy_setopt(e[i], CURLOPT_PRIVATE, x);
      MOK(curl_multi_add_handle(m, e[i]));
    }
    run_loop((enum loop)l, m, on_done, N);
    for(i = 0; i < N; i++) {
      CHECK_EQ(ex[i].seen, 1);
      counts[ex[i].result]++;
      MOK(curl_multi_remove_handle(m, e[i]));
      curl_easy_cleanup(e[i]);
    }
    MOK(curl_multi_cleanup(m));
    if(l == LOOP_EVENTS)
      events_done();
    LOOP_PRINTF(l, "%s: ok %d, no such host %d, reset %d, refused %d\n", loop_names[l], counts[CURLE_OK],
           counts[CURLE_COULDNT_RESOLVE_HOST], counts[CURLE_PARTIAL_FILE], counts[CURLE_COULDNT_CONNECT]);
  }
  /* Closed keep-alive connections between sequential transfers of one multi. */
  {
    struct body b;
    CURLM *m = curl_multi_init();
    CURL *e = new_transfer(&b, "/close/500");
    long connects, total = 0;
    for(i = 0; i < 5; i++) {
      int running = 1, numfds;
      CURLMsg *msg;
      memset(&b, 0, sizeof(b));
      MOK(curl_multi_add_handle(m, e));
      while(running) {
        MOK(curl_multi_perform(m, &running));
        MOK(curl_multi_wait(m, NULL, 0, 1000, &numfds));
      }
      msg = curl_multi_info_read(m, &numfds);
      CHECK(msg && msg->data.result == CURLE_OK);
      CHECK_EQ(b.len, 500);
      CHECK_EQ(curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects), CURLE_OK);
      total += connects;
      MOK(curl_multi_remove_handle(m, e));
    }
    curl_easy_cleanup(e);
    MOK(curl_multi_cleanup(m));
    printf("sequential transfers on closing server: new connections %ld\n", total);
  }
  return 0;
}
