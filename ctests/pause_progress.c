/* A transfer paused from its write or read callback and unpaused from its
   progress callback, as curl_easy_pause's documentation suggests ("To
   unpause, you may for example call it from the progress callback"; pycurl's
   pause tests do exactly this). A paused transfer has no socket to wait on
   and no timer, yet curl_multi_perform runs it, and so calls its progress
   callback, at every call: a loop of perform and fdset + select, wait or poll
   must finish it. curlmux, which otherwise runs only the transfers with
   something to do, must too. The event loop is not among them: there libcurl
   runs a transfer only for its sockets and timers, and stock never calls a
   paused transfer's progress callback either.

   Ways to pause: the write callback returns CURL_WRITEFUNC_PAUSE (the data
   comes again after the unpause) or calls curl_easy_pause with
   CURLPAUSE_RECV or CURLPAUSE_ALL; the read callback of an upload returns
   CURL_READFUNC_PAUSE or calls curl_easy_pause with CURLPAUSE_SEND. A
   transfer alone, and one paused among 20 others. */
#include "loops.h"

enum how { WRITE_RETURN, PAUSE_RECV, PAUSE_ALL, READ_RETURN, PAUSE_SEND, HOWS };
static const char *const how_names[] = {"write returns pause", "pause recv", "pause all", "read returns pause",
                                        "pause send"};

#define UPLOAD 20000
#define PAUSED_FOR 0.1 /* seconds */

struct paused {
  CURL *e;
  enum how how;
  struct body body;   /* downloads */
  size_t sent, echoed; /* uploads: bytes read and bytes echoed back in order */
  int echo_mismatch;
  int pauses, resumes;
  double paused_at;
};

static struct paused p;
static int done, others_ok;
static CURLcode result;

static size_t on_write(char *data, size_t size, size_t n, void *userp)
{
  struct paused *x = userp;
  size_t len = size * n, i;
  if(x->how <= PAUSE_ALL && !x->pauses) {
    x->pauses++;
    x->paused_at = now_s();
    if(x->how == WRITE_RETURN)
      return CURL_WRITEFUNC_PAUSE;
    CHECK_EQ(curl_easy_pause(x->e, x->how == PAUSE_RECV ? CURLPAUSE_RECV : CURLPAUSE_ALL), CURLE_OK);
  }
  if(x->how >= READ_RETURN) {
    for(i = 0; i < len; i++)
      if(data[i] != pattern(x->echoed + i))
        x->echo_mismatch = 1;
    x->echoed += len;
    return len;
  }
  return body_write(data, size, n, &x->body);
}

static size_t on_read(char *buf, size_t size, size_t n, void *userp)
{
  struct paused *x = userp;
  size_t len = size * n, i;
  if(!x->pauses && x->sent > 0) {
    x->pauses++;
    x->paused_at = now_s();
    if(x->how == READ_RETURN)
      return CURL_READFUNC_PAUSE;
    CHECK_EQ(curl_easy_pause(x->e, CURLPAUSE_SEND), CURLE_OK);
  }
  if(len > 1000)
    len = 1000;
  if(len > UPLOAD - x->sent)
    len = UPLOAD - x->sent;
  for(i = 0; i < len; i++)
    buf[i] = pattern(x->sent + i);
  x->sent += len;
  return len;
}

static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  struct paused *x = userp;
  (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  if(x->pauses > x->resumes && now_s() - x->paused_at >= PAUSED_FOR) {
    x->resumes++;
    CHECK_EQ(curl_easy_pause(x->e, CURLPAUSE_CONT), CURLE_OK);
  }
  return 0;
}

static void on_done(CURL *e, CURLcode rc)
{
  done++;
  if(e == p.e)
    result = rc;
  else {
    expect_ok(e, rc);
    others_ok++;
  }
}

static void paused_transfer(enum loop l, enum how how, int others)
{
  CURLM *m = curl_multi_init();
  CURL *more[20];
  struct body bodies[20];
  int i;
  memset(&p, 0, sizeof(p));
  p.how = how;
  if(how <= PAUSE_ALL)
    p.e = new_transfer(&p.body, "/bytes/30000");
  else {
    p.e = new_transfer(&p.body, "/echo");
    curl_easy_setopt(p.e, CURLOPT_POST, 1L);
    curl_easy_setopt(p.e, CURLOPT_POSTFIELDSIZE, (long)UPLOAD);
    curl_easy_setopt(p.e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(p.e, CURLOPT_READDATA, &p);
    /* libcurl would send the body only once asked to go on */
    curl_easy_setopt(p.e, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
  }
  curl_easy_setopt(p.e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(p.e, CURLOPT_WRITEDATA, &p);
  curl_easy_setopt(p.e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(p.e, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(p.e, CURLOPT_XFERINFODATA, &p);
  curl_easy_setopt(p.e, CURLOPT_TIMEOUT_MS, 20000L);
  MOK(curl_multi_add_handle(m, p.e));
  for(i = 0; i < others; i++) {
    more[i] = new_transfer(&bodies[i], "/trickle/2000/4/%d", 50 * (i % 8));
    MOK(curl_multi_add_handle(m, more[i]));
  }
  done = others_ok = 0;
  result = CURLE_OK;
  run_loop(l, m, on_done, 1 + others);
  CHECK_EQ(done, 1 + others);
  CHECK_EQ(others_ok, others);
  if(how <= PAUSE_ALL)
    LOOP_PRINTF(l, "%s, %s, %d others: result %d, %zu bytes%s, paused %d, resumed %d\n", loop_names[l],
                how_names[how], others, result, p.body.len, p.body.mismatch ? " (wrong)" : "", p.pauses, p.resumes);
  else
    LOOP_PRINTF(l, "%s, %s, %d others: result %d, sent %zu, echoed %zu%s, paused %d, resumed %d\n",
                loop_names[l], how_names[how], others, result, p.sent, p.echoed, p.echo_mismatch ? " (wrong)" : "",
                p.pauses, p.resumes);
  for(i = 0; i < others; i++) {
    MOK(curl_multi_remove_handle(m, more[i]));
    curl_easy_cleanup(more[i]);
  }
  MOK(curl_multi_remove_handle(m, p.e));
  curl_easy_cleanup(p.e);
  MOK(curl_multi_cleanup(m));
}

int main(void)
{
  int l, how;
  harness_init();
  for(l = LOOP_SELECT; l <= LOOP_POLL; l++) {
    if(!loop_runs((enum loop)l))
      continue;
    /* Alone, a paused transfer leaves the loop only its 1 s cap to wake on:
       two ways alone, every way among others. */
    paused_transfer((enum loop)l, WRITE_RETURN, 0);
    paused_transfer((enum loop)l, READ_RETURN, 0);
    for(how = 0; how < HOWS; how++)
      paused_transfer((enum loop)l, (enum how)how, 20);
  }
  return 0;
}
