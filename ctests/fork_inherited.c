/* stock: skip (a child driving an inherited multi reads the parent's sockets; libcurl defines no answer)
   curlmux's answer for a multi used in a forked child: every call but
   cleanup answers CURLM_BAD_HANDLE (NULL for info_read), touching nothing
   the parent shares (epoll set, timerfd, eventfds, libcurl's sockets), and
   the parent finishes every transfer, in every loop style; also after the
   child freed inherited easies (not in the event loop: see child_uses). With an event loop in the parent, stock's
   cleanup in the child calls the application's socket callback, which
   edits the parent's epoll set: curlmux calls none of the application's
   callbacks there. */
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

static int done;
static void on_done(CURL *e, CURLcode rc)
{
  (void)e;
  done += rc == CURLE_OK;
}

/* The child frees half the inherited easies, then makes its 8 calls; the
   parent drives its transfers to the end with loop l. */
static void child_uses(enum loop l)
{
  struct body b[N];
  CURL *e[N], *spare = curl_easy_init();
  CURLM *m = curl_multi_init();
  int i, running, status;
  pid_t child;
  if(l == LOOP_EVENTS)
    events_init(m);
  for(i = 0; i < N; i++) {
    e[i] = new_transfer(&b[i], "/delay/300/%d", 100 + i);
    MOK(curl_multi_add_handle(m, e[i]));
  }
  /* Connect and send every request: they are in flight when the child
     runs. The event loop's turns (its own epoll), until they are. */
  if(l == LOOP_EVENTS) {
    MOK(curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running));
    while(!all_sent(e, N))
      events_turn(m, 10);
  }
  else
    perform_until_sent(m, e, N);
  fflush(stdout);
  child = fork();
  CHECK(child >= 0);
  if(child == 0) {
    /* Not in the event loop: libcurl's CURL_POLL_REMOVE for a freed easy's
       socket reaches no callback in the child (the application's would
       edit the parent's epoll set), so what it attached to the socket stays
       allocated there, and valgrind, which follows the child, says lost. */
    for(i = 0; l != LOOP_EVENTS && i < N / 2; i++)
      curl_easy_cleanup(e[i]);
    _exit(child_answers(m, spare));
  }
  CHECK_EQ(waitpid(child, &status, 0), child);
  CHECK(WIFEXITED(status));
  done = 0;
  run_loop(l, m, on_done, N);
  for(i = 0; i < N; i++) {
    CHECK_EQ(b[i].len, (size_t)(100 + i));
    MOK(curl_multi_remove_handle(m, e[i]));
    curl_easy_cleanup(e[i]);
  }
  curl_easy_cleanup(spare);
  MOK(curl_multi_cleanup(m));
  if(l == LOOP_EVENTS)
    events_done();
  printf("%s: the child freed %d easies, then %d of 8 calls gave curlmux's answer; parent finished %d of %d\n",
         loop_names[l], l == LOOP_EVENTS ? 0 : N / 2, WEXITSTATUS(status), done, N);
  CHECK_EQ(WEXITSTATUS(status), 8);
  CHECK_EQ(done, N);
}

int main(void)
{
  int l;
  harness_init();
  CHECK(HAVE_NEWER); /* curlmux provides curl_multi_poll and curl_multi_wakeup on every libcurl */
  for(l = LOOP_SELECT; l <= LOOP_EVENTS; l++)
    child_uses((enum loop)l);
  return 0;
}
