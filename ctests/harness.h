/*
 * Shared helpers of the C tests. Each test is one program that prints the
 * facts it checked to stdout and exits 0; ctests/harness.rs compiles it and
 * runs it three ways (stock libcurl, curlmux linked, curlmux preloaded) and
 * requires the same stdout from all three.
 *
 * Environment, set by the runner: CURLMUX_TEST_URL (the local server:
 * HTTP/1.1 and h2c), CURLMUX_TEST_TLS_URL (the same over TLS, ALPN h2 or
 * http/1.1), CURLMUX_TEST_CA (its certificate), CURLMUX_TEST_PUSH_URL (h2c
 * with server push), CURLMUX_TEST_H3_URL (HTTP/3 over QUIC, same certificate),
 * CURLMUX_TEST_QUIET_URL (TLS over TCP whose UDP port never answers),
 * CURLMUX_TEST_CLOSED_PORT (a port nothing listens on),
 * EXPECT_CURLMUX (1 when curlmux must be the one answering, 0 for stock).
 *
 * libcurl 7.66's curl_multi_poll and 7.68's curl_multi_wakeup are called
 * through pointers looked up at run time (the macros below), so that every
 * test loads on libcurl 7.61 too, which has neither. Where the process has
 * them from nowhere (stock 7.61), a test skips what needs them
 * (HAVE_NEWER). What a test learns through them goes on lines beginning
 * "newer: " (NEWER_PRINTF); the runner compares those lines with stock only
 * on libcurls that have both functions.
 */
#ifndef CURLMUX_TEST_HARNESS_H
#define CURLMUX_TEST_HARNESS_H

#define _GNU_SOURCE
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "versions.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if(!(cond)) {                                                              \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                                 \
    }                                                                          \
  } while(0)

#define CHECK_EQ(a, b)                                                         \
  do {                                                                         \
    long long a_ = (long long)(a), b_ = (long long)(b);                        \
    if(a_ != b_) {                                                             \
      fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n",      \
              __FILE__, __LINE__, #a, a_, #b, b_);                             \
      exit(1);                                                                 \
    }                                                                          \
  } while(0)

/* A transfer that must have succeeded: on failure, says how far it got
   (a stall shows as the phase its times stop at) and fails the test. */
#define CHECK_DONE(e, rc)                                                      \
  do {                                                                         \
    CURLcode rc_ = (rc);                                                       \
    if(rc_ != CURLE_OK) {                                                      \
      fprintf(stderr, "%s:%d: transfer failed: ", __FILE__, __LINE__);         \
      describe_transfer((e), rc_);                                             \
      exit(1);                                                                 \
    }                                                                          \
  } while(0)

static inline void describe_transfer(CURL *e, CURLcode rc)
{
  char *url = NULL;
  double connect = 0, tls = 0, sent = 0, first = 0, total = 0;
  long port = 0;
  curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url);
  curl_easy_getinfo(e, CURLINFO_CONNECT_TIME, &connect);
  curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME, &tls);
  curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME, &sent);
  curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME, &first);
  curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &total);
  curl_easy_getinfo(e, CURLINFO_LOCAL_PORT, &port);
  fprintf(stderr, "%s: %d (%s); connected %.6fs, TLS %.6fs, request %.6fs, first byte %.6fs, "
          "total %.6fs, local port %ld\n", url ? url : "?", rc, curl_easy_strerror(rc),
          connect, tls, sent, first, total, port);
}

/* A multi call that must succeed. */
#define MOK(call) CHECK_EQ((call), CURLM_OK)

static inline const char *env_or_die(const char *name)
{
  const char *v = getenv(name);
  if(!v) {
    fprintf(stderr, "%s is not set\n", name);
    exit(1);
  }
  return v;
}

static inline const char *test_url(void)
{
  return env_or_die("CURLMUX_TEST_URL");
}

/* The curlmux_* function `name`, or NULL under stock libcurl. */
static inline void *curlmux_symbol(const char *name)
{
  return dlsym(RTLD_DEFAULT, name);
}

typedef CURLMcode (*multi_poll_fn)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
typedef CURLMcode (*multi_wakeup_fn)(CURLM *);

/* `name` from curlmux or libcurl, whichever answers for this process; NULL
   when neither has it. */
static inline void *newer_symbol(const char *name)
{
  return dlsym(RTLD_DEFAULT, name);
}

static inline void *need_symbol(const char *name)
{
  void *f = newer_symbol(name);
  if(!f) {
    fprintf(stderr, "%s: not in this process; the test must check HAVE_NEWER first\n", name);
    exit(1);
  }
  return f;
}

