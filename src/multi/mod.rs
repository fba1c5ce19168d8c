//! Multi: what one `CURLM *` issued by curlmux is.
//!
//! Owns: the rules of the API — check order, what a call may do inside a
//! callback (one [`Multi::enter`] over guard.rs's table), which thread may
//! do what — and the books of attached transfers and their messages
//! (queue.rs). The drive loop lives in drive.rs, the waiting in wait.rs.
//! Must not see raw C pointers from callers other than easy handles, and
//! makes no syscalls itself: the reactor and the engine do.
//!
//! # Locks and threads
//!
//! Two locks per Multi, in this order:
//!
//! 1. `state`, the engine lock: whoever holds it may call into the engine
//!    (libcurl), and so, through libcurl, into the application's callbacks.
//!    It is the one lock held across calls out. Those calls come back in
//!    only on the same thread (the callbacks, and libcurl calling its own
//!    public functions), and that thread is recorded (`owner`): its calls
//!    never wait for the lock, guard.rs's table decides what they may do.
//!    A thread that waits for it holds no other lock of curlmux's.
//! 2. `books`, the attached transfers and their messages: held only to read
//!    or change them, never across a call out; taken after `state` or alone.
//!
//! Beside them, leaves held for a few instructions and never across a call
//! out: the deferred and queued-add lists, the relayed callbacks, the
//! notify queue, the reactor's socket table, the registry (registry.rs).
//! `handing_out` is held across the notify callback but only ever tried,
//! never waited for.
//!
//! Which thread may do what, on a Multi curlmux drives (no socket or timer
//! callback of the application's): any thread may add, remove, set options,
//! wake, read messages, list handles and read counts at any time. Reading
//! messages and listing handles take only `books`. An add from another
//! thread than the one that drives, or that finds the engine lock taken,
//! queues the easy (the books have it at once), kicks and returns; the
//! driving thread hands it to libcurl at its next entry (a holder, before
//! letting go), so libcurl's data stays with that thread.
//! The other calls wait for the lock (one perform's work at most; a sleeping
//! wait or poll does not hold it, and libcurl's own wait, while libcurl
//! walks, is kicked to let go). A change made by a thread other than the one
//! that drives or waits kicks the reactor, so a sleeping wait, poll,
//! `curlmux_select` or select on the fdset descriptor returns at once.
//! Calls that drive (perform, socket_action, wait, poll, select, fdset)
//! from several threads at once are serialized. On a Multi the application
//! drives with its own callbacks, libcurl's socket and timer callbacks go to
//! the application only on the thread that drove it last: those a call from
//! another thread causes (the timer's 0 ms after an add, a removal's
//! `CURL_POLL_REMOVE`) are relayed and made at the start of that thread's
//! next call into the multi.

mod app;
mod deadline;
mod drive;
mod guard;
mod notify;
mod queue;
mod wait;
mod walk;

use std::ffi::{c_int, c_long, c_uint, c_void};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use curl_sys::{CURL, CURLE_OUT_OF_MEMORY, CURLMoption, CURLMsg, CURLcode, curl_socket_t};

use crate::debug::trace;
use crate::engine::{
    CURL_PUSH_OK, CURLMINFO_XFERS_ADDED, CURLMINFO_XFERS_CURRENT, CURLMINFO_XFERS_DONE, CURLMINFO_XFERS_RUNNING,
    CURLMNOTIFY_INFO_READ, Engine, EngineSink, Happened, LibCurl, Wish,
};
use crate::error::{Error, Result};
use crate::reactor::{Change, Events, Interest, Reactor};
use crate::sync::{self, Mutex, MutexGuard};
use app::AppCallbacks;
pub use app::AppPointer;
use deadline::Deadline;
pub use guard::Call;
use guard::{Bound, InCallback, Owner, in_callback, refused_in_notify};
use notify::{Notice, Notify};
use queue::Books;
pub use wait::{FdSets, WaitKind};
use walk::Walk;

