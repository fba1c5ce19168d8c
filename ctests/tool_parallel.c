/* stock: needs curl_multi_notify_enable
   The curl tool's --parallel loop as curl 8.17 and later write it
   (src/tool_operate.c: parallel_transfers, mnotify, check_finished,
   add_parallel_transfers): QUICK_EXIT, the notify callback and
   CURLMNOTIFY_INFO_READ set before the first transfer, finished transfers
   collected only inside the callback (each removed there, and the next ones
   added there, up to the parallel maximum counted with curl_multi_get_offt),
   the loop itself poll + perform. 200 URLs, a few of them refused; every
   body is checked, and the result is the first failure's code, which the
   tool exits with. */
#define _GNU_SOURCE
#include "curlmux.h"
#include "harness.h"

#define URLS 200
#define PARALLEL_MAX 50

typedef CURLMcode (*notify_fn)(CURLM *, unsigned int);
typedef CURLMcode (*get_offt_fn)(CURLM *, CURLMinfo_offt, curl_off_t *);
static get_offt_fn get_offt;

static struct per_transfer {
  struct body body;
  size_t want;
  CURLcode result;
  int done;
} per[URLS];

static struct parastate {
  CURLM *multi;
  int next, all_added, still_running, more_transfers, added_transfers;
  CURLcode result;
  long callbacks, max_current;
} s;

static CURL *new_per(int i)
{
  char url[200];
  CURL *e = new_transfer(&per[i].body, "/delay/%d/%d", 10 * (i % 4), 100 + i);
  per[i].want = 100 + i;
  if(i % 50 == 7) {
    snprintf(url, sizeof(url), "http://127.0.0.1:%s/", env_or_die("CURLMUX_TEST_CLOSED_PORT"));
    curl_easy_setopt(e, CURLOPT_URL, url);
    per[i].want = 0;
  }
  curl_easy_setopt(e, CURLOPT_PRIVATE, &per[i]);
  return e;
}

/* add_parallel_transfers: fills up to PARALLEL_MAX. */
static void add_parallel_transfers(void)
{
  curl_off_t nxfers = -1;
  s.added_transfers = 0;
  s.more_transfers = 0;
  MOK(get_offt(s.multi, CURLMINFO_XFERS_CURRENT, &nxfers));
  if(nxfers > s.max_current)
    s.max_current = (long)nxfers;
  if(s.all_added >= PARALLEL_MAX) {
    s.more_transfers = 1;
    return;
  }
  while(s.next < URLS && s.all_added < PARALLEL_MAX) {
    MOK(curl_multi_add_handle(s.multi, new_per(s.next)));
    s.next++;
    s.all_added++;
    s.added_transfers = 1;
  }
  s.more_transfers = s.next < URLS;
}

/* check_finished */
static void check_finished(void)
{
  CURLMsg *msg;
  int rc, checkmore = 0;
  while((msg = curl_multi_info_read(s.multi, &rc))) {
    CURL *easy = msg->easy_handle;
    CURLcode tres = msg->data.result;
    struct per_transfer *ended;
    CHECK_EQ(curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&ended), CURLE_OK);
    MOK(curl_multi_remove_handle(s.multi, easy));
    CHECK_EQ(ended->done, 0);
    ended->done = 1;
    ended->result = tres;
    curl_easy_cleanup(easy);
    s.all_added--;
    checkmore = 1;
    if(tres && !s.result)
      s.result = tres;
  }
  if(checkmore) {
    add_parallel_transfers();
    if(s.added_transfers)
      s.still_running = 1;
  }
}

static void mnotify(CURLM *multi, unsigned int notification, CURL *easy, void *user_data)
{
  (void)multi;
  (void)easy;
  CHECK(user_data == &s);
  s.callbacks++;
  if(notification == CURLMNOTIFY_INFO_READ)
    check_finished();
}

int main(void)
{
  notify_fn notify_enable;
  int i, checked = 0, refused = 0;

  harness_init();
  notify_enable = (notify_fn)newer_symbol("curl_multi_notify_enable");
  get_offt = (get_offt_fn)newer_symbol("curl_multi_get_offt");
  if(!notify_enable || !get_offt || !HAVE_NEWER) {
    fprintf(stderr, "the --parallel loop needs curl_multi_notify_enable, get_offt and poll\n");
    return 1;
  }
  s.multi = curl_multi_init();
  s.still_running = 1;
  /* The tool ignores these answers; a libcurl before 8.20 does not know QUICK_EXIT. */
  (void)curl_multi_setopt(s.multi, CURLMOPT_QUICK_EXIT, 1L);
  MOK(curl_multi_setopt(s.multi, CURLMOPT_NOTIFYFUNCTION, mnotify));
  MOK(curl_multi_setopt(s.multi, CURLMOPT_NOTIFYDATA, &s));
  MOK(curl_multi_setopt(s.multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L));
  MOK(notify_enable(s.multi, CURLMNOTIFY_INFO_READ));
  add_parallel_transfers();
  while(s.still_running || s.more_transfers) {
    if(s.more_transfers)
      add_parallel_transfers();
    MOK(curl_multi_poll(s.multi, NULL, 0, 1000, NULL));
    MOK(curl_multi_perform(s.multi, &s.still_running));
  }
  for(i = 0; i < URLS; i++) {
    CHECK_EQ(per[i].done, 1);
    CHECK_EQ(per[i].body.len, per[i].want);
    CHECK(!per[i].body.mismatch);
    CHECK_EQ(per[i].result, per[i].want ? CURLE_OK : CURLE_COULDNT_CONNECT);
    checked += per[i].want > 0;
    refused += per[i].want == 0;
  }
  CHECK(s.callbacks > 0);
  MOK(curl_multi_cleanup(s.multi));
  printf("%d transfers: %d bodies checked, %d refused, at most %d at a time: %d, exit code %d\n", URLS, checked,
         refused, PARALLEL_MAX, s.max_current <= PARALLEL_MAX, s.result);
  return 0;
}
