/* Generated from src/versions.rs (a unit test keeps it current): what
 * libcurl does differently from one version to another, each asked of the
 * libcurl the program runs on. Do not edit. */
#ifndef CURLMUX_TEST_VERSIONS_H
#define CURLMUX_TEST_VERSIONS_H

#include <curl/curl.h>

static inline unsigned libcurl_version(void)
{
  return curl_version_info(CURLVERSION_NOW)->version_num;
}

/* A transfer's TIMEOUT or CONNECTTIMEOUT timer may fire before libcurl
   itself counts the time as up, and is then gone (fixed in 7.64, curl
   6f61933adf). */
static inline int libcurl_loses_timeouts(void)
{
  return libcurl_version() < 0x074000;
}

/* CURLOPT_PIPEWAIT holds a transfer until the first connection says whether
   it multiplexes (7.62; 7.61 opens one to three connections for 40 streams,
   and more when driven by socket_action). */
static inline int libcurl_pipewait_waits(void)
{
  return libcurl_version() >= 0x073e00;
}

/* curl_multi_wait refuses a negative timeout (7.69; before, it waits without
   a limit of its own). */
static inline int libcurl_refuses_negative_wait(void)
{
  return libcurl_version() >= 0x074500;
}

/* curl_multi_remove_handle refuses an easy attached to another multi (7.70;
   before, it answers OK and unlinks the easy from the wrong multi's list). */
static inline int libcurl_checks_remove_owner(void)
{
  return libcurl_version() >= 0x074600;
}

/* The walk (curl_multi_perform, curl_multi_socket_all) runs every transfer
   with one clock that moves on when a transfer starts, leaves the pending
   queue or follows a redirect, then discards every timer due by it, also one
   set during the walk for a transfer it already ran; before 8.15 a wake-up
   is such a timer (since, a dirty mark): a DoH parent whose probes answered
   later in the walk waits for its own timeout (7.73, curl a2c85bb8e4, to
   8.17; 8.18 discards only what was due when the walk began, 2de22a00c7). */
static inline int libcurl_walk_drops_wakeups(void)
{
  return libcurl_version() >= 0x074900 && libcurl_version() < 0x081200;
}

/* curl_easy_cleanup of an attached easy detaches its connection before
   removing the easy, and puts it back in the cache with the response still
   coming: the next transfer on it reads that response (7.75 to 8.14, curl
   66d35ee5d4; curl issue 17578). */
static inline int libcurl_freed_response_to_next(void)
{
  return libcurl_version() >= 0x074b00 && libcurl_version() < 0x080f00;
}

/* Adds and removes from inside the socket and timer callbacks are refused
   with CURLM_RECURSIVE_API_CALL (7.82; 7.61 lets a write or timer callback
   remove the easy it drives, or perform, wait and clean up, and then
   crashes). */
static inline int libcurl_guards_callbacks(void)
{
  return libcurl_version() >= 0x075200;
}

/* A second stream on an h2c (prior knowledge) connection works (8.0; 7.88.1
   fails every stream after the first on a reused h2c connection with
   CURLE_HTTP2, against any server). */
static inline int libcurl_h2c_multiplexes(void)
{
  return libcurl_version() >= 0x080000;
}

/* curl_multi_get_handles (8.4). */
static inline int libcurl_has_get_handles(void)
{
  return libcurl_version() >= 0x080400;
}

/* Running a transfer for one timer, libcurl drops its other timers due
   within the next millisecond as passed (whole milliseconds; fixed in 8.4,
   curl 579f09343d). */
static inline int libcurl_drops_near_timers(void)
{
  return libcurl_version() < 0x080400;
}

/* curl_multi_fdset, _waitfds, _wait and _poll overwrite the record of each
   transfer's sockets that socket_action relies on (last_poll, gone with
   8.13's event rework, curl cfc657a48d): after a walk, transfers sharing a
   connection are forgotten; and a paused transfer's socket wish does not
   show the pause reliably (8.10 to 8.12). */
static inline int libcurl_misreads_last_poll(void)
{
  return libcurl_version() >= 0x080a00 && libcurl_version() < 0x080d00;
}

/* curl_multi_assign checks its handle before reading it: NULL is
   CURLM_BAD_HANDLE (8.11; before, a crash). */
static inline int libcurl_assign_checks_handle(void)
{
  return libcurl_version() >= 0x080b00;
}

/* CURLMNWC_CLEAR_ALL is bit 0 and CLEAR_CONNS bit 1 (8.20; 8.16 to 8.19 had
   CLEAR_CONNS at bit 0). */
static inline int libcurl_network_changed_bits(void)
{
  return libcurl_version() >= 0x081400;
}

/* curl_multi_wait takes a pending curl_multi_wakeup whenever it has anything
   to wait on, a transfer alive included (8.20, curl 9bc8b078eb and
   dc9a03e855; the documentation still says wakeups do not touch it). */
static inline int libcurl_wait_takes_wakeups(void)
{
  return libcurl_version() >= 0x081400;
}

/* curl_multi_perform takes a pending wakeup, so the next curl_multi_poll
   sleeps (8.21 only: curl issue 22272, 2a2104f3cf; fixed in 8.22,
   009fd378e8). */
static inline int libcurl_perform_takes_wakeups(void)
{
  return libcurl_version() >= 0x081500 && libcurl_version() < 0x081600;
}

/* 8.22's call guards (curl dfc01ea2a3): an easy freed inside a callback of
   its multi stays, its transfer running on; a multi inside a call refuses
   another; curl_multi_socket_action checks its handle before reading it;
   easy cleanup, DoH and server push no longer call the public add and remove
   functions. */
static inline int libcurl_call_guards(void)
{
  return libcurl_version() >= 0x081600;
}

/* A pushed transfer's body arrives whole (8.22; 8.12 to 8.21 accept pushes
   whose transfers then fail: 8.12 with CURLE_RECV_ERROR, later ones time
   out). */
static inline int libcurl_delivers_pushes(void)
{
  return libcurl_version() >= 0x081600;
}

#endif
