//! The exported C surface. Each export resolves its `CURLM *`, decodes its
//! arguments, makes one call below and maps the result to a `CURLMcode`.
//! Nothing else lives here: no state, no epoll, no dlsym.
//!
//! A `CURLM *` curlmux did not issue is forwarded untouched to the bound
//! libcurl (design.md, decision 2).

pub mod ext;
pub mod multi;
pub mod setopt;

use std::sync::Arc;

use curl_sys::CURLM;

use crate::engine::{LibCurl, libcurl};
use crate::multi::Multi;
use crate::registry::{self, Route};

/// Where a call on a multi pointer goes.
enum Target {
    Curlmux(Arc<Multi>),
    /// Forward to libcurl; `owner` is the curlmux Multi when the pointer is one
    /// of its engine multis (libcurl calling itself through its PLT).
    Libcurl {
        lib: &'static LibCurl,
        owner: Option<Arc<Multi>>,
    },
    /// NULL, or a handle curlmux issued and has cleaned up.
    Invalid,
}

/// The one place a `CURLM *` is classified; nothing is read through it.
fn target(handle: *mut CURLM) -> Target {
    if handle.is_null() {
        return Target::Invalid;
    }
    match registry::route(handle) {
        Route::Curlmux(m) => Target::Curlmux(m),
        Route::Engine(m) => Target::Libcurl { lib: m.lib(), owner: Some(m) },
        Route::Retired => Target::Invalid,
        Route::Foreign => match libcurl() {
            Ok(lib) => Target::Libcurl { lib, owner: None },
            Err(_) => Target::Invalid,
        },
    }
}

/// Writes `value` through an optional out-pointer.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
unsafe fn put<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL, and the caller vouches it is writable.
        unsafe { out.write(value) };
    }
}