/// A typed `curl_multi_setopt` argument (decoded at the C boundary).
#[derive(Debug, Clone, Copy)]
pub enum MultiOpt {
    /// The application's callbacks and their data: relayed from the engine's.
    App(AppPointer, *mut c_void),
    /// Options that shape transfers go to the engine as they are.
    EngineLong(CURLMoption, c_long),
    EngineOffT(CURLMoption, curl_sys::curl_off_t),
    EnginePtr(CURLMoption, *mut c_void),
    /// `CURLMOPT_NOTIFYFUNCTION` and `NOTIFYDATA`: curlmux's own (notify.rs).
    NotifyFunction(*mut c_void),
    NotifyData(*mut c_void),
}

/// `curl_multi_get_handles`'s answer.
pub enum Handles {
    /// The attached easies, from the books.
    Books(Vec<*mut CURL>),
    /// libcurl's own NULL-terminated array, the caller's to `curl_free`.
    Libcurls(*mut *mut CURL),
}

/// Work asked for inside libcurl's calls that must wait until libcurl's
/// call returned, and is done by the engine lock's holder: it calls libcurl.
enum Deferred {
    /// Its socket cannot be watched: the transfer ends with this result.
    /// Only without callbacks of the application, which the removal might call.
    Fail(*mut CURL, CURLcode),
    /// Its socket stopped being wished writable: parked if its upload is
    /// unfinished (paused, or rate-limited).
    ParkIfSending(*mut CURL),
    /// Its socket, wished writable only, was given up: parked if it is still
    /// running with its request sent (its response paused by the write
    /// callback in the same call, or it waits with no socket of its own).
    ParkIfStarted(*mut CURL),
    /// The app freed it inside a callback, while libcurl still drove it
    /// (before 8.22): removed, then freed, once libcurl's call returned.
    Free(*mut CURL),
}

// SAFETY: the easy pointers are only compared and handed back to libcurl.
unsafe impl Send for Deferred {}

/// What only the holder of the engine lock touches.
struct State {
    closed: bool,
    events: Events,
    walk: Walk,
    /// The walk ended and libcurl has not reported the socket wishes it
    /// changed meanwhile: the next call that may drive transfers asks it.
    stale: bool,
    /// The app has driven or waited through curlmux's epoll set: its sockets
    /// stay registered there. Until then an app that drives with
    /// socket_action watches them itself, and they are only remembered.
    reactor_used: bool,
    /// The deferred list last applied, emptied: swapped in for the next, so
    /// that deferring allocates nothing once both have grown.
    applied: Vec<Deferred>,
}

pub struct Multi {
    /// The fork generation it was made in (fork.rs): in a child of that
    /// process it shares its descriptors with the parent and is inert.
    born: u64,
    engine: Engine,
    app: AppCallbacks,
    reactor: Reactor,
    deadline: Deadline,
    notify: Notify,
    /// The thread holding the engine lock, if any.
    owner: Owner,
    /// The thread running the application's notify callback, if any.
    notifying: Owner,
    /// The thread that last drove or waited: the one another thread's
    /// change must wake, and where relayed callbacks go.
    driver: Owner,
    deferred: Mutex<Vec<Deferred>>,
    /// Set after a push to `deferred`: the common empty case costs one load.
    any_deferred: AtomicBool,
    /// Easies added while another thread held the engine lock: in the
    /// books already, handed to libcurl by the holder before it lets go.
    queued_adds: Mutex<Vec<Easy>>,
    any_queued_adds: AtomicBool,
    /// The queued adds last taken, emptied, kept for their room.
    adding: Mutex<Vec<Easy>>,
    /// The application's socket and timer callbacks caused on another
    /// thread than the driver, for the driver's next call.
    relayed: Mutex<Vec<Relayed>>,
    any_relayed: AtomicBool,
    /// Held while one thread hands out notices (drive.rs).
    handing_out: Mutex<()>,
    /// The engine lock (module header).
    state: Mutex<State>,
    books: Mutex<Books>,
}

/// An easy handle in a list shared between threads.
#[derive(Clone, Copy)]
struct Easy(*mut CURL);

// SAFETY: only compared and handed back to libcurl by the engine lock's holder.
unsafe impl Send for Easy {}

