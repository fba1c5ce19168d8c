/* stock: needs curl_multi_notify_enable
   libcurl 8.17's notifications and 8.16's curl_multi_get_offt, in every
   loop style: each transfer gets one CURLMNOTIFY_EASY_DONE and its message,
   every message is read inside a CURLMNOTIFY_INFO_READ callback (they are
   handed out before curl_multi_perform or socket_action returns), the
   callback may count and read but not drive or clean up, and disabled or
   unknown kinds behave as libcurl says. curlmux provides both functions on
   every libcurl; stock has them from 8.16 and 8.17. */
#define _GNU_SOURCE
#include "curlmux.h"
#include "loops.h"

typedef CURLMcode (*notify_fn)(CURLM *, unsigned int);
typedef CURLMcode (*get_offt_fn)(CURLM *, CURLMinfo_offt, curl_off_t *);
static notify_fn notify_enable, notify_disable;
static get_offt_fn get_offt;

#define N 6
static struct body bodies[N];
static CURL *easies[N];
static struct {
  int easy_done[N];
  int info_read, messages, outside, internal_null, internal_done;
  CURLMcode perform, socket_action, cleanup, count;
  curl_off_t current;
} seen;

static int index_of(CURL *e)
{
  int i;
  for(i = 0; i < N && easies[i] != e; i++)
    ;
  return i;
}

static void on_notify(CURLM *m, unsigned int kind, CURL *easy, void *data)
{
  CURLMsg *msg;
  int left, running;
  CHECK(data == &seen);
  if(kind == CURLMNOTIFY_EASY_DONE) {
    int i = index_of(easy);
    if(i < N)
      seen.easy_done[i]++;
    else
      seen.internal_done++;
    return;
  }
  CHECK_EQ(kind, CURLMNOTIFY_INFO_READ);
  seen.info_read++;
  seen.internal_null += easy == NULL;
  seen.perform = curl_multi_perform(m, &running);
  seen.socket_action = curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
  seen.cleanup = curl_multi_cleanup(m);
  seen.count = get_offt(m, CURLMINFO_XFERS_CURRENT, &seen.current);
  while((msg = curl_multi_info_read(m, &left))) {
    CHECK_EQ(msg->msg, CURLMSG_DONE);
    CHECK_EQ(msg->data.result, CURLE_OK);
    CHECK(index_of(msg->easy_handle) < N);
    seen.messages++;
  }
}

static void outside(CURL *e, CURLcode rc)
{
  (void)e;
  (void)rc;
  seen.outside++;
}

static long offt(CURLM *m, CURLMinfo_offt info)
{
  curl_off_t v = -2;
  CURLMcode rc = get_offt(m, info, &v);
  return rc == CURLM_OK ? (long)v : -100 - (long)rc;
}

static void notified(enum loop l)
{
  CURLM *m = curl_multi_init();
  int i, once = 1;
  memset(&seen, 0, sizeof(seen));
  if(l == LOOP_EVENTS)
    events_init(m);
  MOK(curl_multi_setopt(m, CURLMOPT_NOTIFYFUNCTION, on_notify));
  MOK(curl_multi_setopt(m, CURLMOPT_NOTIFYDATA, &seen));
  MOK(notify_enable(m, CURLMNOTIFY_INFO_READ));
  MOK(notify_enable(m, CURLMNOTIFY_EASY_DONE));
  MOK(notify_enable(m, CURLMNOTIFY_EASY_DONE));
  for(i = 0; i < N; i++) {
    easies[i] = new_transfer(&bodies[i], "/delay/%d/%d", 50 * (i % 3), 100 + i);
    MOK(curl_multi_add_handle(m, easies[i]));
  }
  run_loop(l, m, outside, N);
  for(i = 0; i < N; i++) {
    once &= seen.easy_done[i] == 1;
    CHECK_EQ(bodies[i].len, (size_t)(100 + i));
  }
  LOOP_PRINTF(l, "%s: EASY_DONE once each: %d, messages in INFO_READ: %d, outside: %d, INFO_READ at least once: %d, "
              "no more than messages: %d, internal handle given: %d\n",
              loop_names[l], once, seen.messages, seen.outside, seen.info_read >= 1, seen.info_read <= seen.messages,
              seen.internal_null == 0);
  LOOP_PRINTF(l, "%s: inside INFO_READ: perform %d, socket_action %d, cleanup %d, get_offt %d (current %ld)\n",
              loop_names[l], seen.perform, seen.socket_action, seen.cleanup, seen.count, (long)seen.current);
  LOOP_PRINTF(l, "%s: current %ld, running %ld, done %ld, added %ld\n", loop_names[l],
              offt(m, CURLMINFO_XFERS_CURRENT), offt(m, CURLMINFO_XFERS_RUNNING), offt(m, CURLMINFO_XFERS_DONE),
              offt(m, CURLMINFO_XFERS_ADDED));
  for(i = 0; i < N; i++) {
    MOK(curl_multi_remove_handle(m, easies[i]));
    curl_easy_cleanup(easies[i]);
  }
  LOOP_PRINTF(l, "%s: after removing all: current %ld, done %ld, added %ld\n", loop_names[l],
              offt(m, CURLMINFO_XFERS_CURRENT), offt(m, CURLMINFO_XFERS_DONE), offt(m, CURLMINFO_XFERS_ADDED));
  MOK(curl_multi_cleanup(m));
  if(l == LOOP_EVENTS)
    events_done();
}

