/* HTTP/3 (CURL_HTTP_VERSION_3ONLY) through every loop style, on a libcurl
   whose curl_version_info has HTTP/3; other libcurls print that they have
   none, which the runner compares like any other line.
   The curlmux_select loop, where curlmux answers, must find what the
   select loop found (checked here: stock has no such loop to compare).
   Per loop: bodies byte for byte, bulk and trickled; 100 concurrent
   streams on one connection; CURLOPT_TIMEOUT_MS against a request never
   answered and a response that goes silent mid-body; a connect timeout
   where QUIC meets silence; a reset stream; removal mid-transfer (the
   connection carries on); CURL_HTTP_VERSION_3 falling back to TCP where
   UDP is silent; Alt-Svc leading an HTTPS transfer to HTTP/3. Every
   transfer ends in exactly one message. */
#include "loops.h"

#define STREAMS 100
#define MAX_ENDS (STREAMS + 8)

static const size_t sizes[] = {0, 1, 16383, 16384, 100000, 1048576};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Which transfers ended, how, and when. */
static struct {
  CURL *easy;
  CURLcode rc;
  double at;
} ends[MAX_ENDS];
static int nends;
static CURL *remove_on_end[2]; /* when [0] ends, [1] is removed from ...  */
static CURLM *removing_from;   /* ... this multi, mid-transfer */

static void on_end(CURL *e, CURLcode rc)
{
  int i;
  for(i = 0; i < nends; i++)
    CHECK(ends[i].easy != e); /* one message per transfer */
  CHECK(nends < MAX_ENDS);
  ends[nends].easy = e;
  ends[nends].rc = rc;
  ends[nends].at = now_s();
  nends++;
  if(e == remove_on_end[0])
    MOK(curl_multi_remove_handle(removing_from, remove_on_end[1]));
}

/* What each loop found, without its name: the curlmux_select loop, which
   stock libcurl cannot run, must find what the select loop found. */
static char found[LOOP_CURLMUX + 1][8192];

static void say(enum loop l, const char *fmt, ...)
{
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  CHECK(strlen(found[l]) + strlen(line) < sizeof(found[l]));
  strcat(found[l], line);
  if(l != LOOP_CURLMUX)
    LOOP_PRINTF(l, "%s: %s", loop_names[l], line);
}

static int end_of(CURL *e)
{
  int i;
  for(i = 0; i < nends && ends[i].easy != e; i++)
    ;
  CHECK(i < nends);
  return i;
}

static CURLM *new_multi(enum loop l)
{
  CURLM *m = curl_multi_init();
  CHECK(m != NULL);
  if(l == LOOP_EVENTS)
    events_init(m);
  nends = 0;
  return m;
}

static void finish(enum loop l, CURLM *m, CURL **easy, int n)
{
  int i;
  for(i = 0; i < n; i++) {
    MOK(curl_multi_remove_handle(m, easy[i]));
    curl_easy_cleanup(easy[i]);
  }
  MOK(curl_multi_cleanup(m));
  if(l == LOOP_EVENTS)
    events_done();
}

static long http_version(CURL *e)
{
  long v = -1;
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &v), CURLE_OK);
  return v;
}

static CURL *h3(struct body *b, const char *path)
{
  CURL *e = new_transfer_p(HTTP3, b, "%s", path);
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L); /* one connection for all streams */
  return e;
}

/* Bulk and trickled bodies of every size: all succeed over HTTP/3. */
static void bodies(enum loop l)
{
  struct body b[2 * NSIZES];
  CURL *e[2 * NSIZES];
  CURLM *m = new_multi(l);
  char path[64];
  int i, ok = 0, v3 = 0;
  for(i = 0; i < (int)(2 * NSIZES); i++) {
    size_t size = sizes[i % NSIZES];
    snprintf(path, sizeof(path), i < (int)NSIZES ? "/bytes/%zu" : "/trickle/%zu/7/350", size);
    e[i] = h3(&b[i], path);
    MOK(curl_multi_add_handle(m, e[i]));
  }
  run_loop(l, m, on_end, 2 * NSIZES);
  CHECK_EQ(nends, 2 * NSIZES);
  for(i = 0; i < (int)(2 * NSIZES); i++) {
    ok += ends[end_of(e[i])].rc == CURLE_OK && !b[i].mismatch && b[i].len == sizes[i % NSIZES];
    v3 += http_version(e[i]) == CURL_HTTP_VERSION_3;
  }
  say(l, "bodies %d of %d whole, %d over HTTP/3\n", ok, (int)(2 * NSIZES), v3);
  finish(l, m, e, 2 * NSIZES);
}

