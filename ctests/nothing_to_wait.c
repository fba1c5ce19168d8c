/* "Nothing to wait for", as libcurl answers it: curl_multi_fdset's maxfd is
   -1 for an easy added but never driven and for a finished transfer whose
   easy is still attached, and curl_multi_wait then returns at once (also in
   a perform + wait loop that waits once more after the last transfer). And the
   descriptors fdset hands out go back to curl_multi_socket_action: pycurl's
   own test driver runs transfers that way (socket and timer callbacks set,
   socket_action(TIMEOUT), fdset, select, socket_action on each ready
   descriptor), and to curl_multi_assign, whose pointer the socket callback
   then gets back (pycurl's multi_socket_test assigns to fdset's first). */
#include "harness.h"

static int max_fd(CURLM *m)
{
  fd_set r, w, x;
  int maxfd = -2;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_ZERO(&x);
  MOK(curl_multi_fdset(m, &r, &w, &x, &maxfd));
  return maxfd;
}

/* Descriptors fdset named that the loop assigned a pointer to (marks[fd]). */
static char marks[FD_SETSIZE], assigned[FD_SETSIZE];
static int assign_refused, pointers_back, wrong_pointers;

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
  (void)e;
  (*(int *)userp) += what >= CURL_POLL_IN;
  if(socketp) {
    pointers_back += s < FD_SETSIZE && socketp == &marks[s];
    wrong_pointers += s >= FD_SETSIZE || socketp != &marks[s];
  }
  if(what == CURL_POLL_REMOVE && s < FD_SETSIZE)
    assigned[s] = 0;
  return 0;
}

static int on_timer(CURLM *m, long ms, void *userp)
{
  (void)m;
  (void)ms;
  (*(int *)userp)++;
  return 0;
}

/* pycurl's driver (tests/multi_socket_select_test.py and friends). */
static int fdset_driven(int n)
{
  struct body b[8];
  CURL *e[8];
  CURLM *m = curl_multi_init();
  CURLMsg *msg;
  int i, running = 1, left, sockets = 0, timers = 0, done = 0;
  MOK(curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket));
  MOK(curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &sockets));
  MOK(curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer));
  MOK(curl_multi_setopt(m, CURLMOPT_TIMERDATA, &timers));
  for(i = 0; i < n; i++) {
    e[i] = new_transfer(&b[i], "/delay/50/%d", 100 + i);
    MOK(curl_multi_add_handle(m, e[i]));
  }
  MOK(curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running));
  while(running) {
    fd_set r, w, x;
    int maxfd = -1, fd;
    long t = -1;
    struct timeval tv;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    MOK(curl_multi_fdset(m, &r, &w, &x, &maxfd));
    MOK(curl_multi_timeout(m, &t));
    if(t < 0 || t > 1000)
      t = 1000;
    tv.tv_sec = t / 1000;
    tv.tv_usec = (t % 1000) * 1000;
    for(fd = 0; fd <= maxfd; fd++)
      if((FD_ISSET(fd, &r) || FD_ISSET(fd, &w)) && !assigned[fd]) {
        assign_refused += curl_multi_assign(m, fd, &marks[fd]) != CURLM_OK;
        assigned[fd] = 1;
      }
    CHECK(select(maxfd + 1, &r, &w, &x, &tv) >= 0);
    if(maxfd < 0)
      MOK(curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running));
    for(fd = 0; fd <= maxfd; fd++) {
      int bits = (FD_ISSET(fd, &r) ? CURL_CSELECT_IN : 0) | (FD_ISSET(fd, &w) ? CURL_CSELECT_OUT : 0);
      if(bits)
        MOK(curl_multi_socket_action(m, fd, bits, &running));
    }
    if(!t)
      MOK(curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running));
  }
  while((msg = curl_multi_info_read(m, &left))) {
    CHECK_EQ(msg->data.result, CURLE_OK);
    done++;
  }
  for(i = 0; i < n; i++) {
    CHECK_EQ(b[i].len, (size_t)(100 + i));
    MOK(curl_multi_remove_handle(m, e[i]));
    curl_easy_cleanup(e[i]);
  }
  CHECK(sockets > 0 && timers > 0);
  MOK(curl_multi_cleanup(m));
  return done;
}

int main(void)
{
  struct body b;
  CURLM *m;
  CURL *e;
  int running = 1, numfds = -1;
  double t0;

  harness_init();
  m = curl_multi_init();
  e = curl_easy_init();
  MOK(curl_multi_add_handle(m, e));
  printf("added, never driven, no URL: maxfd %d\n", max_fd(m));
  MOK(curl_multi_remove_handle(m, e));
  curl_easy_cleanup(e);

  e = new_transfer(&b, "/bytes/10");
  MOK(curl_multi_add_handle(m, e));
  while(running) {
    MOK(curl_multi_perform(m, &running));
    if(running)
      MOK(curl_multi_wait(m, NULL, 0, 1000, &numfds));
  }
  CHECK_EQ(b.len, (size_t)10);
  printf("finished, still attached: maxfd %d\n", max_fd(m));
  /* At once, or its whole 2 s: 1 s tells them apart with room for
     valgrind on a loaded 2-core machine (here and below). */
  t0 = now_s();
  MOK(curl_multi_wait(m, NULL, 0, 2000, &numfds));
  printf("curl_multi_wait(2000 ms) then returns at once: %d, numfds %d\n", now_s() - t0 < 1.0, numfds);
  MOK(curl_multi_remove_handle(m, e));
  curl_easy_cleanup(e);
  MOK(curl_multi_cleanup(m));

  /* PHP's loop (curl_multi_exec, then curl_multi_select, which is
     curl_multi_wait, while anything runs) waits once more after the last
     transfer ended. A small multi that never asked fdset is one libcurl's
     own walk drives under curlmux: the wait must still be curl_multi_wait's. */
  m = curl_multi_init();
  e = new_transfer(&b, "/bytes/10");
  MOK(curl_multi_add_handle(m, e));
  do {
    MOK(curl_multi_perform(m, &running));
    t0 = now_s();
    MOK(curl_multi_wait(m, NULL, 0, 2000, &numfds));
  } while(running);
  CHECK_EQ(b.len, (size_t)10);
  printf("perform + wait loop: the wait after the last transfer ended returns at once: %d\n", now_s() - t0 < 1.0);
  MOK(curl_multi_remove_handle(m, e));
  curl_easy_cleanup(e);
  MOK(curl_multi_cleanup(m));

  printf("fdset-driven socket_action loop: %d of 5 done\n", fdset_driven(5));
  printf("curl_multi_assign took every descriptor fdset named: %d, the socket callback got "
         "those pointers back: %d, and no other: %d\n",
         assign_refused == 0, pointers_back > 0, wrong_pointers == 0);
  return 0;
}