/// An application callback held for the driving thread.
enum Relayed {
    Socket {
        easy: *mut CURL,
        fd: curl_socket_t,
        wish: Option<Wish>,
        socketp: *mut c_void,
    },
    /// The deadline it announced (None: no timer).
    Timer(Option<Instant>),
}

// SAFETY: the pointers are only handed back to the application's callback.
unsafe impl Send for Relayed {}

/// The engine lock, held by the current thread, marked as the owner. Letting
/// go applies what was deferred and queued meanwhile.
struct Held<'a> {
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
enum Entered<'a> {
    /// It holds the lock.
    Locked(Held<'a>),
    /// It comes from inside a callback, and the table lets it run unlocked.
    Unlocked,
}

impl Multi {
    pub fn new(lib: &'static LibCurl) -> Result<Arc<Multi>> {
        let reactor = Reactor::new().map_err(|e| {
            trace!("multi init: reactor: {e}");
            Error::OutOfMemory
        })?;
        let engine = Engine::new(lib)?;
        let multi = Arc::new(Multi {
            born: crate::fork::generation(),
            engine,
            app: AppCallbacks::default(),
            reactor,
            deadline: Deadline::default(),
            notify: Notify::default(),
            owner: Owner::default(),
            notifying: Owner::default(),
            driver: Owner::default(),
            deferred: Mutex::new(Vec::new()),
            any_deferred: AtomicBool::new(false),
            queued_adds: Mutex::new(Vec::new()),
            any_queued_adds: AtomicBool::new(false),
            adding: Mutex::new(Vec::new()),
            relayed: Mutex::new(Vec::new()),
            any_relayed: AtomicBool::new(false),
            handing_out: Mutex::new(()),
            state: Mutex::new(State {
                closed: false,
                events: Events::with_capacity(drive::EVENTS_PER_ROUND),
                walk: Walk::new(lib.can_walk()),
                stale: false,
                reactor_used: false,
                applied: Vec::new(),
            }),
            books: Mutex::new(Books::default()),
        });
        multi.unchecked_atomics();
        // SAFETY: the sink is the Multi itself, which outlives its engine:
        // the engine is cleaned up in `cleanup` or `drop`, before the memory goes.
        if let Err(e) = unsafe { multi.engine.attach_sink(Arc::as_ptr(&multi)) } {
            multi.close();
            return Err(e);
        }
        Ok(multi)
    }

    /// Tells valgrind's race detectors which of its words are atomics, once
    /// the Multi is where it stays (sync.rs): an atomic cannot race. Its
    /// `Arc`'s counts are atomics too, just before it (`ArcInner` is
    /// `repr(C)`: two counts, then the value).
    fn unchecked_atomics(self: &Arc<Self>) {
        let counts = (Arc::as_ptr(self) as *const [std::sync::atomic::AtomicUsize; 2]).wrapping_sub(1);
        // SAFETY: inside the Arc's allocation, which the Arc keeps alive.
        sync::unchecked(unsafe { &*counts });
        for owner in [&self.owner, &self.notifying, &self.driver] {
            sync::unchecked(owner);
        }
        for flag in [&self.any_deferred, &self.any_queued_adds, &self.any_relayed] {
            sync::unchecked(flag);
        }
        sync::unchecked(&self.app);
        sync::unchecked(&self.deadline);
        self.notify.unchecked_atomics();
        self.reactor.unchecked_atomics();
    }

    /// Records the `CURLM *` the application knows this multi by (passed
    /// to its timer callback).
    pub fn set_handle(&self, handle: *mut curl_sys::CURLM) {
        self.app.set_handle(handle);
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        self.books.lock()
    }

    /// The checks every call makes before the lock: a forked child's copy,
    /// and what the notify callback may not do.
    fn check_entry(&self, call: Call) -> Result<()> {
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
    fn in_callback(&self, call: Call) -> InCallback {
        let lib = self.engine.lib();
        let bound = Bound {
            guards_callbacks: lib.guards_callbacks(),
            counts: lib.newer.multi_get_offt.is_some(),
            lists: lib.newer.multi_get_handles.is_some(),
        };
        in_callback(call, bound)
    }

    /// The one way in for every API call that needs the engine: from inside
    /// one of this multi's callbacks the table decides; otherwise the call
    /// takes the engine lock, waiting for it.
    fn enter(&self, call: Call) -> Result<Entered<'_>> {
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
    fn lock_engine(&self) -> MutexGuard<'_, State> {
        self.state.try_lock().unwrap_or_else(|| {
            self.kick();
            self.state.lock()
        })
    }

