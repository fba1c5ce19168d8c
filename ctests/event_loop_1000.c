/* An application event loop on epoll + timerfd driving 1,000 transfers with
   CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION / curl_multi_socket_action
   (libcurl's ephiperfifo.c shape), mixing HTTP/1.1, HTTPS/1.1 and HTTP/2
   over TLS, and a few servers that never answer before CURLOPT_TIMEOUT_MS.
   (h2c is left to http2.c: libcurl 7.88.1 itself stalls some h2c transfers
   in an event loop.)
   The callbacks must get the application's own multi handle, valid
   CURL_POLL_* values and the socketp set with curl_multi_assign. The
   deprecated curl_multi_socket and curl_multi_socket_all still work. */
#define CURL_ALLOW_OLD_MULTI_SOCKET
#include "loops.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define N 1000

struct expect {
  struct body body;
  enum proto proto;
  size_t len;
  CURLcode result;
  int seen;
};
static struct expect ex[N];
static int ok[4], timeouts;

static void on_done(CURL *e, CURLcode rc)
{
  struct expect *x;
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x), CURLE_OK);
  CHECK_EQ(rc, x->result);
  CHECK_EQ(x->seen, 0);
  x->seen = 1;
  if(rc == CURLE_OK) {
    CHECK_EQ(x->body.len, x->len);
    CHECK(!x->body.mismatch);
    ok[x->proto]++;
  }
  else
    timeouts++;
}

int main(void)
{
  static const size_t sizes[] = {0, 100, 5000, 40000, 150000};
  CURL *easy[N];
  CURLM *m;
  int i, running = -1;

  harness_init();
  m = curl_multi_init();
  CHECK(m != NULL);
  events_init(m);
  for(i = 0; i < N; i++) {
    struct expect *x = &ex[i];
    static const enum proto mix[] = {HTTP1, HTTPS1, HTTPS2};
    x->proto = mix[i % 3];
    x->len = sizes[i % 5];
    if(i % 100 == 99) {
      easy[i] = new_transfer_p(x->proto, &x->body, "/hang");
      curl_easy_setopt(easy[i], CURLOPT_TIMEOUT_MS, 400L);
      x->result = CURLE_OPERATION_TIMEDOUT;
    }
    else if(i % 7 == 3)
      easy[i] = new_transfer_p(x->proto, &x->body, "/trickle/%zu/3/300", x->len);
    else
      easy[i] = new_transfer_p(x->proto, &x->body, "/bytes/%zu", x->len);
    curl_easy_setopt(easy[i], CURLOPT_PRIVATE, x);
    MOK(curl_multi_add_handle(m, easy[i]));
  }
  /* the deprecated entry points, as old binaries call them */
  MOK(curl_multi_socket_all(m, &running));
  MOK(curl_multi_socket(m, CURL_SOCKET_TIMEOUT, &running));
  /* Under load these calls can take long enough for everything to end in them. */
  CHECK(running >= 0 && running <= N);
  run_loop(LOOP_EVENTS, m, on_done, running);
  for(i = 0; i < N; i++) {
    CHECK_EQ(ex[i].seen, 1);
    MOK(curl_multi_remove_handle(m, easy[i]));
    curl_easy_cleanup(easy[i]);
  }
  MOK(curl_multi_cleanup(m));
  events_done();
  for(i = 0; i < 4; i++)
    if(i != HTTP2C)
      printf("%s ok: %d\n", proto_name((enum proto)i), ok[i]);
  printf("timed out: %d\n", timeouts);
  printf("callbacks saw the application's multi and socketp: yes\n");
  return 0;
}
