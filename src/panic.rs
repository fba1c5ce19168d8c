//! The panic boundary (docs/design.md, decision 6): no unwind crosses into C.
//!
//! Owns: the `boundary!` macro every export wraps its body in, and the
//! failure value each C return type gets when a panic is caught.

use std::ffi::{c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::CURLM_INTERNAL_ERROR;

/// The value a C caller gets when curlmux panicked instead of answering.
pub trait Failure {
    fn failure() -> Self;
}

/// `CURLMcode` (an `int`): `CURLM_INTERNAL_ERROR`.
impl Failure for c_int {
    fn failure() -> Self {
        CURLM_INTERNAL_ERROR
    }
}

/// `void`: nothing to answer.
impl Failure for () {
    fn failure() -> Self {}
}

impl<T> Failure for *mut T {
    fn failure() -> Self {
        std::ptr::null_mut()
    }
}

/// Strings: a static text saying what happened.
impl Failure for *const c_char {
    fn failure() -> Self {
        c"curlmux internal error".as_ptr()
    }
}

/// Runs `body`; a panic becomes `T::failure()`.
pub fn guarded<T: Failure>(body: impl FnOnce() -> T) -> T {
    guarded_or(T::failure(), body)
}

/// Runs `body`; a panic becomes `failure` (for C types whose failure value
/// depends on the function, as a `CURLcode` does).
pub fn guarded_or<T>(failure: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        crate::debug::trace!("internal panic caught at the C boundary");
        failure
    })
}

/// For callbacks libcurl calls into curlmux: the callback's answer, or -1
/// (libcurl's "abort the multi") if curlmux panicked.
pub fn guarded_callback(body: impl FnOnce() -> c_int) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(answer) => answer,
        Err(_) => {
            crate::debug::trace!("internal panic caught in a libcurl callback");
            -1
        }
    }
}

/// A test hook: panics when `CURLMUX_TEST_PANIC` names `point`, so the suite
/// can show that no panic escapes to C. The variable is read once.
pub fn injected(point: &str) {
    static NAMED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    crate::sync::unchecked(&NAMED); // a Once: its state is an atomic (sync.rs)
    if NAMED.get_or_init(|| std::env::var("CURLMUX_TEST_PANIC").ok()).as_deref() == Some(point) {
        panic!("CURLMUX_TEST_PANIC={point}");
    }
}

/// Wraps an export's body: `boundary!({ … })`, or `boundary!(failure, { … })`
/// where the failure value is the function's own. The signature stays in
/// plain source so cbindgen sees it.
macro_rules! boundary {
    ($body:block) => {
        $crate::panic::guarded(move || $body)
    };
    ($failure:expr, $body:block) => {
        $crate::panic::guarded_or($failure, move || $body)
    };
}
pub(crate) use boundary;
