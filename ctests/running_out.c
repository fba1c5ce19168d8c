/* Running out, and being interrupted:
   - curl_multi_init with too few free descriptors: curlmux (which needs an
     epoll fd, a timerfd and two eventfds) answers NULL, and neither a failed
     nor a cleaned-up init keeps any descriptor;
   - descriptors run out during a run, in every loop: each transfer ends in
     exactly one message, those without a socket with COULDNT_CONNECT, and
     the multi works again once descriptors are back;
   - sockets the kernel will not let epoll watch (a seccomp filter makes
     every EPOLL_CTL_ADD fail with ENOSPC, as epoll's max_user_watches
     does), in a child process: stock libcurl never uses epoll and finishes
     them; curlmux ends each with CURLE_OUT_OF_MEMORY rather than let it
     hang, both straight away and for sockets that come back after libcurl's
     own walk;
   - a signal every 200 us to the looping thread (EINTR in every wait);
   - a curl_multi_wakeup storm from 8 threads during a poll loop. */
#include "interrupt.h"
#include "loops.h"
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define MAXN 200
static struct body bodies[MAXN];
static CURL *ended[MAXN];
static CURLcode ended_rc[MAXN];
static int done, twice;

static void on_done(CURL *e, CURLcode rc)
{
  int k;
  for(k = 0; k < done; k++)
    twice += ended[k] == e;
  if(done < MAXN) {
    ended[done] = e;
    ended_rc[done] = rc;
  }
  done++;
}

/* The result of e's one message (-1: none). */
static int result_of(CURL *e)
{
  int k;
  for(k = 0; k < done && k < MAXN; k++)
    if(ended[k] == e)
      return ended_rc[k];
  return -1;
}

static CURL *easies[MAXN];

/* Transfers [from, from + n) of the server's `path`, whose %d is the body size 10 + i. */
static void add(CURLM *m, int from, int n, const char *path)
{
  int i;
  char p[100];
  for(i = from; i < from + n; i++) {
    snprintf(p, sizeof(p), path, 10 + i);
    easies[i] = new_transfer(&bodies[i], "%s", p);
    MOK(curl_multi_add_handle(m, easies[i]));
  }
}

/* Transfers [from, from + n) that ended with rc (CURLE_OK: with the whole body). */
static int ended_with(int from, int n, int rc)
{
  int i, count = 0;
  for(i = from; i < from + n; i++)
    count += result_of(easies[i]) == rc && (rc != CURLE_OK || bodies[i].len == (size_t)(10 + i));
  return count;
}

static void remove_all(CURLM *m, int n)
{
  int i;
  for(i = 0; i < n; i++) {
    MOK(curl_multi_remove_handle(m, easies[i]));
    curl_easy_cleanup(easies[i]);
  }
}

/* ---- descriptors ---- */

static int filler[1024], filled;
static struct rlimit saved;

