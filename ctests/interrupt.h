/* A thread that sends the calling thread SIGUSR1 every 200 us (handler
   installed without SA_RESTART), so that every wait it makes sees EINTR. */
#ifndef CURLMUX_TEST_INTERRUPT_H
#define CURLMUX_TEST_INTERRUPT_H

#include "harness.h"
#include <pthread.h>
#include <signal.h>

static volatile sig_atomic_t interrupt_signals;
static volatile int interrupting;
static pthread_t interrupt_target, interrupt_thread;

static void interrupt_on_signal(int sig)
{
  (void)sig;
  interrupt_signals++;
}

static void *interrupt_loop(void *arg)
{
  (void)arg;
  while(interrupting) {
    pthread_kill(interrupt_target, SIGUSR1);
    usleep(200);
  }
  return NULL;
}

static void interrupt_start(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = interrupt_on_signal;
  CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
  interrupt_signals = 0;
  interrupting = 1;
  interrupt_target = pthread_self();
  CHECK_EQ(pthread_create(&interrupt_thread, NULL, interrupt_loop, NULL), 0);
}

/* Stops the thread; how many signals arrived. */
static int interrupt_stop(void)
{
  interrupting = 0;
  CHECK_EQ(pthread_join(interrupt_thread, NULL), 0);
  return (int)interrupt_signals;
}

#endif
