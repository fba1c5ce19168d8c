//! curlmux's own functions (`curlmux_*`): the seed's `select`, and version
//! information. Same shape as abi/multi.rs.

use std::ffi::{c_char, c_int, c_long};

use curl_sys::{CURLM, CURLMcode};

use super::{dispatch, out};
use crate::engine::libcurl;
use crate::error::{CURLM_BAD_HANDLE, to_code};
use crate::multi::WaitKind;
use crate::panic::boundary;

/// pycurl's `CurlMulti.select(timeout)` for C: waits up to `timeout_ms` for
/// the multi's sockets or libcurl's next timeout, whichever comes first.
///
/// `*ready` (may be NULL) is set to the number of the multi's sockets that
/// are ready; 0 when libcurl's timeout came due first (call
/// `curl_multi_perform`); -1 when `timeout_ms` passed with nothing to do.
/// Unlike `curl_multi_wait`, it sleeps even when nothing is attached.
///
/// Returns `CURLM_OK`; `CURLM_BAD_HANDLE` (NULL, cleaned-up, or not a curlmux
/// multi); `CURLM_BAD_FUNCTION_ARGUMENT` (negative timeout);
/// `CURLM_RECURSIVE_API_CALL` (from inside a callback).
///
/// # Safety
/// `multi` is NULL or a multi handle; `ready` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curlmux_select(multi: *mut CURLM, timeout_ms: c_long, ready: *mut c_int) -> CURLMcode {
    boundary!({
        let timeout_ms = timeout_ms.clamp(c_int::MIN as c_long, c_int::MAX as c_long) as c_int;
        let on_curlmux = |m: &crate::multi::Multi| {
            let waited = m.wait(&mut [], timeout_ms, WaitKind::Select);
            to_code(waited.map(|w| {
                let n = if w.ready > 0 {
                    w.ready
                } else if w.deadline {
                    0
                } else {
                    -1
                };
                // SAFETY: the caller passes NULL or a writable int.
                if let Some(ready) = unsafe { out(ready) } {
                    *ready = n;
                }
            }))
        };
        dispatch(multi, on_curlmux, |_| CURLM_BAD_HANDLE)
    })
}

/// curlmux's version, e.g. "curlmux/0.1.0": a static, NUL-terminated string.
/// Its presence (`dlsym(RTLD_DEFAULT, "curlmux_version")`) tells a program
/// that curlmux provides its multi interface.
#[unsafe(no_mangle)]
pub extern "C" fn curlmux_version() -> *const c_char {
    boundary!({ concat!("curlmux/", env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char })
}

/// Describes the libcurl curlmux bound to, e.g. "/usr/lib/x86_64-linux-gnu/
/// libcurl.so.4 (next in the global scope) libcurl/7.88.1 OpenSSL/3.0.17 …;
/// curlmux provides: curl_multi_get_handles, curl_multi_waitfds" (the multi
/// functions that libcurl lacks, which curlmux gives its own multis),
/// binding first if needed. NULL when no libcurl can be found. The string is
/// static.
#[unsafe(no_mangle)]
pub extern "C" fn curlmux_libcurl() -> *const c_char {
    boundary!({
        match libcurl() {
            Ok(lib) => lib.description().as_ptr(),
            Err(_) => std::ptr::null(),
        }
    })
}
