/* 200 transfers of mixed sizes and outcomes (bodies, slow bodies, redirects,
   404/500, connections reset mid-body, refused connections, servers that
   never answer before CURLOPT_TIMEOUT_MS), driven by a
   perform + wait loop. Every body and every result code is checked. */
#include "harness.h"

#define N 200

struct expect {
  struct body body;
  long status;      /* expected HTTP status, 0 when no response */
  CURLcode result;  /* expected CURLcode */
  size_t len;       /* expected body length */
  int seen;
};
static struct expect ex[N];
static int counts[100];

static void on_done(CURL *e, CURLcode rc)
{
  struct expect *x;
  long status = 0;
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x), CURLE_OK);
  CHECK_EQ(rc, x->result);
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
  CHECK_EQ(status, x->status);
  if(rc == CURLE_OK)
    CHECK_EQ(x->body.len, x->len);
  CHECK(!x->body.mismatch);
  CHECK_EQ(x->seen, 0);
  x->seen = 1;
  counts[rc < 100 ? rc : 99]++;
}

static CURL *plan(int i)
{
  static const size_t sizes[] = {0, 1, 1500, 70000, 600000};
  struct expect *x = &ex[i];
  const char *closed = getenv("CURLMUX_TEST_CLOSED_PORT");
  size_t size = sizes[i % 5];
  CURL *e;
  x->status = 200;
  x->result = CURLE_OK;
  x->len = size;
  if(i % 50 == 24) {
    e = new_transfer(&x->body, "/hang");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 200L + i);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    x->result = CURLE_OPERATION_TIMEDOUT;
    x->status = 0;
    return e;
  }
  switch(i % 10) {
  case 4:
    e = new_transfer(&x->body, "/delay/%d/%zu", 20 + i % 150, size);
    break;
  case 5:
    e = new_transfer(&x->body, "/trickle/%zu/4/120", size);
    break;
  case 6:
    e = new_transfer(&x->body, "/status/%d", i % 20 ? 404 : 500);
    x->body.text = 1;
    x->status = i % 20 ? 404 : 500;
    x->len = 11;
    break;
  case 7:
    e = new_transfer(&x->body, "/reset/%d", 5000 + i);
    x->result = CURLE_PARTIAL_FILE;
    break;
  case 8:
    e = new_transfer(&x->body, "/redirect/2/%zu", size);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    break;
  default:
    e = new_transfer(&x->body, "/bytes/%zu", size);
  }
  if(i % 50 == 49) {
    char url[64];
    CHECK(closed != NULL);
    snprintf(url, sizeof(url), "http://127.0.0.1:%s/bytes/10", closed);
    curl_easy_setopt(e, CURLOPT_URL, url);
    x->result = CURLE_COULDNT_CONNECT;
    x->status = 0;
  }
  curl_easy_setopt(e, CURLOPT_PRIVATE, x);
  return e;
}

int main(void)
{
  CURL *easy[N];
  CURLM *m;
  int i, running = 0, numfds;

  harness_init();
  m = curl_multi_init();
  CHECK(m != NULL);
  for(i = 0; i < N; i++) {
    easy[i] = plan(i);
    MOK(curl_multi_add_handle(m, easy[i]));
  }
  MOK(curl_multi_perform(m, &running));
  while(running) {
    MOK(curl_multi_wait(m, NULL, 0, 1000, &numfds));
    MOK(curl_multi_perform(m, &running));
    drain_messages(m, on_done);
  }
  drain_messages(m, on_done);
  for(i = 0; i < N; i++) {
    CHECK_EQ(ex[i].seen, 1);
    MOK(curl_multi_remove_handle(m, easy[i]));
    curl_easy_cleanup(easy[i]);
  }
  MOK(curl_multi_cleanup(m));
  for(i = 0; i < 100; i++)
    if(counts[i])
      printf("result %d (%s): %d\n", i, curl_easy_strerror((CURLcode)i), counts[i]);
  return 0;
}
