/*
 * What the threaded C tests share: the calling thread's id as the kernel
 * knows it, waiting until another thread is asleep in a wait of the kernel
 * (a condition read from /proc, not a guess at how long it takes to get
 * there), and how many rounds a test makes (fewer under valgrind, which the
 * runner announces with CURLMUX_TEST_VALGRIND, CURLMUX_TEST_HELGRIND too under
 * helgrind).
 */
#ifndef CURLMUX_TEST_THREADS_H
#define CURLMUX_TEST_THREADS_H

#include "harness.h"
#include <pthread.h>
#include <sys/syscall.h>

static inline pid_t thread_id(void)
{
  return (pid_t)syscall(SYS_gettid);
}

/* Whether thread tid sleeps in epoll_wait, poll or select: its kernel
   wait channel says so. */
static inline int asleep_in_poll(pid_t tid)
{
  char path[64], wchan[128] = "";
  FILE *f;
  snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", (int)tid);
  f = fopen(path, "r");
  if(!f)
    return 0;
  if(!fgets(wchan, sizeof(wchan), f))
    wchan[0] = 0;
  fclose(f);
  return strstr(wchan, "epoll") != NULL || strstr(wchan, "poll_schedule") != NULL;
}

/* Waits until thread tid sleeps in a poll of the kernel's (checked every
   0.2 ms: a condition, polled). */
static inline void wait_until_asleep(pid_t tid)
{
  while(!asleep_in_poll(tid))
    usleep(200);
}

/* Whether the run is under valgrind's helgrind, which the runner announces
   with CURLMUX_TEST_HELGRIND: it checks for data races, and counts even a
   try-lock, which cannot wait, in its lock order. */
static inline int under_helgrind(void)
{
  const char *v = getenv("CURLMUX_TEST_HELGRIND");
  return v && *v == '1';
}

/* A flag other threads poll, read and written with atomics: not a race,
   and helgrind is told so where its header is at hand. */
#if __has_include(<valgrind/helgrind.h>)
#include <valgrind/helgrind.h>
#define ATOMIC_FLAG(x) VALGRIND_HG_DISABLE_CHECKING(&(x), sizeof(x))
#else
#define ATOMIC_FLAG(x) ((void)0)
#endif

/* n, or n / 5 (at least 2) under valgrind. */
static inline int rounds(int n)
{
  const char *v = getenv("CURLMUX_TEST_VALGRIND");
  int small = n / 5;
  return v && *v == '1' ? (small < 2 ? 2 : small) : n;
}

#endif
