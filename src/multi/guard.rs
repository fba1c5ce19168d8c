//! Who is inside a Multi, how a call gets in, and what it may do there.
//!
//! Owns: the one way in ([`Multi::enter`]): taking the engine lock, marking
//! the thread that holds it (a call from that thread can only come from a
//! callback: curlmux itself never re-enters, so "inside a callback" needs no
//! flag around each one), and letting go, which applies what other threads
//! left meanwhile (deferred.rs); and the tables of libcurl's rules for calls
//! made from inside callbacks and from inside the notify callback (which
//! runs with the lock free). The lock order is in mod.rs's header.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Multi, State};
use crate::debug::trace;
use crate::error::{Error, Result};
use crate::sync::MutexGuard;
use crate::versions;

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

/// The engine lock, held by the current thread, marked as the owner. Letting
/// go applies what was deferred and queued meanwhile.
pub(super) struct Held<'a> {
    multi: &'a Multi,
    guard: Option<MutexGuard<'a, State>>,
}

impl Deref for Held<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        self.guard.as_ref().expect("held until dropped")
    }
}

impl DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut State {
        self.guard.as_mut().expect("held until dropped")
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Some(guard) = self.guard.take() {
            self.multi.release(guard);
        }
    }
}

/// How a call entered the Multi.
pub(super) enum Entered<'a> {
    /// It holds the lock.
    Locked(Held<'a>),
    /// It comes from inside a callback, and the table lets it run unlocked.
    Unlocked,
}

impl Multi {
    /// The checks every call makes before the lock: a forked child's copy,
    /// and what the notify callback may not do.
    pub(super) fn check_entry(&self, call: Call) -> Result<()> {
        if self.inherited() {
            return Err(Error::BadHandle);
        }
        if !matches!(call, Call::Perform | Call::InfoRead | Call::Timeout) {
            // What the last wait drained is for the perform that follows it.
            self.reactor.forget_slept();
        }
        if refused_in_notify(call) && self.notifying.is_current() {
            return Err(Error::RecursiveApiCall);
        }
        Ok(())
    }

    /// What guard.rs's table says of `call` from inside a callback.
    pub(super) fn in_callback(&self, call: Call) -> InCallback {
        let lib = self.engine.lib();
        let bound = Bound {
            guards_callbacks: lib.has(&versions::GUARDS_CALLBACKS),
            counts: lib.optional.multi_get_offt.is_some(),
            lists: lib.optional.multi_get_handles.is_some(),
        };
        in_callback(call, bound)
    }

    /// The one way in for every API call that needs the engine: from inside
    /// one of this multi's callbacks the table decides; otherwise the call
    /// takes the engine lock, waiting for it.
    pub(super) fn enter(&self, call: Call) -> Result<Entered<'_>> {
        self.check_entry(call)?;
        if self.owner.is_current() {
            return match self.in_callback(call) {
                InCallback::Refused => Err(Error::RecursiveApiCall),
                InCallback::Unlocked => Ok(Entered::Unlocked),
            };
        }
        self.hold(self.lock_engine()).map(Entered::Locked)
    }

    /// Waits for the engine lock. A holder asleep in libcurl's own wait
    /// (while libcurl walks, wait.rs) is kicked to let go.
    pub(super) fn lock_engine(&self) -> MutexGuard<'_, State> {
        self.state.try_lock().unwrap_or_else(|| {
            self.kick();
            self.state.lock()
        })
    }

    /// Marks the calling thread as the holder and brings the books up to
    /// date; refused once the multi is cleaned up.
    pub(super) fn hold<'a>(&'a self, guard: MutexGuard<'a, State>) -> Result<Held<'a>> {
        self.owner.set();
        let mut held = Held { multi: self, guard: Some(guard) };
        if held.closed {
            return Err(Error::BadHandle);
        }
        self.apply_deferred(&mut held);
        if self.driver.is_current() {
            self.make_relayed();
        }
        Ok(held)
    }

    /// Enters for a call the table refuses inside callbacks.
    pub(super) fn lock(&self, call: Call) -> Result<Held<'_>> {
        match self.enter(call)? {
            Entered::Locked(held) => Ok(held),
            Entered::Unlocked => unreachable!("{call:?} runs unlocked only where the table says so"),
        }
    }

    /// Lets go of the engine lock, applying first what was deferred or
    /// queued meanwhile; an add queued while letting go is taken up again if
    /// the lock is still free (else its new holder applies it).
    pub(super) fn release<'a>(&'a self, mut guard: MutexGuard<'a, State>) {
        loop {
            // Unwinding from a panic: libcurl is not called again.
            if !std::thread::panicking() {
                self.apply_deferred(&mut guard);
            }
            self.owner.clear();
            drop(guard);
            if !self.any_queued_adds.load(Ordering::Acquire) {
                return;
            }
            let Some(next) = self.state.try_lock() else { return };
            guard = next;
            self.owner.set();
        }
    }

    /// Another thread changed the multi: the thread that drives or waits
    /// may be asleep on the reactor (or in libcurl's wait) and must look.
    pub(super) fn changed(&self) {
        if self.driver.is_other() {
            self.kick();
        }
    }

    pub(super) fn kick(&self) {
        if let Err(e) = self.reactor.kick() {
            trace!("kick: {e}");
        }
    }

    /// Records the calling thread as the one that drives or waits.
    pub(super) fn driving_here(&self) {
        if !self.driver.is_current() {
            self.driver.set();
        }
    }
}
