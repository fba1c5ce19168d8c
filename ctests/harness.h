/*
 * Shared helpers of the C tests. Each test is one program that prints the
 * facts it checked to stdout and exits 0; ctests/harness.rs compiles it and
 * runs it three ways (stock libcurl, curlmux linked, curlmux preloaded) and
 * requires the same stdout from all three.
 *
 * Environment, set by the runner: CURLMUX_TEST_URL (the local server),
 * CURLMUX_TEST_CLOSED_PORT (a port nothing listens on), EXPECT_CURLMUX (1
 * when curlmux must be the one answering, 0 for stock libcurl).
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

/* A multi call that must succeed. */
#define MOK(call) CHECK_EQ((call), CURLM_OK)

static inline const char *test_url(void)
{
  const char *u = getenv("CURLMUX_TEST_URL");
  CHECK(u != NULL);
  return u;
}

/* The curlmux_* function `name`, or NULL under stock libcurl. */
static inline void *curlmux_symbol(const char *name)
{
  return dlsym(RTLD_DEFAULT, name);
}

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

/* The server's body byte at offset i (src/bin/curlmux/server.rs). */
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

/* An easy handle for TEST_URL + path, writing into *b. */
static inline CURL *new_transfer(struct body *b, const char *fmt, ...)
{
  char path[512], url[700];
  va_list ap;
  CURL *e = curl_easy_init();
  CHECK(e != NULL);
  va_start(ap, fmt);
  vsnprintf(path, sizeof(path), fmt, ap);
  va_end(ap);
  snprintf(url, sizeof(url), "%s%s", test_url(), path);
  memset(b, 0, sizeof(*b));
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
  curl_easy_setopt(e, CURLOPT_PRIVATE, b);
  /* a stuck transfer fails the test instead of hanging it */
  curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
  return e;
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

#endif
