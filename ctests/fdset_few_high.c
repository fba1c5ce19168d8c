/* stock: must-fail (libcurl's fdset skips sockets >= FD_SETSIZE)
   A few transfers, so few that curlmux walks them with libcurl's own
   perform, in a classic fdset + select loop, with every socket past
   FD_SETSIZE (the low descriptors are taken first) and the soft limit
   raised above it. Walking, fdset would name libcurl's sockets, which
   libcurl's fdset skips there: curlmux must stop walking at the first
   fdset and name its epoll fd instead. Responses come at 300 ms + 150 ms
   per transfer; a select that sleeps its whole CAP_MS cap, nothing seen,
   while transfers run has slept through work (a stall) and fails. */
#include "harness.h"
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#define N 6
#define CAP_MS 3000
static struct body bodies[N];
static int ok;
static curl_socket_t min_socket = -1;

static void on_done(CURL *e, CURLcode rc)
{
  struct body *b;
  CHECK_DONE(e, rc);
  CHECK_EQ(curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&b), CURLE_OK);
  CHECK_EQ(b->len, 2000);
  CHECK(!b->mismatch);
  ok++;
}

static int note_socket(void *clientp, curl_socket_t s, curlsocktype purpose)
{
  (void)clientp;
  (void)purpose;
  if(min_socket < 0 || s < min_socket)
    min_socket = s;
  return CURL_SOCKOPT_OK;
}

int main(void)
{
  CURL *easy[N];
  struct rlimit lim;
  CURLM *m;
  int i, fd;

  harness_init();
  CHECK_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  if(lim.rlim_cur < 2 * FD_SETSIZE) {
    lim.rlim_cur = lim.rlim_max;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
  }
  CHECK(lim.rlim_cur >= 2 * FD_SETSIZE);
  /* The multi's own descriptors stay low; the sockets come after the filler. */
  m = curl_multi_init();
  CHECK(m != NULL);
  do {
    fd = open("/dev/null", O_RDONLY);
    CHECK(fd >= 0);
  } while(fd < FD_SETSIZE);
  for(i = 0; i < N; i++) {
    easy[i] = new_transfer(&bodies[i], "/delay/%d/2000", 300 + 150 * i);
    curl_easy_setopt(easy[i], CURLOPT_SOCKOPTFUNCTION, note_socket);
    MOK(curl_multi_add_handle(m, easy[i]));
  }
  run_select_without_stall(m, CAP_MS, on_done);
  for(i = 0; i < N; i++) {
    MOK(curl_multi_remove_handle(m, easy[i]));
    curl_easy_cleanup(easy[i]);
  }
  MOK(curl_multi_cleanup(m));
  CHECK(min_socket >= FD_SETSIZE);
  printf("transfers %d, ok %d, every socket past FD_SETSIZE\n", N, ok);
  CHECK_EQ(ok, N);
  return 0;
}