#define HAVE_NEWER (newer_symbol("curl_multi_poll") && newer_symbol("curl_multi_wakeup"))
#define curl_multi_poll(...) (((multi_poll_fn)need_symbol("curl_multi_poll"))(__VA_ARGS__))
#define curl_multi_wakeup(m) (((multi_wakeup_fn)need_symbol("curl_multi_wakeup"))(m))
#define NEWER_PRINTF(...) (printf("newer: "), printf(__VA_ARGS__))

/* Verifies the run mode is what the runner says it is, so a test can never
   pass against stock libcurl while claiming to test curlmux. */
static inline void harness_init(void)
{
  const char *want = getenv("EXPECT_CURLMUX");
  int have = curlmux_symbol("curlmux_version") != NULL;
  CHECK(want != NULL);
  CHECK_EQ(have, atoi(want));
  CHECK_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
  setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The server's body byte at offset i (cli/src/server/mod.rs). */
static inline char pattern(size_t i)
{
  return "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
}

/* A transfer whose body is checked byte by byte as it arrives. */
struct body {
  size_t len;     /* bytes received */
  int mismatch;   /* a byte differed from pattern() */
  int text;       /* body is not a pattern body (error pages) */
};

static size_t body_write(char *data, size_t size, size_t n, void *userp)
{
  struct body *b = userp;
  size_t i;
  for(i = 0; i < size * n; i++)
    if(!b->text && data[i] != pattern(b->len + i))
      b->mismatch = 1;
  b->len += size * n;
  return size * n;
}

/* How a transfer talks to the server. */
enum proto { HTTP1, HTTP2C, HTTPS1, HTTPS2, HTTP3 };

static inline const char *proto_name(enum proto p)
{
  static const char *names[] = {"http/1.1", "h2c", "https/1.1", "https/h2", "h3"};
  return names[p];
}

static inline CURL *new_transfer_v(enum proto p, struct body *b, const char *fmt, va_list ap)
{
  char path[512], url[700];
  CURL *e = curl_easy_init();
  CHECK(e != NULL);
  vsnprintf(path, sizeof(path), fmt, ap);
  snprintf(url, sizeof(url), "%s%s",
           p == HTTP3 ? env_or_die("CURLMUX_TEST_H3_URL")
           : p >= HTTPS1 ? env_or_die("CURLMUX_TEST_TLS_URL") : test_url(), path);
  if(p >= HTTPS1)
    curl_easy_setopt(e, CURLOPT_CAINFO, env_or_die("CURLMUX_TEST_CA"));
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                   p == HTTP2C ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                   : p == HTTPS2 ? (long)CURL_HTTP_VERSION_2TLS
                   : p == HTTP3 ? (long)CURL_HTTP_VERSION_3ONLY : (long)CURL_HTTP_VERSION_1_1);
  /* libcurl 7.88.1 fails every stream after the first on a reused h2c
     (prior knowledge) connection with CURLE_HTTP2, against any server
     (checked with hyper and with the h2 crate): one connection each. */
  if(p == HTTP2C) {
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  }
  memset(b, 0, sizeof(*b));
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
  curl_easy_setopt(e, CURLOPT_PRIVATE, b);
  /* a stuck transfer fails the test instead of hanging it */
  curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
  return e;
}

/* An easy handle for the server's path, over protocol p, writing into *b. */
static inline CURL *new_transfer_p(enum proto p, struct body *b, const char *fmt, ...)
{
  va_list ap;
  CURL *e;
  va_start(ap, fmt);
  e = new_transfer_v(p, b, fmt, ap);
  va_end(ap);
  return e;
}

/* A multi for DNS-over-HTTPS lookups: one connection per DoH probe. When
   one HTTP/2 stream ends, libcurl (8.16.0 and 8.23.0 seen, stock alike) stops
   reading and leaves what else came in the same read (other probes' answers)
   in the TLS layer, where no socket event reports it: those lookups then
   wait for their timeout, in 1 of 300 to 1,000 runs. Not what these tests
   test. */
static inline CURLM *doh_multi_init(void)
{
  CURLM *m = curl_multi_init();
  CHECK(m != NULL);
  MOK(curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING));
  return m;
}

/* An easy handle for TEST_URL + path (HTTP/1.1), writing into *b. */
static inline CURL *new_transfer(struct body *b, const char *fmt, ...)
{
  va_list ap;
  CURL *e;
  va_start(ap, fmt);
  e = new_transfer_v(HTTP1, b, fmt, ap);
  va_end(ap);
  return e;
}

/* A transfer the server never answers, added to m and driven until its
   request is out: m then waits on its socket, with no timer near. */
static inline CURL *add_unanswered(CURLM *m, struct body *b)
{
  int i, running = 0, numfds;
  CURL *e = new_transfer(b, "/hang");
  MOK(curl_multi_add_handle(m, e));
  for(i = 0; i < 5; i++) {
    MOK(curl_multi_perform(m, &running));
    MOK(curl_multi_wait(m, NULL, 0, 20, &numfds));
  }
  CHECK(running >= 1);
  return e;
}