/* Only INFO_READ enabled, and EASY_DONE disabled again: no EASY_DONE. */
static void only_info_read(void)
{
  CURLM *m = curl_multi_init();
  int i, any = 0;
  memset(&seen, 0, sizeof(seen));
  MOK(curl_multi_setopt(m, CURLMOPT_NOTIFYFUNCTION, on_notify));
  MOK(curl_multi_setopt(m, CURLMOPT_NOTIFYDATA, &seen));
  MOK(notify_enable(m, CURLMNOTIFY_EASY_DONE));
  MOK(notify_disable(m, CURLMNOTIFY_EASY_DONE));
  MOK(notify_disable(m, CURLMNOTIFY_EASY_DONE));
  MOK(notify_enable(m, CURLMNOTIFY_INFO_READ));
  for(i = 0; i < 3; i++) {
    easies[i] = new_transfer(&bodies[i], "/bytes/%d", 10 + i);
    MOK(curl_multi_add_handle(m, easies[i]));
  }
  run_loop(LOOP_WAIT, m, outside, 3);
  for(i = 0; i < N; i++)
    any += seen.easy_done[i];
  printf("EASY_DONE disabled: %d seen; messages in INFO_READ: %d\n", any, seen.messages);
  for(i = 0; i < 3; i++) {
    MOK(curl_multi_remove_handle(m, easies[i]));
    curl_easy_cleanup(easies[i]);
  }
  MOK(curl_multi_cleanup(m));
}

/* A name resolved over DoH (the local server answers NXDOMAIN): libcurl
   runs its probes as internal transfers. Stock 8.17 and later queue an
   EASY_DONE for each probe too and drop it if the probe is gone when
   notices are handed out: 8.19 and 8.21 always do in this loop, 8.22 and
   8.23 as the timing falls. curlmux never reports libcurl's internal
   transfers, so only the application's own EASY_DONE is compared. */
static CURLcode doh_result = CURLE_OK;
static void doh_done(CURL *e, CURLcode rc)
{
  (void)e;
  doh_result = rc;
}

static void doh(void)
{
  char doh_url[300], url[300];
  CURLM *m = doh_multi_init();
  memset(&seen, 0, sizeof(seen));
  MOK(curl_multi_setopt(m, CURLMOPT_NOTIFYFUNCTION, on_notify));
  MOK(curl_multi_setopt(m, CURLMOPT_NOTIFYDATA, &seen));
  MOK(notify_enable(m, CURLMNOTIFY_EASY_DONE));
  easies[0] = new_transfer(&bodies[0], "/");
  snprintf(doh_url, sizeof(doh_url), "%s/dns-query", env_or_die("CURLMUX_TEST_TLS_URL"));
  snprintf(url, sizeof(url), "http://no-such-host.example.invalid/");
  curl_easy_setopt(easies[0], CURLOPT_URL, url);
  curl_easy_setopt(easies[0], CURLOPT_DOH_URL, doh_url);
  curl_easy_setopt(easies[0], CURLOPT_CAINFO, env_or_die("CURLMUX_TEST_CA"));
  MOK(curl_multi_add_handle(m, easies[0]));
  run_loop(LOOP_WAIT, m, doh_done, 1);
  printf("DoH: result %d, EASY_DONE for the transfer %d\n", doh_result, seen.easy_done[0]);
  if(curlmux_symbol("curlmux_version"))
    CHECK_EQ(seen.internal_done, 0);
  MOK(curl_multi_remove_handle(m, easies[0]));
  curl_easy_cleanup(easies[0]);
  MOK(curl_multi_cleanup(m));
}

int main(void)
{
  CURLM *m;
  curl_off_t v = 7;
  int l;

  harness_init();
  notify_enable = (notify_fn)newer_symbol("curl_multi_notify_enable");
  notify_disable = (notify_fn)newer_symbol("curl_multi_notify_disable");
  get_offt = (get_offt_fn)newer_symbol("curl_multi_get_offt");
  if(!notify_enable || !notify_disable || !get_offt) {
    fprintf(stderr, "curl_multi_notify_enable, _disable or curl_multi_get_offt is not available\n");
    return 1;
  }
  m = curl_multi_init();
  printf("unknown kind: enable %d, disable %d\n", notify_enable(m, 2), notify_disable(m, 99));
  printf("get_offt: NULL value %d, unknown info %d", get_offt(m, CURLMINFO_XFERS_CURRENT, NULL),
         get_offt(m, (CURLMinfo_offt)99, &v));
  printf(" (value %ld), NULL multi %d\n", (long)v, get_offt(NULL, CURLMINFO_XFERS_CURRENT, &v));
  printf("empty multi: current %ld, added %ld\n", offt(m, CURLMINFO_XFERS_CURRENT), offt(m, CURLMINFO_XFERS_ADDED));
  printf("NULL multi: enable %d, disable %d\n", notify_enable(NULL, 0), notify_disable(NULL, 0));
  MOK(curl_multi_cleanup(m));
  for(l = LOOP_SELECT; l <= LOOP_EVENTS; l++) {
    if(loop_runs((enum loop)l))
      notified((enum loop)l);
  }
  only_info_read();
  doh();
  return 0;
}
