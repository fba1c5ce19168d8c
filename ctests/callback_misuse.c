/* Calls from inside every kind of callback get libcurl 7.88's answers:
   header, progress (xferinfo), write, socket and timer callbacks. */
#include "loops.h"

static CURLM *pm;
static CURL *other;
static int probed[5];
/* What each kind of callback got, printed in this order at the end: the
   order in which callbacks first run depends on timing. */
static char answers[5][200];
static int woken[5];

static void probe(int kind, const char *where, CURL *self)
{
  int running, numfds, q = -1;
  int add, rm, perform, wait, timeout, setopt, assign;
  long ms;
  CURLMsg *msg;
  if(probed[kind]++)
    return;
  add = curl_multi_add_handle(pm, other);
  rm = curl_multi_remove_handle(pm, self ? self : other);
  perform = curl_multi_perform(pm, &running);
  wait = curl_multi_wait(pm, NULL, 0, 0, &numfds);
  timeout = curl_multi_timeout(pm, &ms);
  setopt = curl_multi_setopt(pm, CURLMOPT_MAXCONNECTS, 9L);
  msg = curl_multi_info_read(pm, &q);
  assign = curl_multi_assign(pm, 100000, NULL);
  snprintf(answers[kind], sizeof(answers[kind]),
           "%s: add %d remove %d perform %d wait %d timeout %d setopt %d info_read %s/%d assign-unknown %d", where, add,
           rm, perform, wait, timeout, setopt, msg ? "message" : "NULL", q, assign);
  woken[kind] = HAVE_NEWER ? curl_multi_wakeup(pm) : -1;
}

static void print_answers(void)
{
  int kind;
  for(kind = 0; kind < 5; kind++) {
    printf("%s\n", answers[kind]);
    if(HAVE_NEWER)
      NEWER_PRINTF("wakeup %d\n", woken[kind]);
  }
}

static size_t on_header(char *p, size_t s, size_t n, void *u)
{
  (void)p;
  probe(0, "header", u);
  return s * n;
}

static int on_progress(void *u, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
  (void)a;
  (void)b;
  (void)c;
  (void)d;
  probe(1, "progress", u);
  return 0;
}

static size_t on_write(char *p, size_t s, size_t n, void *u)
{
  (void)p;
  probe(2, "write", u);
  return s * n;
}

static int timer_probe(CURLM *m, long ms, void *u)
{
  probe(3, "timer", NULL);
  return on_timer(m, ms, u);
}

static int socket_probe(CURL *e, curl_socket_t s, int what, void *u, void *sp)
{
  probe(4, "socket", e);
  return on_socket(e, s, what, u, sp);
}

static void on_done(CURL *e, CURLcode rc)
{
  CHECK_DONE(e, rc);
}

int main(void)
{
  struct body b, ob;
  CURL *e;

  harness_init();
  pm = curl_multi_init();
  CHECK(pm != NULL);
  events_init(pm);
  MOK(curl_multi_setopt(pm, CURLMOPT_SOCKETFUNCTION, socket_probe));
  MOK(curl_multi_setopt(pm, CURLMOPT_TIMERFUNCTION, timer_probe));
  other = new_transfer(&ob, "/bytes/10");
  e = new_transfer(&b, "/trickle/3000/3/200");
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, e);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, e);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, e);
  MOK(curl_multi_add_handle(pm, e));
  run_loop(LOOP_EVENTS, pm, on_done, 1);
  CHECK(probed[0] && probed[1] && probed[2] && probed[3] && probed[4]);
  print_answers();
  MOK(curl_multi_remove_handle(pm, e));
  curl_multi_remove_handle(pm, other);
  MOK(curl_multi_cleanup(pm));
  events_done();
  curl_easy_cleanup(e);
  curl_easy_cleanup(other);
  return 0;
}