/* Whether every one of the n transfers has sent its request. */
static inline int all_sent(CURL **e, int n)
{
  int i;
  for(i = 0; i < n; i++) {
    long size = 0;
    CHECK_EQ(curl_easy_getinfo(e[i], CURLINFO_REQUEST_SIZE, &size), CURLE_OK);
    if(size == 0)
      return 0;
  }
  return 1;
}

/* perform + wait until every one of the n transfers of m has sent its
   request: a condition, not a guess at how long connecting takes. */
static inline void perform_until_sent(CURLM *m, CURL **e, int n)
{
  int running, numfds;
  MOK(curl_multi_perform(m, &running));
  while(!all_sent(e, n)) {
    MOK(curl_multi_wait(m, NULL, 0, 10, &numfds));
    MOK(curl_multi_perform(m, &running));
  }
}

/* Transfers expect_ok has seen succeed. */
static int harness_ok __attribute__((unused));

/* A message callback for transfers that must succeed with a pattern body
   (their CURLOPT_PRIVATE is their struct body, as new_transfer sets it). */
static inline void expect_ok(CURL *e, CURLcode rc)
{
  struct body *b;
  CHECK_DONE(e, rc);
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&b), CURLE_OK);
  CHECK(!b->mismatch);
  harness_ok++;
}

/* perform + wait until no transfer runs; the messages stay queued. */
static inline void run_until_done(CURLM *m)
{
  int running = 1, numfds;
  MOK(curl_multi_perform(m, &running));
  while(running) {
    MOK(curl_multi_wait(m, NULL, 0, 1000, &numfds));
    MOK(curl_multi_perform(m, &running));
  }
}

/* Every call that takes a multi answers CURLM_BAD_HANDLE for m (and
   info_read NULL with nothing queued). socket_action and assign are left
   out: libcurl 7.88 does not check their handle. */
static inline void expect_bad_handle(CURLM *m, CURL *e)
{
  int running, numfds, maxfd, q = -1;
  long ms;
  fd_set r, w, x;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_ZERO(&x);
  CHECK_EQ(curl_multi_add_handle(m, e), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_remove_handle(m, e), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_perform(m, &running), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_fdset(m, &r, &w, &x, &maxfd), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_wait(m, NULL, 0, 0, &numfds), CURLM_BAD_HANDLE);
  if(HAVE_NEWER) {
    CHECK_EQ(curl_multi_poll(m, NULL, 0, 0, &numfds), CURLM_BAD_HANDLE);
    CHECK_EQ(curl_multi_wakeup(m), CURLM_BAD_HANDLE);
  }
  CHECK_EQ(curl_multi_timeout(m, &ms), CURLM_BAD_HANDLE);
  CHECK_EQ(curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 5L), CURLM_BAD_HANDLE);
  CHECK(curl_multi_info_read(m, &q) == NULL);
  CHECK_EQ(q, 0);
  CHECK_EQ(curl_multi_cleanup(m), CURLM_BAD_HANDLE);
}

/* Reads every queued message; checks each is DONE for an easy handle. */
static inline int drain_messages(CURLM *m, void (*on_done)(CURL *, CURLcode))
{
  int left = 0, n = 0;
  CURLMsg *msg;
  while((msg = curl_multi_info_read(m, &left))) {
    CHECK_EQ(msg->msg, CURLMSG_DONE);
    on_done(msg->easy_handle, msg->data.result);
    n++;
  }
  CHECK_EQ(left, 0);
  return n;
}

/* A classic fdset + select loop honouring curl_multi_timeout, capped at
   cap_ms as loops do, until no transfer runs. A select that sleeps its
   whole cap, nothing seen, while transfers run has slept through work (a
   stall): the test fails there. */
static inline void run_select_without_stall(CURLM *m, long cap_ms, void (*on_done)(CURL *, CURLcode))
{
  int running = 0;
  MOK(curl_multi_perform(m, &running));
  while(running) {
    fd_set r, w, x;
    int maxfd = -1, rc;
    long t = -1;
    struct timeval tv;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    MOK(curl_multi_fdset(m, &r, &w, &x, &maxfd));
    MOK(curl_multi_timeout(m, &t));
    if(t < 0 || t > cap_ms)
      t = cap_ms;
    tv.tv_sec = t / 1000;
    tv.tv_usec = (t % 1000) * 1000;
    rc = select(maxfd + 1, &r, &w, &x, &tv);
    CHECK(rc >= 0);
    if(rc == 0 && t == cap_ms) {
      fprintf(stderr, "stall: select slept %ld ms with %d transfers running\n", cap_ms, running);
      exit(1);
    }
    MOK(curl_multi_perform(m, &running));
    drain_messages(m, on_done);
  }
  drain_messages(m, on_done);
}

#endif
