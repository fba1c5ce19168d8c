/* Compiled (not run) as C and as C++, against Debian's <curl/curl.h> and a
   newer one: curlmux.h must agree with it on every prototype, and supply
   the types and constants of libcurl 8.16 to 8.20 where it lacks them
   without clashing where it has them, or this file does not compile. */
#include <curl/curl.h>
#include "curlmux.h"

typedef void (*fn)(void);
#define F(name) (fn)(name)

int main(void)
{
  fn exports[] = {
    F(curl_multi_init), F(curl_multi_cleanup), F(curl_multi_add_handle),
    F(curl_multi_remove_handle), F(curl_multi_perform), F(curl_multi_fdset),
    F(curl_multi_wait), F(curl_multi_poll), F(curl_multi_wakeup),
    F(curl_multi_timeout), F(curl_multi_info_read), F(curl_multi_setopt),
    F(curl_multi_strerror), F(curl_multi_socket_action), F(curl_multi_socket),
    F(curl_multi_socket_all), F(curl_multi_assign), F(curlmux_select),
    F(curlmux_version), F(curlmux_libcurl), F(curl_multi_get_handles), F(curl_multi_waitfds),
    F(curl_easy_cleanup), F(curl_multi_get_offt), F(curl_multi_notify_enable),
    F(curl_multi_notify_disable),
  };
  CURLMinfo_offt info = CURLMINFO_XFERS_PENDING;
  curl_notify_callback notify = 0;
  CURLMoption options[] = {CURLMOPT_NOTIFYFUNCTION, CURLMOPT_NOTIFYDATA, CURLMOPT_NETWORK_CHANGED,
                           CURLMOPT_RESOLVE_THREADS_MAX, CURLMOPT_QUICK_EXIT};
  long bits = CURLMNWC_CLEAR_CONNS | CURLMNWC_CLEAR_DNS;
  unsigned int kinds[] = {CURLMNOTIFY_INFO_READ, CURLMNOTIFY_EASY_DONE};
  return exports[0] == 0 && info && !notify && options[0] && bits && kinds[1];
}
