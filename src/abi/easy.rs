//! The one easy-handle function curlmux exports: `curl_easy_cleanup`, so that
//! an easy freed while attached leaves curlmux's books on every libcurl
//! (libcurl 8.22 and later detach it internally, without calling the public
//! `curl_multi_remove_handle` that earlier versions call through their PLT).

use curl_sys::CURL;

use crate::engine::libcurl;
use crate::panic::boundary;
use crate::registry;

/// libcurl's `curl_easy_cleanup`: frees `handle`, detaching it first from
/// a multi it is still attached to. An easy attached to a curlmux multi is
/// removed from it first, as `curl_multi_remove_handle` would, so none of
/// curlmux's multis keeps a freed easy in its books, counts it as running or
/// hands it out again, and a connection with a response still in flight is
/// closed rather than reused (libcurl 7.75 to 8.14 would give that response
/// to the next transfer on it). NULL does nothing.
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
        registry::each_live(|m| m.easy_freed(handle));
        match libcurl() {
            // SAFETY: the caller's easy goes unchanged to the libcurl that made it.
            Ok(lib) => unsafe { (lib.easy_cleanup)(handle) },
            Err(why) => crate::debug::trace!("curl_easy_cleanup: no libcurl to free {handle:p}: {why}"),
        }
    })
}
