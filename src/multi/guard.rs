//! Who is inside a Multi, and what a call may do from inside its callbacks.
//!
//! Owns: the owner-thread mark set while a thread holds a Multi's lock, and
//! the table of libcurl 7.88's rules for calls made from inside callbacks.
//! A call from the owner thread can only come from a callback (curlmux itself
//! never re-enters), so "inside a callback" needs no flag around each one.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;

/// The API functions, as the guard distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    AddHandle,
    RemoveHandle,
    Perform,
    Fdset,
    Wait,
    Poll,
    Select,
    Timeout,
    InfoRead,
    Setopt,
    Cleanup,
    SocketAction,
    Assign,
    GetHandles,
    Waitfds,
}

/// What a call made from inside one of the multi's callbacks gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InCallback {
    /// Refused with `CURLM_RECURSIVE_API_CALL`.
    Refused,
    /// Refused without an error code (`info_read` returns NULL).
    Nothing,
    /// Answered by the engine multi, whose own 7.88 checks (magic, already
    /// added, in callback) come in libcurl's order.
    AskEngine,
    /// Runs as usual, without the Multi's lock.
    Allowed,
}

/// libcurl 7.88's rules (libcurl-multi.md). `curl_multi_wakeup` and
/// `curl_multi_strerror` never take the lock, so they need no row.
/// `get_handles` and `waitfds` are newer than 7.88: NULL and refused.
pub const fn in_callback(call: Call) -> InCallback {
    match call {
        Call::AddHandle => InCallback::AskEngine,
        Call::RemoveHandle => InCallback::AskEngine,
        Call::Perform => InCallback::Refused,
        Call::Fdset => InCallback::Refused,
        Call::Wait => InCallback::Refused,
        Call::Poll => InCallback::Refused,
        Call::Select => InCallback::Refused,
        Call::Timeout => InCallback::Refused,
        Call::InfoRead => InCallback::Nothing,
        Call::Setopt => InCallback::Refused,
        Call::Cleanup => InCallback::Refused,
        Call::SocketAction => InCallback::Refused,
        Call::Assign => InCallback::Allowed,
        Call::GetHandles => InCallback::Nothing,
        Call::Waitfds => InCallback::Refused,
    }
}

impl InCallback {
    pub fn error(self) -> Error {
        match self {
            InCallback::Refused => Error::RecursiveApiCall,
            _ => Error::BadFunctionArgument,
        }
    }
}

/// The thread currently holding the Multi's lock, if any.
#[derive(Default)]
pub struct Owner(AtomicU64);

/// Never 0, and unique among live threads; a thread-local would cost a
/// `__tls_get_addr` call per API call in a shared library.
fn this_thread() -> u64 {
    // SAFETY: pthread_self has no preconditions and cannot fail.
    unsafe { libc::pthread_self() as u64 }
}

impl Owner {
    /// True when the calling thread holds the lock: the call comes from a callback.
    pub fn is_current(&self) -> bool {
        self.0.load(Ordering::Acquire) == this_thread()
    }

    /// Marks the calling thread as owner until the returned mark drops.
    pub fn mark(&self) -> OwnerMark<'_> {
        self.0.store(this_thread(), Ordering::Release);
        OwnerMark(self)
    }
}

pub struct OwnerMark<'a>(&'a Owner);

impl Drop for OwnerMark<'_> {
    fn drop(&mut self) {
        self.0.0.store(0, Ordering::Release);
    }
}