/* STREAMS transfers at once, each waiting 300 ms for its answer. */
static void streams(enum loop l)
{
  static struct body b[STREAMS];
  CURL *e[STREAMS];
  CURLM *m = new_multi(l);
  long ports[STREAMS];
  int i, j, ok = 0, connections = 0;
  for(i = 0; i < STREAMS; i++) {
    e[i] = h3(&b[i], "/delay/300/1000");
    MOK(curl_multi_add_handle(m, e[i]));
  }
  run_loop(l, m, on_end, STREAMS);
  CHECK_EQ(nends, STREAMS);
  for(i = 0; i < STREAMS; i++) {
    ok += ends[end_of(e[i])].rc == CURLE_OK && b[i].len == 1000 && !b[i].mismatch;
    CHECK_EQ(curl_easy_getinfo(e[i], CURLINFO_LOCAL_PORT, &ports[i]), CURLE_OK);
    for(j = 0; j < i && ports[j] != ports[i]; j++)
      ;
    connections += j == i;
  }
  say(l, "%d of %d streams ok, on %d connection(s)\n", ok, STREAMS, connections);
  finish(l, m, e, STREAMS);
}

/* Deadlines, a reset and a removal, beside a transfer that must succeed. */
static void faults(enum loop l)
{
  enum { HANG, STALL, QUIET, RESET, GOOD, TRIGGER, REMOVED, N };
  static const char *const what[] = {"never answered", "silent mid-body", "connect to silence", "reset stream",
                                     "beside them"};
  static const long deadline_ms[] = {600, 800, 700};
  struct body b[N];
  CURL *e[N];
  CURLM *m = new_multi(l);
  char url[600];
  double start;
  int i;
  e[HANG] = h3(&b[HANG], "/hang");
  e[STALL] = h3(&b[STALL], "/stall/1000");
  e[QUIET] = h3(&b[QUIET], "/bytes/10");
  snprintf(url, sizeof(url), "%s/bytes/10", env_or_die("CURLMUX_TEST_QUIET_URL"));
  curl_easy_setopt(e[QUIET], CURLOPT_URL, url);
  e[RESET] = h3(&b[RESET], "/reset/1000");
  e[GOOD] = h3(&b[GOOD], "/trickle/20000/5/1000");
  e[TRIGGER] = h3(&b[TRIGGER], "/delay/400/10");
  e[REMOVED] = h3(&b[REMOVED], "/trickle/100000/10/3000");
  curl_easy_setopt(e[HANG], CURLOPT_TIMEOUT_MS, deadline_ms[HANG]);
  curl_easy_setopt(e[STALL], CURLOPT_TIMEOUT_MS, deadline_ms[STALL]);
  curl_easy_setopt(e[QUIET], CURLOPT_CONNECTTIMEOUT_MS, deadline_ms[QUIET]);
  remove_on_end[0] = e[TRIGGER];
  remove_on_end[1] = e[REMOVED];
  removing_from = m;
  start = now_s();
  for(i = 0; i < N; i++)
    MOK(curl_multi_add_handle(m, e[i]));
  run_loop(l, m, on_end, N);
  CHECK_EQ(nends, N - 1); /* all but the one removed */
  remove_on_end[0] = remove_on_end[1] = NULL;
  for(i = HANG; i <= QUIET; i++) {
    struct body *bi = &b[i];
    double late = ends[end_of(e[i])].at - start - deadline_ms[i] / 1000.0;
    fprintf(stderr, "%s: %s ended %.0f ms after its deadline\n", loop_names[l], what[i], late * 1000);
    /* on time: not before it, and within a second (valgrind on a loaded
       2-core machine included); a timer missed until a loop's own 1 s cap
       would come later than that */
    say(l, "%s: %s, %zu bytes, %s\n", what[i], curl_easy_strerror(ends[end_of(e[i])].rc),
                bi->len, late > -0.005 && late < 1.0 ? "on time" : "not on time");
  }
  {
    /* libcurl's answer to a reset stream depends on whether body bytes came
       first (lib/vquic, the ngtcp2 filter: bytecount ? PARTIAL_FILE : HTTP3),
       and that on timing: check the pair, print the verdict. */
    CURLcode rc = ends[end_of(e[RESET])].rc;
    CURLcode want = b[RESET].len ? CURLE_PARTIAL_FILE : CURLE_HTTP3;
    fprintf(stderr, "%s: reset stream after %zu bytes: %s\n", loop_names[l], b[RESET].len, curl_easy_strerror(rc));
    if(rc == want)
      say(l, "%s: as libcurl answers a reset after the bytes that came\n", what[RESET]);
    else
      say(l, "%s: %s after %zu bytes\n", what[RESET], curl_easy_strerror(rc), b[RESET].len);
  }
  say(l, "%s: %s, %zu bytes\n", what[GOOD], curl_easy_strerror(ends[end_of(e[GOOD])].rc),
              b[GOOD].len);
  say(l, "removed mid-body after %s bytes\n", b[REMOVED].len > 0 && b[REMOVED].len < 100000 ? "some" : "not some");
  {
    /* the connection outlives the removed stream */
    struct body after;
    CURL *again = h3(&after, "/bytes/5000");
    long connects = -1;
    nends = 0;
    MOK(curl_multi_add_handle(m, again));
    run_loop(l, m, on_end, 1);
    CHECK_EQ(nends, 1);
    CHECK_EQ(curl_easy_getinfo(again, CURLINFO_NUM_CONNECTS, &connects), CURLE_OK);
    say(l, "after the removal: %s, %zu bytes, %s connection\n", curl_easy_strerror(ends[0].rc), after.len, connects == 0 ? "the same" : "a new");
    MOK(curl_multi_remove_handle(m, again));
    curl_easy_cleanup(again);
  }
  curl_easy_cleanup(e[REMOVED]);
  finish(l, m, e, N - 1);
}

