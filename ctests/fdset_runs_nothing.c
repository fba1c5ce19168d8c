/* curl_multi_timeout and curl_multi_fdset only report: no transfer runs
   inside them, so no write callback comes from them (pycurl, for one, takes
   callbacks only inside perform). With a descriptor limit above FD_SETSIZE,
   as in pycurl's seed loop run from a shell with a raised limit, curlmux's
   fdset stops libcurl's walk of a fresh multi: what libcurl changed
   meanwhile is asked at the next perform, not inside fdset. The transfers,
   whose data keeps arriving while the loop looks away, still end, each with
   its whole body, in this select loop. */
#include "harness.h"
#include <sys/resource.h>

#define N 4
static struct body bodies[N];
static int inside, writes;

static size_t on_write(char *data, size_t size, size_t n, void *userp)
{
  CHECK(!inside);
  writes++;
  return body_write(data, size, n, userp);
}

int main(void)
{
  CURL *easy[N];
  CURLM *m;
  struct rlimit lim;
  int i, running = 1, max_fd, rounds = 0;
  long timeout;

  harness_init();
  CHECK_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  CHECK(lim.rlim_max > FD_SETSIZE);
  lim.rlim_cur = lim.rlim_max < 4096 ? lim.rlim_max : 4096;
  CHECK_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);

  m = curl_multi_init();
  CHECK(m != NULL);
  for(i = 0; i < N; i++) {
    easy[i] = new_transfer(&bodies[i], "/trickle/%d/4/200", 8000 + i);
    curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, on_write);
    MOK(curl_multi_add_handle(m, easy[i]));
  }
  MOK(curl_multi_perform(m, &running));
  while(running) {
    fd_set r, w, x;
    struct timeval tv;
    usleep(30000); /* data arrives and waits in the sockets */
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    inside = 1;
    MOK(curl_multi_timeout(m, &timeout));
    MOK(curl_multi_fdset(m, &r, &w, &x, &max_fd));
    inside = 0;
    if(timeout < 0 || timeout > 100)
      timeout = 100;
    tv.tv_sec = 0;
    tv.tv_usec = timeout * 1000;
    CHECK(select(max_fd + 1, &r, &w, &x, &tv) >= 0);
    MOK(curl_multi_perform(m, &running));
    rounds++;
  }
  CHECK_EQ(drain_messages(m, expect_ok), N);
  for(i = 0; i < N; i++) {
    CHECK_EQ(bodies[i].len, (size_t)(8000 + i));
    MOK(curl_multi_remove_handle(m, easy[i]));
    curl_easy_cleanup(easy[i]);
  }
  MOK(curl_multi_cleanup(m));
  CHECK(writes >= N && rounds > 1);
  printf("%d transfers, every write callback inside perform\n", N);
  return 0;
}
