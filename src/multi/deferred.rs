//! What one thread leaves for another to do with the engine.
//!
//! Owns: the work asked for inside libcurl's calls that must wait until
//! they return and that calls libcurl itself (deferred, done by the engine
//! lock's holder as it lets go: guard.rs), the adds other threads queue for
//! the thread that drives, and the application's socket and timer
//! callbacks that a call from another thread caused, relayed to the thread
//! that drives the multi with them. Each list has its own small lock and a
//! flag, so that the common empty case costs one load.

use std::sync::atomic::Ordering;
use std::time::Instant;

use curl_sys::{CURL, CURLE_OUT_OF_MEMORY, CURLcode, curl_socket_t};
use std::ffi::c_void;

use super::pause::Verdict;
use super::{Multi, State};
use crate::debug::trace;
use crate::engine::SocketWish;
use crate::error::{Error, Result};

/// Work asked for inside libcurl's calls that must wait until libcurl's
/// call returned, and is done by the engine lock's holder: it calls libcurl.
pub(super) enum Deferred {
    /// Its socket cannot be watched: the transfer ends with this result.
    /// Only without callbacks of the application, which the removal might call.
    Fail(*mut CURL, CURLcode),
    /// A pause verdict that asks libcurl about the transfer (pause.rs).
    Pause(Verdict),
    /// The app freed it inside a callback, while libcurl still drove it
    /// (before 8.22): removed, then freed, once libcurl's call returned.
    Free(*mut CURL),
}

// SAFETY: the easy pointers are only compared and handed back to libcurl.
unsafe impl Send for Deferred {}

/// An easy handle in a list shared between threads.
#[derive(Clone, Copy)]
pub(super) struct Easy(pub(super) *mut CURL);

// SAFETY: only compared and handed back to libcurl by the engine lock's holder.
unsafe impl Send for Easy {}

/// An application callback held for the driving thread.
pub(super) enum Relayed {
    Socket {
        easy: *mut CURL,
        fd: curl_socket_t,
        wish: Option<SocketWish>,
        socketp: *mut c_void,
    },
    /// The deadline it announced (None: no timer).
    Timer(Option<Instant>),
}

// SAFETY: the pointers are only handed back to the application's callback.
unsafe impl Send for Relayed {}

impl Multi {
    pub(super) fn defer(&self, what: Deferred) {
        self.deferred.lock().push(what);
        self.any_deferred.store(true, Ordering::Release);
    }

    /// Applies what was deferred and queued; the caller holds the engine
    /// lock. Once the multi is cleaned up there is no engine to apply it to.
    pub(super) fn apply_deferred(&self, state: &mut State) {
        if state.closed {
            return;
        }
        self.apply_queued_adds();
        // A load first: the common empty case then needs no locked instruction.
        if !self.any_deferred.load(Ordering::Acquire) || !self.any_deferred.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut pending = std::mem::take(&mut state.applied);
        std::mem::swap(&mut pending, &mut *self.deferred.lock());
        for what in pending.drain(..) {
            match what {
                // Only while it is still this multi's unfinished transfer.
                Deferred::Fail(easy, result) if self.books().is_running(easy) => {
                    if let Err(e) = self.engine.remove(easy) {
                        trace!("fail {easy:p}: remove: {e:?}");
                    }
                    self.finish(easy, result);
                    if !state.stale
                        && let Ok(after) = self.engine.timeout()
                    {
                        self.deadline.set(after);
                    }
                }
                Deferred::Fail(..) => {}
                Deferred::Pause(verdict) => self.settle(verdict),
                Deferred::Free(easy) => {
                    self.forget(state, easy);
                    // SAFETY: the app freed `easy` with curl_easy_cleanup and
                    // curlmux held that back (easy_freed); it is freed here once.
                    unsafe { (self.engine.lib().easy_cleanup)(easy) };
                }
            }
        }
        state.applied = pending;
    }

    /// Hands the adds queued by other threads to libcurl. One libcurl
    /// refuses (not an easy handle, attached elsewhere) ends at once, with
    /// its message: the caller was told it was added.
    pub(super) fn apply_queued_adds(&self) {
        if !self.any_queued_adds.load(Ordering::Acquire) || !self.any_queued_adds.swap(false, Ordering::AcqRel) {
            return;
        }
        // Swapped for an empty one that keeps its room: no allocation per add.
        let mut queued = std::mem::take(&mut *self.adding.lock());
        std::mem::swap(&mut queued, &mut *self.queued_adds.lock());
        for &Easy(easy) in &queued {
            if !self.books().is_running(easy) {
                continue;
            }
            if let Err(e) = self.engine.add(easy) {
                trace!("queued add {easy:p}: {e:?}");
                self.finish(easy, e.as_transfer_result());
            }
        }
        queued.clear();
        *self.adding.lock() = queued;
    }

    /// An add while another thread drives or holds the engine lock: the
    /// books take the easy now (it counts as running, as libcurl counts an
    /// added transfer), libcurl at that thread's next entry or when the
    /// holder lets go. Checked as far as the books can: already here is
    /// `CURLM_ADDED_ALREADY`.
    pub(super) fn queue_add(&self, easy: *mut CURL) -> Result<()> {
        {
            let mut books = self.books();
            if books.contains(easy) {
                return Err(Error::AddedAlready);
            }
            books.attach(easy);
        }
        self.queued_adds.lock().push(Easy(easy));
        self.any_queued_adds.store(true, Ordering::Release);
        // The driver may be asleep, in curlmux's wait or libcurl's.
        self.kick();
        // A holder that is no driver may have let go already.
        if !self.driver.is_other()
            && let Some(guard) = self.state.try_lock()
        {
            drop(self.hold(guard));
        }
        Ok(())
    }

    /// Whether the application's socket and timer callbacks, caused now,
    /// are for another thread: the one that drives it with them.
    pub(super) fn relays(&self) -> bool {
        self.app.drives() && self.driver.is_other()
    }

    pub(super) fn relay(&self, what: Relayed) {
        self.relayed.lock().push(what);
        self.any_relayed.store(true, Ordering::Release);
    }

    /// Makes the callbacks relayed to this thread, in order; of the timer's,
    /// only the last counts, with the time left until the deadline it named.
    pub(super) fn make_relayed(&self) {
        if !self.any_relayed.load(Ordering::Acquire) || !self.any_relayed.swap(false, Ordering::AcqRel) {
            return;
        }
        let relayed = std::mem::take(&mut *self.relayed.lock());
        let last_timer = relayed.iter().rposition(|r| matches!(r, Relayed::Timer(_)));
        for (i, what) in relayed.into_iter().enumerate() {
            match what {
                Relayed::Socket { easy, fd, wish, socketp } => {
                    self.app.socket(easy, fd, wish, socketp);
                }
                Relayed::Timer(at) if Some(i) == last_timer => {
                    self.app.timer(at.map(|at| at.saturating_duration_since(Instant::now())));
                }
                Relayed::Timer(_) => {}
            }
        }
    }

    /// The kernel would not watch `easy`'s socket (epoll's limit of watches,
    /// kernel memory): nothing would report it ready, so its transfer ends
    /// rather than hang, unless the application watches sockets itself.
    pub(super) fn refused_watch(&self, easy: *mut CURL) {
        if !self.app.drives() {
            self.defer(Deferred::Fail(easy, CURLE_OUT_OF_MEMORY));
        }
    }
}