/* CURL_HTTP_VERSION_3 where QUIC answers and where it meets silence. */
static void fallback(enum loop l)
{
  struct body b[2];
  CURL *e[2];
  CURLM *m = new_multi(l);
  char url[600];
  int i;
  e[0] = h3(&b[0], "/bytes/3000");
  e[1] = h3(&b[1], "/bytes/3000");
  snprintf(url, sizeof(url), "%s/bytes/3000", env_or_die("CURLMUX_TEST_QUIET_URL"));
  curl_easy_setopt(e[1], CURLOPT_URL, url);
  for(i = 0; i < 2; i++) {
    curl_easy_setopt(e[i], CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_3);
    MOK(curl_multi_add_handle(m, e[i]));
  }
  run_loop(l, m, on_end, 2);
  CHECK_EQ(nends, 2);
  for(i = 0; i < 2; i++)
    say(l, "HTTP/3 allowed, UDP %s: %s, %zu bytes, HTTP version %ld\n", i ? "silent" : "answering", curl_easy_strerror(ends[end_of(e[i])].rc), b[i].len, http_version(e[i]));
  finish(l, m, e, 2);
}

/* CURL_HTTP_VERSION_3 to the quiet port falls back to TCP, whose response
   names the HTTP/3 port in Alt-Svc: the handle's next transfer goes there. */
static void alt_svc(enum loop l)
{
  struct body b;
  CURL *e = new_transfer_p(HTTPS2, &b, "/bytes/2000");
  CURLM *m = new_multi(l);
  char url[600];
  long first, second;
  snprintf(url, sizeof(url), "%s/bytes/2000", env_or_die("CURLMUX_TEST_QUIET_URL"));
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_3); /* Alt-Svc to h3 needs it */
  curl_easy_setopt(e, CURLOPT_ALTSVC, ""); /* a cache in memory only */
  curl_easy_setopt(e, CURLOPT_ALTSVC_CTRL, (long)(CURLALTSVC_H1 | CURLALTSVC_H2 | CURLALTSVC_H3));
  MOK(curl_multi_add_handle(m, e));
  run_loop(l, m, on_end, 1);
  first = http_version(e);
  MOK(curl_multi_remove_handle(m, e));
  CHECK_EQ(nends, 1);
  memset(&b, 0, sizeof(b));
  nends = 0;
  MOK(curl_multi_add_handle(m, e));
  run_loop(l, m, on_end, 1);
  second = http_version(e);
  CHECK_EQ(nends, 1);
  say(l, "Alt-Svc: HTTP version %ld, then %ld: %s, %zu bytes\n", first, second,
              curl_easy_strerror(ends[0].rc), b.len);
  finish(l, m, &e, 1);
}

int main(void)
{
  int l;
  curl_version_info_data *v;
  harness_init();
  v = curl_version_info(CURLVERSION_NOW);
  if(!(v->features & CURL_VERSION_HTTP3)) {
    printf("libcurl %s has no HTTP/3: nothing to test\n", v->version);
    return 0;
  }
  for(l = LOOP_SELECT; l <= LOOP_CURLMUX; l++) {
    if(!loop_runs((enum loop)l))
      continue;
    bodies((enum loop)l);
    streams((enum loop)l);
    faults((enum loop)l);
    fallback((enum loop)l);
    alt_svc((enum loop)l);
  }
  if(loop_runs(LOOP_CURLMUX) && strcmp(found[LOOP_CURLMUX], found[LOOP_SELECT])) {
    fprintf(stderr, "curlmux_select found:\n%s\nthe select loop found:\n%s", found[LOOP_CURLMUX], found[LOOP_SELECT]);
    return 1;
  }
  return 0;
}
