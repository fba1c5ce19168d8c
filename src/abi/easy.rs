//! The two easy-handle functions curlmux exports: `curl_easy_cleanup`, so
//! that an easy freed while attached leaves curlmux's books on every libcurl
//! (libcurl 8.22 and later detach it internally, without calling the public
//! `curl_multi_remove_handle` that earlier versions call through their PLT),
//! and `curl_easy_pause`, so that a paused transfer is run at every perform
//! as libcurl runs it.

use std::ffi::c_int;

use curl_sys::{CURL, CURLE_BAD_FUNCTION_ARGUMENT, CURLPAUSE_RECV, CURLPAUSE_SEND, CURLcode};

use crate::engine::libcurl;
use crate::panic::boundary;
use crate::registry;

/// libcurl's `curl_easy_cleanup`: frees `handle`, detaching it first from
/// a multi it is still attached to. An easy attached to a curlmux multi is
/// removed from it first, as `curl_multi_remove_handle` would, so none of
/// curlmux's multis keeps a freed easy in its books, counts it as running or
/// hands it out again, and a connection with a response still in flight is
/// closed rather than reused (libcurl 7.75 to 8.14 would give that response
/// to the next transfer on it). NULL does nothing. From inside a callback
/// of a curlmux multi, libcurl 8.22 and later do nothing to an easy attached
/// to it (the transfer runs on, to its message), and neither does curlmux;
/// earlier libcurls would free it while still driving it (and crash or
/// hang), so curlmux holds the free back until libcurl's call returns, then
/// removes the easy and frees it: no message for it, and its callbacks are
/// silenced meanwhile (body and headers discarded, upload aborted, no
/// progress or debug calls). The notify callback counts as inside a call
/// from 8.22, as in libcurl: an easy of its multi freed there stays, with
/// its message.
///
/// Thread rules as libcurl's: the easy must not be in use by another thread.
///
/// # Safety
/// `handle` is NULL or an easy handle not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_easy_cleanup(handle: *mut CURL) {
    boundary!({
        if handle.is_null() {
            return;
        }
        let mut held_back = false;
        registry::each_live(|m| {
            held_back |= m.easy_freed(handle, !held_back);
            true
        });
        if held_back {
            return;
        }
        match libcurl() {
            // SAFETY: the caller's easy goes unchanged to the libcurl that made it.
            Ok(lib) => unsafe { (lib.easy_cleanup)(handle) },
            Err(why) => crate::debug::trace!("curl_easy_cleanup: no libcurl to free {handle:p}: {why}"),
        }
    })
}

/// libcurl's `curl_easy_pause`, unchanged in what it does and returns. A
/// transfer of a curlmux multi that `action` leaves paused in some direction
/// is run by every `curl_multi_perform` until it is unpaused
/// (`CURLPAUSE_CONT`) or finishes, as libcurl's perform runs every transfer:
/// its progress callback, where curl_easy_pause's documentation suggests to
/// unpause from, keeps being called. (A transfer paused by its write or read
/// callback's return value is recognised by its socket losing interest.)
///
/// libcurl's pause works on the transfer's multi too (an unpause may run its
/// write callback and set a timer), so for a transfer of a curlmux multi it
/// runs under that multi's lock: between calls, any thread may call it,
/// waiting while another thread drives the multi; inside one of the multi's
/// callbacks it runs at once. Otherwise thread rules as libcurl's.
///
/// # Safety
/// `handle` is an easy handle not yet freed (NULL is refused, as libcurl does).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_easy_pause(handle: *mut CURL, action: c_int) -> CURLcode {
    boundary!(CURLE_BAD_FUNCTION_ARGUMENT, {
        let lib = match libcurl() {
            Ok(lib) => lib,
            Err(why) => {
                crate::debug::trace!("curl_easy_pause: no libcurl for {handle:p}: {why}");
                return CURLE_BAD_FUNCTION_ARGUMENT;
            }
        };
        // SAFETY: the caller's easy goes unchanged to the libcurl that made it.
        let pause = || unsafe { (lib.easy_pause)(handle, action) };
        if handle.is_null() {
            return pause();
        }
        let paused = action & (CURLPAUSE_RECV | CURLPAUSE_SEND) != 0;
        let mut answer = None;
        registry::each_live(|m| {
            answer = m.pause_easy(handle, paused, &pause);
            answer.is_none()
        });
        answer.unwrap_or_else(pause)
    })
}
