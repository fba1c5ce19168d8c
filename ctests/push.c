/* HTTP/2 server push: with CURLMOPT_PUSHFUNCTION/PUSHDATA set, curlmux must
   give what libcurl gives. The server offers PUSHES pushes; an accepted
   pushed easy becomes a transfer of the multi (its message arrives, it can
   be removed and cleaned up). Debian's libcurl 7.88.1 advertises
   SETTINGS_ENABLE_PUSH=0 even with a push callback set (seen on the wire),
   so there it refuses every push and the callback never runs: the counts
   printed are then 0 pushes and 1 message, the same under curlmux.
   Before 8.22 push over h2c goes wrong in libcurl itself, stock and curlmux
   alike: 7.61's main transfer never ends (CURLE_OPERATION_TIMEDOUT), 8.12's
   fails with CURLE_RECV_ERROR, and how many pushes are accepted varies run
   by run; there the transfers get 5 s, and what is printed is the main
   result and that every accepted push got exactly one message. 8.22 and
   8.23 receive every pushed body: each message's result is printed. */
#include "loops.h"

#define PUSHES 3
static struct body main_body, pushed_bodies[PUSHES];
static CURL *pushed[PUSHES];
static int npushed, messages, push_data;
static int results[1 + PUSHES]; /* CURLcode per message: the main transfer's first */

static int on_push(CURL *parent, CURL *easy, size_t num_headers, struct curl_pushheaders *headers, void *userp)
{
  char *path = curl_pushheader_byname(headers, ":path");
  CHECK(userp == &push_data);
  CHECK(parent != NULL && easy != NULL && num_headers > 0);
  CHECK(path != NULL && strncmp(path, "/pushed/", 8) == 0);
  CHECK(npushed < PUSHES);
  memset(&pushed_bodies[npushed], 0, sizeof(pushed_bodies[0]));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, body_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &pushed_bodies[npushed]);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, &pushed_bodies[npushed]);
  pushed[npushed++] = easy;
  return CURL_PUSH_OK;
}

static void on_done(CURL *e, CURLcode rc)
{
  struct body *b;
  CHECK(messages < 1 + PUSHES);
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&b), CURLE_OK);
  results[b == &main_body ? 0 : 1 + (b - pushed_bodies)] = rc;
  if(rc == CURLE_OK) {
    CHECK_EQ(b->len, 1000);
    CHECK(!b->mismatch);
  }
  messages++;
}

int main(void)
{
  char url[300];
  CURLM *m;
  CURL *e;
  int i, running = -1, l;

  harness_init();
  for(l = LOOP_SELECT; l <= LOOP_EVENTS; l++) {
    if(!loop_runs((enum loop)l))
      continue;
    npushed = messages = 0;
    memset(results, -1, sizeof(results));
    m = curl_multi_init();
    CHECK(m != NULL);
    if(l == LOOP_EVENTS)
      events_init(m);
    MOK(curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX));
    MOK(curl_multi_setopt(m, CURLMOPT_PUSHFUNCTION, on_push));
    MOK(curl_multi_setopt(m, CURLMOPT_PUSHDATA, &push_data));
    e = new_transfer_p(HTTP2C, &main_body, "/unused");
    snprintf(url, sizeof(url), "%s/push/%d/1000", env_or_die("CURLMUX_TEST_PUSH_URL"), PUSHES);
    curl_easy_setopt(e, CURLOPT_URL, url);
    if(!libcurl_delivers_pushes())
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    MOK(curl_multi_add_handle(m, e));
    run_loop((enum loop)l, m, on_done, 1);
    MOK(curl_multi_perform(m, &running));
    CHECK_EQ(running, 0);
    CHECK(npushed <= PUSHES);
    CHECK_EQ(messages, 1 + npushed);
    for(i = 0; i < npushed; i++) {
      MOK(curl_multi_remove_handle(m, pushed[i]));
      curl_easy_cleanup(pushed[i]);
    }
    MOK(curl_multi_remove_handle(m, e));
    curl_easy_cleanup(e);
    MOK(curl_multi_cleanup(m));
    if(l == LOOP_EVENTS)
      events_done();
    if(libcurl_delivers_pushes()) {
      LOOP_PRINTF(l, "%s: pushed %d, messages %d, results", loop_names[l], npushed, messages);
      for(i = 0; i < messages; i++)
        printf(" %d", results[i]);
      printf("\n");
    }
    else
      LOOP_PRINTF(l, "%s: main result %d, one message per accepted push %d\n", loop_names[l], results[0],
                  messages == 1 + npushed);
  }
  return 0;
}
