/* stock: skip (a child driving an inherited multi reads the parent's sockets; libcurl defines no answer)
   curlmux's answer for a multi used in a forked child: every call but
   cleanup answers CURLM_BAD_HANDLE (NULL for info_read), touching nothing
   the parent shares (epoll set, timerfd, eventfds, libcurl's sockets), and
   the parent finishes every transfer. Also with an event loop in the
   parent, where stock's cleanup in the child calls the application's
   socket callback, which edits the parent's epoll set: curlmux calls none
   of the application's callbacks there. */
#include "loops.h"
#include <sys/wait.h>

#define N 10

static int child_answers(CURLM *m, CURL *spare)
{
  int running = -1, numfds = -1, q = -1, maxfd = -2, bad = 0;
  fd_set r, w, x;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_ZERO(&x);
  bad += curl_multi_perform(m, &running) == CURLM_BAD_HANDLE;
  bad += curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running) == CURLM_BAD_HANDLE;
  bad += curl_multi_wait(m, NULL, 0, 100, &numfds) == CURLM_BAD_HANDLE;
  bad += curl_multi_fdset(m, &r, &w, &x, &maxfd) == CURLM_BAD_HANDLE;
  bad += curl_multi_add_handle(m, spare) == CURLM_BAD_HANDLE;
  bad += curl_multi_info_read(m, &q) == NULL;
  bad += curl_multi_wakeup(m) == CURLM_BAD_HANDLE;
  bad += curl_multi_cleanup(m) == CURLM_OK;
  curl_easy_cleanup(spare); /* the child's copy: valgrind follows the child too */
  return bad;
}

static int events_done_n;
static void on_done(CURL *e, CURLcode rc)
{
  (void)e;
  events_done_n += rc == CURLE_OK;
}

/* The parent drives by its own epoll loop; the child cleans up its copy. */
static int event_loop_parent(void)
{
  struct body b[N];
  CURL *e[N];
  CURLM *m = curl_multi_init();
  int i, running, status;
  pid_t child;
  events_init(m);
  for(i = 0; i < N; i++) {
    e[i] = new_transfer(&b[i], "/delay/300/%d", 100 + i);
    MOK(curl_multi_add_handle(m, e[i]));
  }
  for(i = 0; i < 5; i++) {
    MOK(curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running));
    usleep(10 * 1000);
  }
  fflush(stdout);
  child = fork();
  CHECK(child >= 0);
  if(child == 0)
    _exit(curl_multi_cleanup(m) == CURLM_OK ? 0 : 3);
  CHECK_EQ(waitpid(child, &status, 0), child);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  events_done_n = 0;
  run_loop(LOOP_EVENTS, m, on_done, N);
  for(i = 0; i < N; i++) {
    CHECK_EQ(b[i].len, (size_t)(100 + i));
    MOK(curl_multi_remove_handle(m, e[i]));
    curl_easy_cleanup(e[i]);
  }
  MOK(curl_multi_cleanup(m));
  events_done();
  return events_done_n;
}

int main(void)
{
  struct body b[N];
  CURL *e[N], *spare;
  CURLM *m;
  CURLMsg *msg;
  int i, running = 1, numfds, status, done = 0, left;
  pid_t child;

  harness_init();
  CHECK(HAVE_NEWER); /* curlmux provides curl_multi_wakeup on every libcurl */
  m = curl_multi_init();
  spare = curl_easy_init();
  for(i = 0; i < N; i++) {
    e[i] = new_transfer(&b[i], "/delay/300/%d", 100 + i);
    MOK(curl_multi_add_handle(m, e[i]));
  }
  for(i = 0; i < 5; i++) {
    MOK(curl_multi_perform(m, &running));
    usleep(10 * 1000);
  }
  fflush(stdout);
  child = fork();
  CHECK(child >= 0);
  if(child == 0)
    _exit(child_answers(m, spare));
  CHECK_EQ(waitpid(child, &status, 0), child);
  CHECK(WIFEXITED(status));
  while(running) {
    MOK(curl_multi_wait(m, NULL, 0, 1000, &numfds));
    MOK(curl_multi_perform(m, &running));
  }
  while((msg = curl_multi_info_read(m, &left)))
    done += msg->data.result == CURLE_OK;
  for(i = 0; i < N; i++) {
    CHECK_EQ(b[i].len, (size_t)(100 + i));
    MOK(curl_multi_remove_handle(m, e[i]));
    curl_easy_cleanup(e[i]);
  }
  curl_easy_cleanup(spare);
  MOK(curl_multi_cleanup(m));
  printf("child: %d of 8 calls gave curlmux's answer; parent finished %d of %d\n", WEXITSTATUS(status), done, N);
  CHECK_EQ(WEXITSTATUS(status), 8);
  CHECK_EQ(done, N);
  printf("event loop: the child cleaned up; parent finished %d of %d\n", event_loop_parent(), N);
  return 0;
}
