//! Who is inside a Multi, and what a call may do from inside its callbacks.
//!
//! Owns: the owner-thread mark set while a thread holds a Multi's lock, and
//! the tables of libcurl's rules for calls made from inside callbacks and
//! from inside the notify callback (which runs with the lock free).
//! A call from the owner thread can only come from a callback (curlmux itself
//! never re-enters), so "inside a callback" needs no flag around each one.

use std::sync::atomic::{AtomicU64, Ordering};

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
    GetOfft,
    NotifyEnable,
    NotifyDisable,
}

/// What a call made from inside one of the multi's callbacks may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InCallback {
    /// Refused: `CURLM_RECURSIVE_API_CALL`, or NULL where the call returns a
    /// pointer (`info_read`, `get_handles`).
    Refused,
    /// Runs without the Multi's lock (which the callback's thread holds): on
    /// the engine alone, whose own checks come in libcurl's order, with
    /// changes to the books deferred until the lock is free.
    Unlocked,
}

/// What the bound libcurl itself does that the table depends on.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    /// It refuses add and remove inside every callback itself, in its own
    /// order of checks (7.82 and later; 7.61 lets a write or timer callback
    /// remove the easy being driven and then crashes, so curlmux refuses).
    pub guards_callbacks: bool,
    /// It counts its transfers for `curl_multi_get_offt` (8.16); without
    /// that the counts are the books', which the callback's caller holds.
    pub counts: bool,
    /// It lists its easy handles for `curl_multi_get_handles` (8.4), also
    /// inside callbacks; without that the list is the books'.
    pub lists: bool,
}

/// libcurl's rules (libcurl-multi.md). `curl_multi_wakeup` and
/// `curl_multi_strerror` never take the lock, so they need no row.
pub const fn in_callback(call: Call, bound: Bound) -> InCallback {
    let engine_decides = if bound.guards_callbacks { InCallback::Unlocked } else { InCallback::Refused };
    match call {
        Call::AddHandle => engine_decides,
        Call::RemoveHandle => engine_decides,
        Call::Perform => InCallback::Refused,
        Call::Fdset => InCallback::Refused,
        Call::Wait => InCallback::Refused,
        Call::Poll => InCallback::Refused,
        Call::Select => InCallback::Refused,
        Call::Timeout => InCallback::Refused,
        Call::InfoRead => InCallback::Refused,
        Call::Setopt => InCallback::Refused,
        Call::Cleanup => InCallback::Refused,
        Call::SocketAction => InCallback::Refused,
        Call::Assign => InCallback::Unlocked,
        Call::GetHandles if bound.lists => InCallback::Unlocked,
        Call::GetHandles => InCallback::Refused,
        Call::Waitfds => InCallback::Refused,
        Call::GetOfft if bound.counts => InCallback::Unlocked,
        Call::GetOfft => InCallback::Refused,
        Call::NotifyEnable => InCallback::Unlocked,
        Call::NotifyDisable => InCallback::Unlocked,
    }
}

/// What the notify callback may not call (libcurl 8.17's rule: it may add,
/// remove, read messages, wait and set options, but not drive or clean up).
pub const fn refused_in_notify(call: Call) -> bool {
    matches!(call, Call::Perform | Call::SocketAction | Call::Cleanup)
}

/// A thread of the process, or none: the one holding a Multi's lock, the
/// one running its notify callback, the one that drove it last.
#[derive(Default)]
pub struct Owner(AtomicU64);

/// Never 0, and unique among live threads; a thread-local would cost a
/// `__tls_get_addr` call per API call in a shared library.
fn this_thread() -> u64 {
    // SAFETY: pthread_self has no preconditions and cannot fail.
    unsafe { libc::pthread_self() as u64 }
}

impl Owner {
    /// True when the calling thread is the one recorded.
    pub fn is_current(&self) -> bool {
        self.0.load(Ordering::Acquire) == this_thread()
    }

    /// True when a thread is recorded and it is not the calling one.
    pub fn is_other(&self) -> bool {
        !matches!(self.0.load(Ordering::Acquire), 0) && !self.is_current()
    }

    /// Records the calling thread.
    pub fn set(&self) {
        self.0.store(this_thread(), Ordering::Release);
    }

    /// Records none.
    pub fn clear(&self) {
        self.0.store(0, Ordering::Release);
    }

    /// Records the calling thread until the returned mark drops.
    pub fn mark(&self) -> OwnerMark<'_> {
        self.set();
        OwnerMark(self)
    }
}

pub struct OwnerMark<'a>(&'a Owner);

impl Drop for OwnerMark<'_> {
    fn drop(&mut self) {
        self.0.clear();
    }
}
