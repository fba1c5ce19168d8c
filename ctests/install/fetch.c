/* Built by ctests/install.rs with nothing but `pkg-config --cflags --libs
   curlmux`: fetches argv[1] through the installed curlmux and prints what
   answered and how many bytes came. */
#include <curl/curl.h>
#include <curlmux.h>
#include <stdio.h>

static size_t count(char *data, size_t size, size_t n, void *userp)
{
  (void)data;
  *(size_t *)userp += size * n;
  return size * n;
}

int main(int argc, char **argv)
{
  size_t bytes = 0;
  int running = 1, queued;
  CURLM *m;
  CURL *e;
  CURLMsg *msg;
  if(argc != 2)
    return 2;
  m = curl_multi_init();
  e = curl_easy_init();
  if(!m || !e)
    return 3;
  curl_easy_setopt(e, CURLOPT_URL, argv[1]);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, count);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &bytes);
  if(curl_multi_add_handle(m, e) != CURLM_OK)
    return 4;
  while(running) {
    if(curl_multi_perform(m, &running) != CURLM_OK)
      return 5;
    if(running && curl_multi_wait(m, NULL, 0, 1000, NULL) != CURLM_OK)
      return 6;
  }
  msg = curl_multi_info_read(m, &queued);
  if(!msg || msg->msg != CURLMSG_DONE || msg->data.result != CURLE_OK)
    return 7;
  printf("%s bytes=%zu\n", curlmux_version(), bytes);
  curl_multi_remove_handle(m, e);
  curl_easy_cleanup(e);
  curl_multi_cleanup(m);
  return 0;
}
