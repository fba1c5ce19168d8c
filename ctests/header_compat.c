/* Compiled (not run) as C and as C++: curlmux.h must agree with <curl/curl.h>
   on every prototype, or this file does not compile. */
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
    F(curl_easy_cleanup),
  };
  return exports[0] == 0;
}
