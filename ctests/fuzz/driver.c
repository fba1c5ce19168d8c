/*
 * Runs a sequence of multi API calls read from stdin, one per line, and
 * prints what each returned; ctests/fuzz.rs feeds the same sequence to this
 * program against stock libcurl and against curlmux and compares.
 *
 *   init K | cleanup K | add K E | remove K E | perform K | wait K |
 *   info K | setopt K | badopt K | addnull K | removenull K | drain K |
 *   timeout K | fdset K | socket K | poll K | wakeup K
 *
 * K picks one of 3 multi slots (NULL when not initialised or cleaned up:
 * a freed handle is undefined in libcurl, NULL is not), E one of 6 easy
 * slots. Every transfer takes at least 400 ms, so nothing finishes between
 * two quick calls; results are printed only by `drain`, which runs a multi
 * until nothing runs and reports every message received so far, whether
 * `info` or `drain` read it. Each transfer must yield exactly one message.
 * `timeout` prints whether any timeout is set, not how long (it ticks);
 * `fdset` only its code (curlmux names its epoll fd there, libcurl its
 * sockets); `poll` and `wakeup` print "newer: " lines, compared only where
 * the bound libcurl has both (harness.h).
 */
#include "../harness.h"

#define MULTIS 3
#define EASIES 6
static CURLM *multi[MULTIS];
static CURL *easy[EASIES];
static struct body bodies[EASIES];
static long got[EASIES];  /* result + 1 of the message received, 0 for none */
static int owner[EASIES]; /* multi slot + 1 it is attached to, 0 for none */

static CURL *easy_at(int e)
{
  if(!easy[e]) {
    easy[e] = new_transfer(&bodies[e], "/delay/%d/%d", e % 3 == 2 ? 3000 : 400, 100 + e);
    if(e % 3 == 1)
      curl_easy_setopt(easy[e], CURLOPT_MAXFILESIZE, 50L); /* 63 */
    if(e % 3 == 2)
      curl_easy_setopt(easy[e], CURLOPT_TIMEOUT_MS, 800L); /* 28 */
  }
  return easy[e];
}

static int index_of(CURL *e)
{
  int i;
  for(i = 0; i < EASIES; i++)
    if(easy[i] == e)
      return i;
  return -1;
}

static void record(CURLMsg *msg)
{
  int i = index_of(msg->easy_handle);
  CHECK(i >= 0);
  if(got[i])
    printf("DUPLICATE message for easy %d\n", i);
  got[i] = (long)msg->data.result + 1;
}

int main(void)
{
  char op[32];
  int k, e;

  harness_init();
  while(scanf("%31s %d", op, &k) == 2) {
    CURLM *m = multi[k % MULTIS];
    int code = -1, running, numfds, q;
    k %= MULTIS;
    if(!strcmp(op, "init")) {
      if(!m)
        multi[k] = curl_multi_init();
      printf("init %d\n", k);
      continue;
    }
    if(!strcmp(op, "add") || !strcmp(op, "remove")) {
      CHECK(scanf("%d", &e) == 1);
      e %= EASIES;
      if(op[0] == 'a') {
        code = curl_multi_add_handle(m, easy_at(e));
        if(code == CURLM_OK) {
          owner[e] = k + 1;
          got[e] = 0;
        }
      }
      else {
        code = curl_multi_remove_handle(m, easy_at(e));
        if(code == CURLM_OK && owner[e] == k + 1)
          owner[e] = 0;
      }
      printf("%s %d %d -> %d\n", op, k, e, code);
      continue;
    }
    if(!strcmp(op, "cleanup")) {
      code = curl_multi_cleanup(m);
      if(code == CURLM_OK) {
        multi[k] = NULL;
        for(e = 0; e < EASIES; e++)
          if(owner[e] == k + 1)
            owner[e] = 0;
      }
    }
    else if(!strcmp(op, "perform"))
      code = curl_multi_perform(m, &running);
    else if(!strcmp(op, "wait"))
      code = curl_multi_wait(m, NULL, 0, 5, &numfds);
    else if(!strcmp(op, "setopt"))
      code = curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 3L);
    else if(!strcmp(op, "badopt"))
      code = curl_multi_setopt(m, (CURLMoption)4242, 3L);
    else if(!strcmp(op, "timeout")) {
      long ms = -2;
      code = curl_multi_timeout(m, &ms);
      printf("timeout %d -> %d%s\n", k, code, code == CURLM_OK && ms < 0 ? " none" : "");
      continue;
    }
    else if(!strcmp(op, "fdset")) {
      fd_set r, w, x;
      int max_fd;
      FD_ZERO(&r);
      FD_ZERO(&w);
      FD_ZERO(&x);
      code = curl_multi_fdset(m, &r, &w, &x, &max_fd);
    }
    else if(!strcmp(op, "socket")) {
      /* Before 8.22 libcurl reads a NULL multi here before checking it. */
      if(!m && !libcurl_call_guards()) {
        printf("socket %d -> not on NULL before libcurl 8.22\n", k);
        continue;
      }
      code = curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    else if(!strcmp(op, "poll") || !strcmp(op, "wakeup")) {
      if(HAVE_NEWER)
        NEWER_PRINTF("%s %d -> %d\n", op, k, op[0] == 'p' ? curl_multi_poll(m, NULL, 0, 5, &numfds) : curl_multi_wakeup(m));
      continue;
    }
    else if(!strcmp(op, "addnull"))
      code = curl_multi_add_handle(m, NULL);
    else if(!strcmp(op, "removenull"))
      code = curl_multi_remove_handle(m, NULL);
    else if(!strcmp(op, "info")) {
      CURLMsg *msg = curl_multi_info_read(m, &q);
      if(msg)
        record(msg);
      code = 0;
    }
    else if(!strcmp(op, "drain")) {
      CURLMsg *msg;
      running = 1;
      while(m && running) {
        MOK(curl_multi_perform(m, &running));
        MOK(curl_multi_wait(m, NULL, 0, 100, &numfds));
      }
      while(m && (msg = curl_multi_info_read(m, &q)))
        record(msg);
      printf("drain %d:", k);
      for(e = 0; e < EASIES; e++)
        if(owner[e] == k + 1)
          printf(" easy %d %s", e, got[e] ? "done" : "running");
      for(e = 0; e < EASIES; e++)
        if(got[e])
          printf(" [%d:%ld]", e, got[e] - 1);
      printf("\n");
      continue;
    }
    printf("%s %d -> %d\n", op, k, code);
  }
  for(k = 0; k < MULTIS; k++)
    if(multi[k])
      MOK(curl_multi_cleanup(multi[k]));
  for(e = 0; e < EASIES; e++)
    if(easy[e])
      curl_easy_cleanup(easy[e]);
  return 0;
}
