/* Misuse gets libcurl 7.88's answers: NULL and foreign handles, NULL easies, adding twice,
   removing from the wrong multi, unknown options, negative timeouts, calls
   from inside a transfer callback, cleanup with easies still attached. */
#include "harness.h"

static CURLM *cb_multi;
static CURL *cb_self, *cb_other;
static int cb_done;

static size_t call_api_from_write(char *data, size_t size, size_t n, void *userp)
{
  CURLM *m = cb_multi;
  int running, numfds, maxfd, q = -1;
  long ms;
  fd_set r, w, x;
  (void)data;
  (void)userp;
  if(cb_done++)
    return size * n;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_ZERO(&x);
  printf("in write callback:\n");
  printf(" add other    %d\n", curl_multi_add_handle(m, cb_other));
  printf(" add self     %d\n", curl_multi_add_handle(m, cb_self));
  printf(" remove self  %d\n", curl_multi_remove_handle(m, cb_self));
  printf(" remove other %d\n", curl_multi_remove_handle(m, cb_other));
  printf(" perform      %d\n", curl_multi_perform(m, &running));
  printf(" fdset        %d\n", curl_multi_fdset(m, &r, &w, &x, &maxfd));
  printf(" wait         %d\n", curl_multi_wait(m, NULL, 0, 0, &numfds));
  if(HAVE_NEWER)
    NEWER_PRINTF(" poll         %d\n", curl_multi_poll(m, NULL, 0, 0, &numfds));
  printf(" timeout      %d\n", curl_multi_timeout(m, &ms));
  printf(" setopt       %d\n", curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 5L));
  printf(" cleanup      %d\n", curl_multi_cleanup(m));
  printf(" info_read    %s\n", curl_multi_info_read(m, &q) ? "message" : "NULL");
  printf(" queued       %d\n", q);
  if(HAVE_NEWER)
    NEWER_PRINTF(" wakeup       %d\n", curl_multi_wakeup(m));
  return size * n;
}

