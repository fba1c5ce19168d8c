/* A parent with transfers in flight forks; the child cleans up its inherited
   copy of the multi (as a garbage collector in a forked worker does), once
   right away and once after freeing the easies first, and exits. The
   parent's transfers must all finish, in the select, wait and poll loops. The event
   loop is fork_inherited.c's: there stock's cleanup in the child calls the
   application's socket callback, which edits the epoll set the parent
   shares, and the parent's transfers stall until they time out. */
#include "loops.h"
#include <sys/wait.h>

#define N 150 /* more than curlmux ever walks: the parent is driven by socket_action */
static struct body bodies[N];
static int done, failed;

static void on_done(CURL *e, CURLcode rc)
{
  (void)e;
  done++;
  failed += rc != CURLE_OK;
}

static void forked(enum loop l, int child_frees_easies)
{
  CURL *e[N];
  CURLM *m = curl_multi_init();
  int i, status;
  pid_t child;
  done = failed = 0;
  for(i = 0; i < N; i++) {
    e[i] = new_transfer(&bodies[i], "/delay/300/%d", 100 + i);
    MOK(curl_multi_add_handle(m, e[i]));
  }
  /* Connect and send every request: they are in flight when the child runs. */
  perform_until_sent(m, e, N);
  fflush(stdout);
  child = fork();
  CHECK(child >= 0);
  if(child == 0) {
    if(child_frees_easies) {
      for(i = 0; i < N; i++)
        curl_easy_cleanup(e[i]);
    }
    _exit(curl_multi_cleanup(m) == CURLM_OK ? 0 : 3);
  }
  CHECK_EQ(waitpid(child, &status, 0), child);
  CHECK(WIFEXITED(status));
  run_loop(l, m, on_done, N);
  for(i = 0; i < N; i++) {
    CHECK_EQ(bodies[i].len, (size_t)(100 + i));
    MOK(curl_multi_remove_handle(m, e[i]));
    curl_easy_cleanup(e[i]);
  }
  MOK(curl_multi_cleanup(m));
  LOOP_PRINTF(l, "%s: child %s; its cleanup %d; parent finished %d of %d, %d failed\n", loop_names[l],
              child_frees_easies ? "frees the easies" : "keeps the easies", WEXITSTATUS(status), done, N,
              failed);
}

int main(void)
{
  int l;
  harness_init();
  for(l = LOOP_SELECT; l <= LOOP_POLL; l++) {
    if(loop_runs((enum loop)l)) {
      forked((enum loop)l, 0);
      forked((enum loop)l, 1);
    }
  }
  return 0;
}
