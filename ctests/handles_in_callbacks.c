/* stock: needs curl_multi_get_handles
   curl_multi_get_handles from inside the write and socket callbacks of an
   event loop lists the easy being driven, as libcurl (8.4 and later) does
   there. Bound to an older libcurl, curlmux provides the function but
   answers NULL inside callbacks: its list is then its own books, which the
   callback's caller holds. */
#include "loops.h"

typedef CURL **(*get_handles_fn)(CURLM *);

static get_handles_fn get_handles;
static CURLM *m;
static CURL *easy[2];
static int from_write = -1, from_socket = -1;

/* 1 when the multi's list holds `self`, 0 when not, 2 for no list. */
static int listed(CURL *self)
{
  CURL **list = get_handles(m);
  int i, found = 0;
  if(!list)
    return 2;
  for(i = 0; list[i]; i++)
    found |= list[i] == self;
  curl_free(list);
  return found;
}

static size_t on_write(char *data, size_t size, size_t n, void *userp)
{
  (void)data;
  (void)userp;
  if(from_write < 0)
    from_write = listed(easy[1]);
  return size * n;
}

static int probe_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
  if(from_socket < 0 && e == easy[1])
    from_socket = listed(e);
  return on_socket(e, s, what, userp, socketp);
}

int main(void)
{
  struct body b[2];
  int expect;

  harness_init();
  get_handles = (get_handles_fn)curlmux_symbol("curl_multi_get_handles");
  if(!get_handles) {
    fprintf(stderr, "curl_multi_get_handles is not available\n");
    return 1;
  }
  expect = libcurl_has_get_handles() ? 1 : 2;
  m = curl_multi_init();
  CHECK(m != NULL);
  events_init(m);
  MOK(curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, probe_socket));
  /* A finished transfer still attached beside the one whose callbacks ask
     (8.10 to 8.13 leave finished ones out of their list; every version
     lists the running one). */
  easy[0] = new_transfer(&b[0], "/bytes/100");
  MOK(curl_multi_add_handle(m, easy[0]));
  run_loop(LOOP_EVENTS, m, expect_ok, 1);
  easy[1] = new_transfer(&b[1], "/trickle/2000/4/200");
  curl_easy_setopt(easy[1], CURLOPT_WRITEFUNCTION, on_write);
  /* its own socket, which the socket callback is told about with it */
  curl_easy_setopt(easy[1], CURLOPT_FRESH_CONNECT, 1L);
  MOK(curl_multi_add_handle(m, easy[1]));
  run_loop(LOOP_EVENTS, m, expect_ok, 1);
  events_done();
  CHECK_EQ(from_write, expect);
  CHECK_EQ(from_socket, expect);
  MOK(curl_multi_remove_handle(m, easy[0]));
  MOK(curl_multi_remove_handle(m, easy[1]));
  curl_easy_cleanup(easy[0]);
  curl_easy_cleanup(easy[1]);
  MOK(curl_multi_cleanup(m));
  printf("get_handles inside the write and socket callbacks: %s\n",
         expect == 1 ? "lists the easy being driven" : "NULL (curlmux over a libcurl before 8.4)");
  return 0;
}
