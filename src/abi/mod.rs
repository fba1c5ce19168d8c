//! The exported C surface. Each export goes through [`dispatch`]: a handle
//! curlmux issued gets one call below, with its result mapped to a
//! `CURLMcode` once (`error::to_code`); any other non-NULL pointer is
//! forwarded untouched to the bound libcurl (docs/design.md, decision 2);
//! NULL and cleaned-up handles get `CURLM_BAD_HANDLE` (or NULL).
//! Nothing else lives here: no state, no epoll, no dlsym.
//! Every export carries the doc comment that becomes include/curlmux.h.

#![warn(missing_docs)]

pub mod easy;
pub mod ext;
pub mod multi;
pub mod setopt;

use curl_sys::{CURLM, CURLMcode};

use crate::engine::{LibCurl, libcurl};
use crate::error::CURLM_BAD_HANDLE;
use crate::multi::Multi;
use crate::registry::{self, Route};

/// What an export answers for a NULL or cleaned-up multi handle.
pub(crate) trait BadHandle {
    fn bad_handle() -> Self;
}

impl BadHandle for CURLMcode {
    fn bad_handle() -> Self {
        CURLM_BAD_HANDLE
    }
}

impl<T> BadHandle for *mut T {
    fn bad_handle() -> Self {
        std::ptr::null_mut()
    }
}

/// The one place a `CURLM *` is classified; nothing is read through it.
/// `ours` runs for a live handle curlmux issued, `theirs` (usually
/// [`forward!`]) for any other non-NULL pointer.
fn dispatch<T: BadHandle>(
    handle: *mut CURLM,
    ours: impl FnOnce(&Multi) -> T,
    theirs: impl FnOnce(&'static LibCurl) -> T,
) -> T {
    if handle.is_null() {
        return T::bad_handle();
    }
    match registry::route(handle) {
        Route::Curlmux(m) => {
            let answer = ours(&m);
            // This reference may be the last: what this call did happens
            // before the Multi's drop, on whichever thread (sync.rs).
            crate::sync::happens_before(&*m);
            answer
        }
        Route::Retired => T::bad_handle(),
        Route::Foreign => match libcurl() {
            Ok(lib) => theirs(lib),
            Err(_) => T::bad_handle(),
        },
    }
}

/// The `theirs` of [`dispatch`]: the bound libcurl's function of that name,
/// called with the caller's arguments. `forward!(optional f(…))` is for a
/// function older libcurls lack: for them the answer is the bad-handle one
/// (`CURLM_BAD_HANDLE`, or NULL), as for a handle nobody made.
macro_rules! forward {
    ($f:ident($($arg:expr),*)) => {
        |lib: &'static $crate::engine::LibCurl| {
            // SAFETY: the caller's arguments go unchanged to the libcurl that made the handle.
            unsafe { (lib.$f)($($arg),*) }
        }
    };
    (optional $f:ident($($arg:expr),*)) => {
        |lib: &'static $crate::engine::LibCurl| match lib.optional.$f {
            // SAFETY: the caller's arguments go unchanged to the libcurl that made the handle.
            Some(f) => unsafe { f($($arg),*) },
            None => $crate::abi::BadHandle::bad_handle(),
        }
    };
}
use forward;

/// The one way a C out-parameter reaches Rust: NULL is None. Where libcurl
/// requires one, the call says so with `error::required`, at the point of
/// its checks where libcurl does.
///
/// # Safety
/// `p` is NULL or valid for writes of `T` for the rest of the call.
unsafe fn out<'a, T>(p: *mut T) -> Option<&'a mut T> {
    // SAFETY: NULL or writable, as the caller vouches.
    unsafe { p.as_mut() }
}

#[cfg(test)]
mod header {
    /// The committed header is the one build.rs generates from this source.
    #[test]
    fn committed_header_is_current() {
        let generated = include_str!(concat!(env!("OUT_DIR"), "/curlmux.h"));
        let committed = include_str!("../../include/curlmux.h");
        assert!(
            generated == committed,
            "include/curlmux.h differs from what build.rs generates; update it:\n  cp {}/curlmux.h include/",
            env!("OUT_DIR")
        );
    }

    /// The options after 7.88 the engine names have the values the header
    /// gives C (which ctests/harness.rs checks against a newer libcurl's own
    /// header).
    #[test]
    fn engine_and_header_agree_on_later_options() {
        use crate::engine::*;
        let header = include_str!("../../include/curlmux.h");
        for (name, value) in [
            ("CURLMOPT_NETWORK_CHANGED", CURLMOPT_NETWORK_CHANGED),
            ("CURLMOPT_NOTIFYFUNCTION", CURLMOPT_NOTIFYFUNCTION),
            ("CURLMOPT_NOTIFYDATA", CURLMOPT_NOTIFYDATA),
            ("CURLMOPT_RESOLVE_THREADS_MAX", CURLMOPT_RESOLVE_THREADS_MAX),
            ("CURLMOPT_QUICK_EXIT", CURLMOPT_QUICK_EXIT),
        ] {
            let define = format!("#define {name} ((CURLMoption){value})");
            assert!(header.contains(&define), "the header lacks {define}");
        }
        for (name, value) in [
            ("CURLMINFO_XFERS_CURRENT", CURLMINFO_XFERS_CURRENT),
            ("CURLMINFO_XFERS_RUNNING", CURLMINFO_XFERS_RUNNING),
            ("CURLMINFO_XFERS_DONE", CURLMINFO_XFERS_DONE),
            ("CURLMINFO_XFERS_ADDED", CURLMINFO_XFERS_ADDED),
        ] {
            assert!(header.contains(&format!("  {name} = {value},")), "the header's {name} is not {value}");
        }
        for (name, value) in
            [("CURLMNOTIFY_INFO_READ", CURLMNOTIFY_INFO_READ), ("CURLMNOTIFY_EASY_DONE", CURLMNOTIFY_EASY_DONE)]
        {
            assert!(header.contains(&format!("#define {name} {value}\n")), "the header's {name} is not {value}");
        }
    }
}
