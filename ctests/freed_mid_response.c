/* An easy freed with curl_easy_cleanup while attached, its response still
   on the way: the next transfer of the multi must read its own response.
   libcurl 7.75 to 8.14 detach the connection before removing the easy, so
   the connection goes back to the cache carrying the freed transfer's
   response, and the next transfer on it reads that response as its own
   (curl issue 17578, fixed in 8.15 by 66d35ee5d4). curlmux removes the easy
   from its multi first, while it still holds the connection, and libcurl
   closes it; NO_ORACLE in harness.rs names the libcurls of the matrix where
   stock reads the wrong response. In every loop style. */
#include "loops.h"

static int done;
static CURLcode last;

static void on_done(CURL *e, CURLcode rc)
{
  (void)e;
  last = rc;
  done++;
}

static void freed_mid_response(enum loop l)
{
  struct body a, b;
  CURLM *m = curl_multi_init();
  CURL *first, *next;
  int running;
  if(l == LOOP_EVENTS)
    events_init(m);
  first = new_transfer(&a, "/delay/300/1000");
  MOK(curl_multi_add_handle(m, first));
  /* Connect and send the request; the answer comes in 300 ms. */
  perform_until_sent(m, &first, 1);
  MOK(curl_multi_perform(m, &running));
  CHECK_EQ(running, 1);
  curl_easy_cleanup(first); /* still attached */
  /* Its own answer comes late enough that every libcurl waits on its socket
     (7.61 can otherwise finish it inside one socket_action, before any
     socket callback, and the event loop's check would fail). */
  next = new_transfer(&b, "/delay/20/500");
  MOK(curl_multi_add_handle(m, next));
  done = 0;
  run_loop(l, m, on_done, 1);
  CHECK_EQ(done, 1);
  LOOP_PRINTF(l, "%s: after one freed mid-response, the next transfer read %zu bytes%s, result %d\n", loop_names[l],
              b.len, b.mismatch ? " (not its own)" : "", last);
  MOK(curl_multi_remove_handle(m, next));
  curl_easy_cleanup(next);
  MOK(curl_multi_cleanup(m));
  if(l == LOOP_EVENTS)
    events_done();
}

int main(void)
{
  int l;
  harness_init();
  for(l = LOOP_SELECT; l <= LOOP_EVENTS; l++)
    if(loop_runs((enum loop)l))
      freed_mid_response((enum loop)l);
  return 0;
}