/* Leaves exactly k descriptor numbers free below a soft limit of 256. */
static void exhaust(int k)
{
  struct rlimit low;
  int fd;
  CHECK_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  low = saved;
  low.rlim_cur = 256;
  CHECK_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  filled = 0;
  while((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
    filler[filled++] = fd;
  CHECK_EQ(errno, EMFILE);
  CHECK(filled >= k);
  while(k-- > 0)
    close(filler[--filled]);
}

static void restore(void)
{
  while(filled > 0)
    close(filler[--filled]);
  CHECK_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
}

/* How many descriptors can be opened now (each closed again). */
static int free_now(void)
{
  int fds[256], n = 0, i;
  while(n < 256 && (fds[n] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
    n++;
  for(i = 0; i < n; i++)
    close(fds[i]);
  return n;
}

static void init_with_few(void)
{
  int k, first = -1, leaked = 0;
  for(k = 0; k <= 16 && first < 0; k++) {
    CURLM *m;
    exhaust(k);
    m = curl_multi_init();
    if(m) {
      first = k;
      MOK(curl_multi_cleanup(m));
    }
    leaked += free_now() != k;
    restore();
  }
  fprintf(stderr, "curl_multi_init first succeeds with %d free descriptors\n", first);
  CHECK(first >= 0);
  if(atoi(getenv("EXPECT_CURLMUX")))
    CHECK(first >= 4);
  printf("init with too few free descriptors, then enough: descriptors kept after failing or cleanup: %d\n", leaked);
}

static void run_out_during(enum loop l)
{
  CURLM *m = curl_multi_init();
  int ok, refused;
  if(l == LOOP_EVENTS)
    events_init(m);
  done = twice = 0;
  exhaust(3);
  add(m, 0, 8, "/delay/200/%d");
  run_loop(l, m, on_done, 8);
  restore();
  ok = ended_with(0, 8, CURLE_OK);
  refused = ended_with(0, 8, CURLE_COULDNT_CONNECT);
  fprintf(stderr, "%s: with 3 descriptors free, %d of 8 ok\n", loop_names[l], ok);
  CHECK(ok >= 1);
  add(m, 8, 4, "/bytes/%d");
  run_loop(l, m, on_done, 4);
  LOOP_PRINTF(l, "%s: 3 descriptors for 8 transfers: messages %d (twice %d), ok or COULDNT_CONNECT %d; 4 more after: ok %d\n",
              loop_names[l], done, twice, ok + refused, ended_with(8, 4, CURLE_OK));
  remove_all(m, 12);
  MOK(curl_multi_cleanup(m));
  if(l == LOOP_EVENTS)
    events_done();
}

/* ---- sockets epoll will not watch ---- */

static void refuse_epoll_add(void)
{
  struct sock_filter code[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_epoll_ctl, 0, 3),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, EPOLL_CTL_ADD, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSPC & SECCOMP_RET_DATA)),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};
  CHECK_EQ(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
  CHECK_EQ(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
}

/* In a child (the filter cannot be taken back): `before` transfers run a
   little first (few: libcurl may walk them with its own poll), then 150 more
   join; every one must end once, as this implementation answers. */
static void unwatchable(enum loop l, int before)
{
  pid_t child;
  int status;
  fflush(stdout);
  child = fork();
  CHECK(child >= 0);
  if(child == 0) {
    CURLM *m = curl_multi_init();
    int running, i, n = before + 150;
    int expect = atoi(getenv("EXPECT_CURLMUX")) ? CURLE_OUT_OF_MEMORY : CURLE_OK;
    CHECK(m != NULL);
    refuse_epoll_add();
    done = twice = 0;
    if(before) {
      add(m, 0, before, "/delay/500/%d");
      for(i = 0; i < 5; i++) {
        MOK(curl_multi_perform(m, &running));
        usleep(5000);
      }
    }
    add(m, before, 150, "/delay/100/%d");
    run_loop(l, m, on_done, n);
    LOOP_PRINTF(l, "%s: epoll refuses sockets, %d before and 150 after: messages %d (twice %d), as expected %d\n",
                loop_names[l], before, done, twice, ended_with(0, n, expect));
    remove_all(m, n);
    MOK(curl_multi_cleanup(m));
    exit(0);
  }
  CHECK_EQ(waitpid(child, &status, 0), child);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- interrupted waits ---- */

static void interrupted(enum loop l)
{
  CURLM *m = curl_multi_init();
  int signals;
  if(l == LOOP_EVENTS)
    events_init(m);
  done = twice = 0;
  add(m, 0, 20, "/trickle/%d/5/300");
  interrupt_start();
  run_loop(l, m, on_done, 20);
  signals = interrupt_stop();
  fprintf(stderr, "%s: %d signals\n", loop_names[l], signals);
  CHECK(signals > 100);
  LOOP_PRINTF(l, "%s: interrupted every 200 us: messages %d (twice %d), ok %d\n", loop_names[l], done, twice,
              ended_with(0, 20, CURLE_OK));
  remove_all(m, 20);
  MOK(curl_multi_cleanup(m));
  if(l == LOOP_EVENTS)
    events_done();
}

/* ---- a wakeup storm ---- */

#define WAKERS 8
#define WAKEUPS 20000
static CURLM *storm_multi;
static int wakeup_failures;
static pthread_mutex_t failures_lock = PTHREAD_MUTEX_INITIALIZER;

static void *waker(void *arg)
{
  int i, failed = 0;
  (void)arg;
  for(i = 0; i < WAKEUPS; i++)
    failed += curl_multi_wakeup(storm_multi) != CURLM_OK;
  pthread_mutex_lock(&failures_lock);
  wakeup_failures += failed;
  pthread_mutex_unlock(&failures_lock);
  return NULL;
}

static void storm(void)
{
  pthread_t threads[WAKERS];
  int i;
  storm_multi = curl_multi_init();
  done = twice = 0;
  add(storm_multi, 0, 40, "/delay/100/%d");
  for(i = 0; i < WAKERS; i++)
    CHECK_EQ(pthread_create(&threads[i], NULL, waker, NULL), 0);
  run_loop(LOOP_POLL, storm_multi, on_done, 40);
  for(i = 0; i < WAKERS; i++)
    CHECK_EQ(pthread_join(threads[i], NULL), 0);
  NEWER_PRINTF("poll: %d wakeups from %d threads: failed %d; messages %d (twice %d), ok %d\n", WAKERS * WAKEUPS,
               WAKERS, wakeup_failures, done, twice, ended_with(0, 40, CURLE_OK));
  remove_all(storm_multi, 40);
  MOK(curl_multi_cleanup(storm_multi));
}

int main(void)
{
  int l;
  harness_init();
  /* Bind libcurl (curlmux may dlopen it) before descriptors run short. */
  MOK(curl_multi_cleanup(curl_multi_init()));
  init_with_few();
  for(l = LOOP_SELECT; l <= LOOP_EVENTS; l++) {
    if(!loop_runs((enum loop)l))
      continue;
    run_out_during((enum loop)l);
    interrupted((enum loop)l);
  }
  /* The event loop is left out: its own epoll_ctl is refused as well. */
  for(l = LOOP_SELECT; l <= LOOP_POLL; l++) {
    if(!loop_runs((enum loop)l))
      continue;
    unwatchable((enum loop)l, 0);
    unwatchable((enum loop)l, 20);
  }
  if(HAVE_NEWER)
    storm();
  return 0;
}