    /// Marks the calling thread as the holder and brings the books up to
    /// date; refused once the multi is cleaned up.
    fn hold<'a>(&'a self, guard: MutexGuard<'a, State>) -> Result<Held<'a>> {
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
    fn lock(&self, call: Call) -> Result<Held<'_>> {
        match self.enter(call)? {
            Entered::Locked(held) => Ok(held),
            Entered::Unlocked => unreachable!("{call:?} runs unlocked only where the table says so"),
        }
    }

    /// Lets go of the engine lock, applying first what was deferred or
    /// queued meanwhile; an add queued while letting go is taken up again if
    /// the lock is still free (else its new holder applies it).
    fn release<'a>(&'a self, mut guard: MutexGuard<'a, State>) {
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
    fn changed(&self) {
        if self.driver.is_other() {
            self.kick();
        }
    }

    fn kick(&self) {
        if let Err(e) = self.reactor.kick() {
            trace!("kick: {e}");
        }
    }

    /// Records the calling thread as the one that drives or waits.
    fn driving_here(&self) {
        if !self.driver.is_current() {
            self.driver.set();
        }
    }

    fn defer(&self, what: Deferred) {
        self.deferred.lock().push(what);
        self.any_deferred.store(true, Ordering::Release);
    }

    /// Applies what was deferred and queued; the caller holds the engine
    /// lock. Once the multi is cleaned up there is no engine to apply it to.
    fn apply_deferred(&self, state: &mut State) {
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
                // The books are let go before libcurl is asked.
                Deferred::ParkIfSending(easy) => {
                    let running = self.books().is_running(easy);
                    if running && self.engine.upload_unfinished(easy) {
                        self.books().park(easy);
                    }
                }
                Deferred::ParkIfStarted(easy) => {
                    let running = self.books().is_running(easy);
                    if running && self.engine.request_sent(easy) {
                        self.books().park(easy);
                    }
                }
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
    fn apply_queued_adds(&self) {
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

    pub fn add(&self, easy: *mut CURL) -> Result<()> {
        if easy.is_null() {
            return Err(Error::BadEasyHandle);
        }
        self.check_entry(Call::AddHandle)?;
        if self.owner.is_current() {
            // Inside a callback: the engine decides, in its own order of checks.
            if self.in_callback(Call::AddHandle) == InCallback::Refused {
                return Err(Error::RecursiveApiCall);
            }
            self.engine.add(easy)?;
            self.books().attach(easy);
            return Ok(());
        }
        // Another thread drives: the easy goes to it. The adding thread does a
        // push and a kick, and libcurl's data stays with the one thread.
        if self.driver.is_other() {
            return self.queue_add(easy);
        }
        let Some(guard) = self.state.try_lock() else { return self.queue_add(easy) };
        // libcurl checks the easy's magic and whether it is in any multi.
        let held = self.hold(guard)?;
        self.engine.add(easy)?;
        self.books().attach(easy);
        drop(held);
        self.changed();
        Ok(())
    }

    /// An add while another thread drives or holds the engine lock: the
    /// books take the easy now (it counts as running, as libcurl counts an
    /// added transfer), libcurl at that thread's next entry or when the
    /// holder lets go. Checked as far as the books can: already here is
    /// `CURLM_ADDED_ALREADY`.
    fn queue_add(&self, easy: *mut CURL) -> Result<()> {
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

    pub fn remove(&self, easy: *mut CURL) -> Result<()> {
        if easy.is_null() {
            return Err(Error::BadEasyHandle);
        }
        // For an easy not attached here, libcurl answers: OK when it is in no
        // multi, CURLM_BAD_EASY_HANDLE when it is in another or is no easy.
        match self.enter(Call::RemoveHandle)? {
            // Before 7.70 libcurl would unlink an easy of another multi from
            // this one's list; it answers OK, and so does curlmux, untouched.
            Entered::Locked(_) if !self.engine.lib().remove_checks_owner() && !self.books().contains(easy) => {
                return Ok(());
            }
            Entered::Locked(held) => {
                self.engine.remove(easy)?;
                self.books().detach(easy);
                // Some versions (8.16) tell the timer callback nothing when
                // the removed easy had no timer of its own: ask libcurl.
                if !held.stale {
                    self.deadline.set(self.engine.timeout()?);
                }
                drop(held);
                self.changed();
            }
            Entered::Unlocked => {
                self.engine.remove(easy)?;
                self.books().detach(easy);
            }
        }
        Ok(())
    }

    /// Whether the application's socket and timer callbacks, caused now,
    /// are for another thread: the one that drives it with them.
    fn relays(&self) -> bool {
        self.app.drives() && self.driver.is_other()
    }

    fn relay(&self, what: Relayed) {
        self.relayed.lock().push(what);
        self.any_relayed.store(true, Ordering::Release);
    }

    /// Makes the callbacks relayed to this thread, in order; of the timer's,
    /// only the last counts, with the time left until the deadline it named.
    fn make_relayed(&self) {
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
    fn refused_watch(&self, easy: *mut CURL) {
        if !self.app.drives() {
            self.defer(Deferred::Fail(easy, CURLE_OUT_OF_MEMORY));
        }
    }

    /// `easy` is about to be freed (curl_easy_cleanup): if it is attached
    /// here, remove it now, while it still holds its connection. libcurl
    /// 7.75 to 8.14 detach the connection first and remove the easy after
    /// (curl 66d35ee5d4), so a connection with a response still in flight
    /// goes back to the cache and the next transfer on it reads that
    /// response. From another thread than the one inside the multi, this
    /// waits for the engine lock, as `curl_multi_remove_handle` does. Inside
    /// a callback of this multi, libcurl 8.22 and later keep the easy
    /// running (the books too); earlier ones would free it while still
    /// driving it, so curlmux holds the free back, unless another multi
    /// already did (`may_hold` false): true when it did, and the caller must
    /// not free. The notify callback runs inside a call on libcurl 8.22 (a
    /// no-op there, the easy and its message stay), after libcurl's call in
    /// curlmux.
    pub fn easy_freed(&self, easy: *mut CURL, may_hold: bool) -> bool {
        // A forked child's copy touches nothing the parent drives.
        if self.inherited() || !self.books().contains(easy) {
            return false;
        }
        let keeps = self.engine.lib().keeps_easies_freed_in_callbacks();
        if self.notifying.is_current() && keeps {
            return may_hold;
        }
        if !self.owner.is_current() {
            let Ok(held) = self.hold(self.lock_engine()) else { return false };
            self.forget(&held, easy);
            drop(held);
            self.changed();
            return false;
        }
        if !may_hold {
            self.books().detach(easy);
            return false;
        }
        if keeps {
            return false;
        }
        self.engine.silence(easy);
        self.defer(Deferred::Free(easy));
        true
    }

    /// Removes `easy` from libcurl and the books, if it is attached here.
    fn forget(&self, state: &State, easy: *mut CURL) {
        if !self.books().contains(easy) {
            return;
        }
        if let Err(e) = self.engine.remove(easy) {
            trace!("freeing {easy:p}: remove: {e:?}");
        }
        self.books().detach(easy);
        if !state.stale
            && let Ok(after) = self.engine.timeout()
        {
            self.deadline.set(after);
        }
    }

    /// The app pauses `easy` in some direction, or (false) unpauses it, with
    /// `pause` (libcurl's curl_easy_pause): if it is a transfer here, that
    /// runs under the engine lock (libcurl's pause works on the multi too),
    /// and perform runs it while paused (drive.rs). None, with nothing done,
    /// when it is not a transfer here.
    pub fn pause_easy(
        &self,
        easy: *mut CURL,
        paused: bool,
        pause: &dyn Fn() -> curl_sys::CURLcode,
    ) -> Option<curl_sys::CURLcode> {
        if self.inherited() || !self.books().contains(easy) {
            return None;
        }
        let held = if self.owner.is_current() { None } else { Some(self.hold(self.lock_engine()).ok()?) };
        let result = pause();
        self.books().set_paused(easy, paused);
        drop(held);
        Some(result)
    }

    /// One step of the event API: `fd` is ready as `bits` says, or (with
    /// `CURL_SOCKET_TIMEOUT`) the timeout is due.
    pub fn socket_action(&self, fd: curl_socket_t, bits: c_int) -> Result<c_int> {
        self.driving(Call::SocketAction, |state| {
            self.stop_walking(state);
            if !state.reactor_used && self.app.drives() && fd != self.reactor.fd() {
                // The app watches the sockets: each wish costs no epoll_ctl here.
                self.reactor.pause();
            }
            self.catch_up(state)?;
            let outcome = if fd == curl_sys::CURL_SOCKET_TIMEOUT {
                self.deadline.take_due();
                self.engine.timeout_expired()
            } else if fd == self.reactor.fd() {
                // The descriptor fdset and waitfds hand out, given back:
                // whatever is ready behind it.
                return self.drive(state);
            } else {
                self.engine.socket_ready(fd, Happened::from_bits(bits))
            };
            self.collect(state);
            outcome
        })
    }

    /// Attaches the app's pointer to a socket libcurl knows.
    pub fn assign(&self, fd: curl_socket_t, pointer: *mut c_void) -> Result<()> {
        let _entered = self.enter(Call::Assign)?;
        self.engine.assign(fd, pointer)
    }

    /// The attached easy handles, from the books (any thread, without the
    /// engine lock); from inside a callback libcurl's own list, as libcurl
    /// answers there (None where it has none).
    pub fn handles(&self) -> Option<Handles> {
        self.check_entry(Call::GetHandles).ok()?;
        if self.owner.is_current() {
            return match self.in_callback(Call::GetHandles) {
                InCallback::Refused => None,
                InCallback::Unlocked => self.engine.handles().map(Handles::Libcurls),
            };
        }
        Some(Handles::Books(self.books().easies().collect()))
    }

    pub fn timeout(&self) -> Result<c_long> {
        let _held = self.lock(Call::Timeout)?;
        self.sweep_only_while_running();
        Ok(match self.deadline.remaining() {
            None => -1,
            // libcurl reports a sub-millisecond remainder as 1, never as 0.
            Some(left) => left.as_nanos().div_ceil(1_000_000).min(c_long::MAX as u128) as c_long,
        })
    }

    /// Takes the oldest message: the books alone, from any thread, never
    /// waiting for a thread inside libcurl.
    pub fn info_read(&self) -> Option<(*mut CURLMsg, c_int)> {
        self.check_entry(Call::InfoRead).ok()?;
        if self.owner.is_current() && self.in_callback(Call::InfoRead) == InCallback::Refused {
            return None;
        }
        let mut books = self.books();
        let msg = books.pop()?;
        Some((msg, books.queued() as c_int))
    }

    /// Applies a decoded option; a decoding error is reported only after the
    /// in-callback check, as libcurl orders them.
    pub fn setopt(&self, option: Result<MultiOpt>) -> Result<()> {
        let held = self.lock(Call::Setopt)?;
        crate::panic::injected("setopt");
        match option? {
            MultiOpt::App(which, pointer) => self.app.set(which, pointer),
            MultiOpt::EngineLong(opt, v) => self.engine.setopt_long(opt, v)?,
            MultiOpt::EngineOffT(opt, v) => self.engine.setopt_off_t(opt, v)?,
            MultiOpt::EnginePtr(opt, v) => self.engine.setopt_ptr(opt, v)?,
            MultiOpt::NotifyFunction(f) => self.notify.set_callback(f),
            MultiOpt::NotifyData(data) => self.notify.set_data(data),
        }
        drop(held);
        self.changed();
        Ok(())
    }

    /// `curl_multi_get_offt`: libcurl's own counts where it keeps them
    /// (8.16; they include its internal transfers, as stock's do), else the
    /// books': every transfer not finished is running, and which of them
    /// wait for a connection only libcurl knows.
    pub fn get_offt(&self, info: c_int, has_out: bool) -> Result<curl_sys::curl_off_t> {
        let entered = self.enter(Call::GetOfft)?;
        if !has_out {
            return Err(Error::BadFunctionArgument);
        }
        if let Some(answer) = self.engine.get_offt(info) {
            return answer;
        }
        let Entered::Locked(held) = entered else {
            unreachable!("the table refuses GetOfft unlocked without libcurl's counts")
        };
        drop(held);
        let books = self.books();
        let n = match info {
            CURLMINFO_XFERS_CURRENT => books.attached() as u64,
            CURLMINFO_XFERS_RUNNING => books.running() as u64,
            CURLMINFO_XFERS_DONE => books.done() as u64,
            CURLMINFO_XFERS_ADDED => books.added(),
            _ => return Err(Error::UnknownOption),
        };
        Ok(n.min(i64::MAX as u64) as curl_sys::curl_off_t)
    }

    /// `curl_multi_notify_enable` / `_disable`.
    pub fn notify_enable(&self, kind: c_uint, on: bool) -> Result<()> {
        let _entered = self.enter(if on { Call::NotifyEnable } else { Call::NotifyDisable })?;
        if !notify::known(kind) {
            return Err(Error::UnknownOption);
        }
        if on && kind == CURLMNOTIFY_INFO_READ && self.notify.internal().is_null() {
            // SAFETY: curl_easy_init takes no arguments; NULL means out of memory.
            let easy = unsafe { (self.engine.lib().easy_init)() };
            if easy.is_null() {
                return Err(Error::OutOfMemory);
            }
            if !self.notify.keep_internal(easy) {
                // SAFETY: made just above and handed to nobody.
                unsafe { (self.engine.lib().easy_cleanup)(easy) };
            }
        }
        self.notify.set_enabled(kind, on);
        Ok(())
    }

    /// Made in a process this one was forked from: its epoll set, timerfd,
    /// eventfds and libcurl's sockets are the parent's too. Every call but
    /// cleanup answers `CURLM_BAD_HANDLE`, and nothing reaches the kernel
    /// objects or libcurl's transfers, which the parent still drives.
    fn inherited(&self) -> bool {
        self.born != crate::fork::current()
    }

    /// Makes a current or the next `curl_multi_poll` return. Thread-safe, lock-free.
    pub fn wakeup(&self) -> Result<()> {
        if self.inherited() {
            return Err(Error::BadHandle);
        }
        self.reactor.wake().map_err(|_| Error::WakeupFailure)
    }

    /// Detaches every easy (never frees them) and closes the engine. The
    /// Multi answers `CURLM_BAD_HANDLE` from then on.
    pub fn cleanup(&self) -> Result<()> {
        if self.inherited() {
            self.abandon();
            return Ok(());
        }
        let mut held = self.lock(Call::Cleanup)?;
        held.closed = true;
        // libcurl 7.88's cleanup detaches easies without clearing their
        // pending timers; such an easy added to another multi later is never
        // put in that multi's timer tree and, driven by events, never starts.
        // remove_handle clears them. libcurl's cleanup makes no callbacks, so
        // the application's are silenced first.
        self.app.silence();
        let easies: Vec<*mut CURL> = self.books().easies().collect();
        for easy in easies {
            let _ = self.engine.remove(easy);
        }
        self.books().clear();
        // SAFETY: `closed` was false until now and is never reset: this runs once.
        unsafe { self.engine.cleanup() };
        self.free_internal();
        drop(held);
        // A thread asleep in a wait on it returns.
        self.changed();
        Ok(())
    }

    /// Frees the handle INFO_READ notices pass, if one was made.
    fn free_internal(&self) {
        let easy = self.notify.take_internal();
        if !easy.is_null() {
            // SAFETY: curlmux made it with curl_easy_init and never attached it.
            unsafe { (self.engine.lib().easy_cleanup)(easy) };
        }
    }

    /// Cleanup in a forked child: the books go, the engine is left as it is
    /// (libcurl's cleanup would close the parent's connections the polite
    /// way, writing to them), and the descriptors are closed when the Multi
    /// is dropped, which only drops this process's references. A lock held
    /// at the fork by a thread that is gone here is not waited for.
    fn abandon(&self) {
        self.app.silence();
        if let Some(mut state) = self.state.try_lock() {
            state.closed = true;
        }
        if let Some(mut books) = self.books.try_lock() {
            books.clear();
        }
    }

    /// Cleanup for a Multi that never reached the application.
    fn close(&self) {
        if self.inherited() {
            return self.abandon();
        }
        let mut state = self.state.lock();
        if !state.closed {
            state.closed = true;
            // SAFETY: guarded by `closed`, as in `cleanup`.
            unsafe { self.engine.cleanup() };
        }
        self.free_internal();
    }
}

impl Drop for Multi {
    fn drop(&mut self) {
        // After every thread's last use of it, whichever drops it (sync.rs).
        crate::sync::happens_after(&*self);
        self.close();
    }
}

/// The engine's wishes go to the reactor (so perform, wait and fdset work)
/// and, when the application set its own callbacks, to the application too.
impl EngineSink for Multi {
    fn socket(&self, easy: *mut CURL, fd: curl_socket_t, wish: Option<Wish>, socketp: *mut c_void) -> c_int {
        // In a forked child, libcurl calls back when the child frees an
        // attached easy: the epoll set is the parent's.
        if self.inherited() {
            return 0;
        }
        trace!("socket {easy:p} fd {fd}: {wish:?}");
        // Whose socket lost interest is the earlier wish's owner: libcurl
        // may name another easy (its own internal one) when it drops it.
        let change = match wish {
            Some(w) => self.reactor.watch(fd, Interest { read: w.read, write: w.write }, easy as usize),
            None => Ok(self.reactor.unwatch(fd)),
        };
        match change {
            // libcurl 8.10 to 8.12 show pauses in no wish reliably: there a
            // transfer that changed a wish stays parked until it finishes.
            Ok(Change::Narrowed { owner, .. }) if self.engine.lib().hides_pauses() => {
                self.books().park(owner as *mut CURL)
            }
            Ok(Change::Widened | Change::WriteForRead { .. }) if self.engine.lib().hides_pauses() => {
                self.books().park(easy)
            }
            // Done sending (the request, or the whole upload) drops writing
            // too, often for reading: only an unfinished upload counts as
            // paused that way (8.19 and later wish a paused upload readable).
            Ok(Change::Narrowed { owner, read: true, .. }) => self.books().park(owner as *mut CURL),
            // Sending, then nothing: the request went out and the response
            // came and was paused, all in one call, on a fresh connection.
            Ok(Change::Narrowed { owner, read: false, gone: true }) => {
                self.defer(Deferred::ParkIfStarted(owner as *mut CURL))
            }
            Ok(Change::Narrowed { owner, read: false, gone: false } | Change::WriteForRead { owner }) => {
                self.defer(Deferred::ParkIfSending(owner as *mut CURL))
            }
            Ok(Change::Widened) => self.books().unpark(easy),
            Ok(Change::Same) => {}
            Err(e) => {
                trace!("watch fd {fd}: {e}");
                self.refused_watch(easy);
            }
        }
        if self.relays() {
            self.relay(Relayed::Socket { easy, fd, wish, socketp });
            return 0;
        }
        self.app.socket(easy, fd, wish, socketp)
    }

    fn timer(&self, after: Option<Duration>) -> c_int {
        if self.inherited() {
            return 0;
        }
        self.deadline.set(after);
        if self.relays() {
            self.relay(Relayed::Timer(after.map(|d| Instant::now() + d)));
            return 0;
        }
        self.app.timer(after)
    }

    /// An accepted push is the application's transfer from now on: libcurl
    /// adds it to the engine itself (through its public add_handle before
    /// 8.22, internally since), so the books adopt it here.
    fn push(&self, parent: *mut CURL, pushed: *mut CURL, num_headers: usize, headers: *mut c_void) -> c_int {
        let answer = self.app.push(parent, pushed, num_headers, headers);
        if answer == CURL_PUSH_OK {
            self.books().attach(pushed);
        }
        answer
    }
}
