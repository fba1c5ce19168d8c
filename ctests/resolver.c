/* Names, in every loop style: `localhost` (libcurl answers it itself from
   7.78 on; 7.61 asks its threaded resolver), a name pinned with
   CURLOPT_RESOLVE (the DNS cache, no lookup), and names that cannot
   resolve: a 64-character label, which the threaded resolver's getaddrinfo
   rejects without sending a query. Each such name is asked once: 8.16 to
   8.19 cache a failed name, and a transfer still resolving the same name
   then takes that entry for an answer and fails to connect (7) instead,
   with or without curlmux, as the timing falls. 8.20 and 8.21's resolver threads tell the
   multi with curl_multi_wakeup; 7.61 polls its thread on a timer. Each
   transfer ends in exactly one completion message with libcurl's code. */
#include "loops.h"

#define N 9
/* 62 letters, and two digits to make each name its own */
#define UNRESOLVABLE "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%02d.test"
struct expect {
  struct body body;
  CURLcode result, got;
  size_t len;
  int seen;
};
static struct expect ex[N];
static struct curl_slist *pinned;

static void on_done(CURL *e, CURLcode rc)
{
  struct expect *x;
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x), CURLE_OK);
  x->got = rc;
  CHECK_EQ(rc, x->result);
  CHECK_EQ(x->body.len, x->len);
  CHECK_EQ(x->body.mismatch, 0);
  CHECK_EQ(x->seen, 0);
  x->seen = 1;
}

/* The local server's port, from CURLMUX_TEST_URL (http://127.0.0.1:PORT). */
static int server_port(void)
{
  const char *colon = strrchr(test_url(), ':');
  CHECK(colon != NULL);
  return atoi(colon + 1);
}

/* Transfer `i` of a kind; `id` makes an unresolvable name unique. */
static CURL *named(struct expect *x, int kind, int i, int id, int port)
{
  char url[300];
  CURL *e = new_transfer(&x->body, "/");
  x->len = 0;
  x->result = CURLE_OK;
  switch(kind) {
  case 0:
    snprintf(url, sizeof(url), "http://localhost:%d/delay/50/%d", port, 100 + i);
    /* the server listens on 127.0.0.1 alone */
    curl_easy_setopt(e, CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V4);
    x->len = 100 + i;
    break;
  case 1:
    snprintf(url, sizeof(url), "http://pinned.curlmux.test:%d/delay/50/%d", port, 200 + i);
    curl_easy_setopt(e, CURLOPT_RESOLVE, pinned);
    x->len = 200 + i;
    break;
  default:
    snprintf(url, sizeof(url), "http://" UNRESOLVABLE ":%d/bytes/10", id, port);
    x->result = CURLE_COULDNT_RESOLVE_HOST;
  }
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, x);
  x->seen = 0;
  return e;
}

int main(void)
{
  char pin[100];
  int l, i, port;

  harness_init();
  port = server_port();
  snprintf(pin, sizeof(pin), "pinned.curlmux.test:%d:127.0.0.1", port);
  pinned = curl_slist_append(NULL, pin);
  for(l = LOOP_SELECT; l <= LOOP_EVENTS; l++) {
    CURL *e[N];
    CURLM *m;
    if(!loop_runs((enum loop)l))
      continue;
    m = curl_multi_init();
    CHECK(m != NULL);
    if(l == LOOP_EVENTS)
      events_init(m);
    for(i = 0; i < N; i++) {
      e[i] = named(&ex[i], i % 3, i, l * N + i, port);
      MOK(curl_multi_add_handle(m, e[i]));
    }
    run_loop((enum loop)l, m, on_done, N);
    for(i = 0; i < N; i++) {
      CHECK_EQ(ex[i].seen, 1);
      MOK(curl_multi_remove_handle(m, e[i]));
      curl_easy_cleanup(e[i]);
    }
    MOK(curl_multi_cleanup(m));
    if(l == LOOP_EVENTS)
      events_done();
    LOOP_PRINTF(l, "%s: localhost %d (%zu bytes), pinned %d (%zu bytes), unresolvable %d\n", loop_names[l],
                (int)ex[0].got, ex[0].body.len, (int)ex[1].got, ex[1].body.len, (int)ex[2].got);
  }
  /* One after another on one multi: each lookup starts on a multi whose
     loop is already asleep. */
  {
    CURLM *m = curl_multi_init();
    for(i = 0; i < 6; i++) {
      CURL *e = named(&ex[0], i % 3, i, 90 + i, port);
      MOK(curl_multi_add_handle(m, e));
      run_loop(i % 2 ? LOOP_WAIT : LOOP_SELECT, m, on_done, 1);
      CHECK_EQ(ex[0].seen, 1);
      MOK(curl_multi_remove_handle(m, e));
      curl_easy_cleanup(e);
    }
    MOK(curl_multi_cleanup(m));
    printf("sequential lookups on one multi: 6 of 6\n");
  }
  curl_slist_free_all(pinned);
  return 0;
}
