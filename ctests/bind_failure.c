/* stock: skip (what happens when curlmux finds no libcurl is curlmux's own)
   With no usable libcurl, curl_multi_init returns NULL and, under
   CURLMUX_DEBUG, says why on stderr in one line. */
#include "harness.h"
#include <fcntl.h>

int main(void)
{
  char log[] = "/tmp/curlmux-bind-XXXXXX", text[4096];
  int fd, saved;
  ssize_t n;

  harness_init();
  CHECK_EQ(setenv("CURLMUX_LIBCURL", "/nonexistent/libcurl.so.4", 1), 0);
  CHECK_EQ(setenv("CURLMUX_DEBUG", "1", 1), 0);
  fd = mkstemp(log);
  CHECK(fd >= 0);
  saved = dup(2);
  CHECK_EQ(dup2(fd, 2), 2);
  CHECK(curl_multi_init() == NULL);
  CHECK(curl_multi_init() == NULL);
  CHECK_EQ(dup2(saved, 2), 2);
  n = pread(fd, text, sizeof(text) - 1, 0);
  CHECK(n > 0);
  text[n] = 0;
  close(fd);
  unlink(log);
  CHECK(strstr(text, "curlmux: no libcurl: CURLMUX_LIBCURL=/nonexistent/libcurl.so.4") != NULL);
  CHECK(strchr(text, '\n') == text + n - 1); /* one line, once */
  printf("no libcurl: curl_multi_init returns NULL and says why\n");
  return 0;
}