int main(void)
{
  struct body b1, b2, b3;
  CURLM *m, *m2;
  CURL *e, *never, *e2;
  CURLMsg *msg;
  int running = -1, numfds, q = -1;
  long ms;

  harness_init();
  e = new_transfer(&b1, "/delay/200/100");
  never = new_transfer(&b2, "/bytes/100");

  /* NULL multi, and a foreign pointer that is no multi (readable memory):
     libcurl checks its magic number; curlmux passes what it did not make
     to libcurl. */
  expect_bad_handle(NULL, e);
  /* socket_action and assign on NULL: libcurl reads the multi before
     checking it, and crashes, in socket_action before 8.22 (its call
     guards) and in assign before 8.11; curlmux answers CURLM_BAD_HANDLE on
     every libcurl, as the later ones do. */
  if(curlmux_symbol("curlmux_version") || libcurl_call_guards())
    CHECK_EQ(curl_multi_socket_action(NULL, CURL_SOCKET_TIMEOUT, 0, &running), CURLM_BAD_HANDLE);
  if(curlmux_symbol("curlmux_version") || libcurl_assign_checks_handle())
    CHECK_EQ(curl_multi_assign(NULL, 3, NULL), CURLM_BAD_HANDLE);
  {
    static long fake[512];
    expect_bad_handle((CURLM *)fake, e);
  }

  m = curl_multi_init();
  m2 = curl_multi_init();
  CHECK(m && m2);

  /* NULL easy, added twice, wrong multi, never added, removed twice */
  CHECK_EQ(curl_multi_add_handle(m, NULL), CURLM_BAD_EASY_HANDLE);
  CHECK_EQ(curl_multi_remove_handle(m, NULL), CURLM_BAD_EASY_HANDLE);
  MOK(curl_multi_add_handle(m, e));
  CHECK_EQ(curl_multi_add_handle(m, e), CURLM_ADDED_ALREADY);
  CHECK_EQ(curl_multi_add_handle(m2, e), CURLM_ADDED_ALREADY);
  /* libcurl checks which multi an easy is in since 7.70; 7.61 says OK. */
  printf("remove from the wrong multi: %d\n", curl_multi_remove_handle(m2, e));
  MOK(curl_multi_remove_handle(m, never));
  MOK(curl_multi_remove_handle(m, e));
  MOK(curl_multi_remove_handle(m, e));

  /* options and arguments */
  CHECK_EQ(curl_multi_setopt(m, (CURLMoption)9999, 1L), CURLM_UNKNOWN_OPTION);
  MOK(curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 10L));
  MOK(curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 4L));
  MOK(curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 8L));
  MOK(curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX));
  /* libcurl 7.67's option: 7.61 does not know it. */
  printf("MAX_CONCURRENT_STREAMS: %d\n", curl_multi_setopt(m, CURLMOPT_MAX_CONCURRENT_STREAMS, 50L));
  MOK(curl_multi_setopt(m, CURLMOPT_MAX_PIPELINE_LENGTH, 5L));
  MOK(curl_multi_setopt(m, CURLMOPT_CONTENT_LENGTH_PENALTY_SIZE, (curl_off_t)1000));
  MOK(curl_multi_setopt(m, CURLMOPT_PIPELINING_SITE_BL, NULL));
  /* A negative timeout is refused since 7.69; 7.61 waits (here: nothing to wait on). */
  printf("wait with a negative timeout: %d\n", curl_multi_wait(m, NULL, 0, -5, &numfds));
  if(HAVE_NEWER)
    CHECK_EQ(curl_multi_poll(m, NULL, 0, -5, &numfds), CURLM_BAD_FUNCTION_ARGUMENT);
  MOK(curl_multi_timeout(m, &ms));
  CHECK_EQ(ms, -1);
  CHECK(strcmp(curl_multi_strerror(CURLM_BAD_HANDLE), "Invalid multi handle") == 0);
  CHECK(strcmp(curl_multi_strerror(CURLM_ADDED_ALREADY),
               "The easy handle is already added to a multi handle") == 0);
  CHECK(strcmp(curl_multi_strerror((CURLMcode)777), "Unknown error") == 0);

  /* From inside a write callback: libcurl's answers, in its order of checks. */
  cb_multi = m;
  cb_self = e;
  cb_other = never;
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, call_api_from_write);
  MOK(curl_multi_add_handle(m, e));
  run_until_done(m);
  CHECK_EQ(cb_done > 0, 1);
  msg = curl_multi_info_read(m, &q);
  CHECK(msg != NULL);
  CHECK(msg->easy_handle == e);
  CHECK_EQ(msg->data.result, CURLE_OK);
  MOK(curl_multi_remove_handle(m, e));

  /* Cleanup detaches attached easies without freeing them: they run again. */
  e2 = new_transfer(&b3, "/delay/200/5000");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &b1);
  memset(&b1, 0, sizeof(b1));
  MOK(curl_multi_add_handle(m, e));
  MOK(curl_multi_add_handle(m, e2));
  MOK(curl_multi_perform(m, &running));
  CHECK_EQ(running, 2);
  /* added, never driven: libcurl 7.88 leaves its start timer behind at cleanup */
  MOK(curl_multi_add_handle(m, never));
  MOK(curl_multi_cleanup(m));
  memset(&b1, 0, sizeof(b1));
  memset(&b2, 0, sizeof(b2));
  memset(&b3, 0, sizeof(b3));
  MOK(curl_multi_add_handle(m2, e));
  MOK(curl_multi_add_handle(m2, e2));
  MOK(curl_multi_add_handle(m2, never));
  run_until_done(m2);
  CHECK_EQ(b1.len, 100);
  CHECK_EQ(b2.len, 100);
  CHECK_EQ(b3.len, 5000);
  CHECK(!b1.mismatch && !b2.mismatch && !b3.mismatch);
  MOK(curl_multi_remove_handle(m2, e));
  MOK(curl_multi_remove_handle(m2, e2));
  MOK(curl_multi_remove_handle(m2, never));
  MOK(curl_multi_cleanup(m2));
  curl_easy_cleanup(e);
  curl_easy_cleanup(e2);
  curl_easy_cleanup(never);
  printf("misuse answers as listed\n");
  return 0;
}
