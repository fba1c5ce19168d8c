/* Prints the values of libcurl 8.16 to 8.20's multi constants. Built twice
   (ctests/harness.rs): against Debian's 7.88 <curl/curl.h>, where curlmux.h
   supplies them, and against a newer one that defines them itself; both
   runs must print the same. Uses no function, so it links nothing. */
#include <curl/curl.h>
#include <stdio.h>
#include "curlmux.h"

#define P(name) printf("%s=%ld\n", #name, (long)(name))

int main(void)
{
  P(CURLMINFO_XFERS_CURRENT);
  P(CURLMINFO_XFERS_RUNNING);
  P(CURLMINFO_XFERS_PENDING);
  P(CURLMINFO_XFERS_DONE);
  P(CURLMINFO_XFERS_ADDED);
  P(CURLMOPT_NETWORK_CHANGED);
  P(CURLMNWC_CLEAR_ALL);
  P(CURLMNWC_CLEAR_CONNS);
  P(CURLMNWC_CLEAR_DNS);
  P(CURLMOPT_NOTIFYFUNCTION);
  P(CURLMOPT_NOTIFYDATA);
  P(CURLMNOTIFY_INFO_READ);
  P(CURLMNOTIFY_EASY_DONE);
  P(CURLMOPT_RESOLVE_THREADS_MAX);
  P(CURLMOPT_QUICK_EXIT);
  return 0;
}
