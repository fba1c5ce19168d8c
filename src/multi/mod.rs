//! Multi: what one `CURLM *` issued by curlmux is.
//!
//! Owns: the rules of the API, one method per call: check order, what a
//! call may do inside a callback, which thread may do what. Its rooms:
//! guard.rs, the one way in (the engine lock, the in-callback table);
//! books.rs, the attached transfers and their messages; deferred.rs, what
//! one thread leaves for another; sink.rs, what libcurl's callbacks tell
//! it; pause.rs, which transfers are parked; easies.rs, easies the
//! application frees or pauses; drive.rs, the loop from reactor to engine
//! (walk.rs: when libcurl walks instead); wait.rs, how waits sleep;
//! notify.rs, app.rs and deadline.rs, the notify callback, the
//! application's own callbacks and the engine's next deadline. Must not
//! see raw C pointers from callers other than easy handles, and makes no
//! syscalls itself: the reactor and the engine do.
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
mod books;
mod deadline;
mod deferred;
mod drive;
mod easies;
mod guard;
mod notify;
mod pause;
mod sink;
mod wait;
mod walk;

use std::ffi::{c_int, c_long, c_uint, c_void};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use curl_sys::{CURL, CURLMoption, CURLMsg, curl_socket_t};

use crate::debug::trace;
use crate::engine::{
    CURLMINFO_XFERS_ADDED, CURLMINFO_XFERS_CURRENT, CURLMINFO_XFERS_DONE, CURLMINFO_XFERS_RUNNING,
    CURLMNOTIFY_INFO_READ, Engine, LibCurl, SocketEvents,
};
use crate::error::{Error, Result, required};
use crate::reactor::{Events, Reactor};
use crate::sync::{self, Mutex, MutexGuard};
use crate::versions;
use app::AppCallbacks;
pub use app::AppPointer;
use books::Books;
use deadline::Deadline;
use deferred::{Deferred, Easy, Relayed};
pub use guard::Call;
use guard::{Entered, InCallback, Owner};
use notify::{Notice, Notify};
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

    pub fn remove(&self, easy: *mut CURL) -> Result<()> {
        if easy.is_null() {
            return Err(Error::BadEasyHandle);
        }
        // For an easy not attached here, libcurl answers: OK when it is in no
        // multi, CURLM_BAD_EASY_HANDLE when it is in another or is no easy.
        match self.enter(Call::RemoveHandle)? {
            // Before 7.70 libcurl would unlink an easy of another multi from
            // this one's list; it answers OK, and so does curlmux, untouched.
            Entered::Locked(_)
                if !self.engine.lib().has(&versions::CHECKS_REMOVE_OWNER) && !self.books().contains(easy) =>
            {
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
                self.engine.socket_ready(fd, SocketEvents::from_bits(bits))
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

    /// `curl_multi_timeout`: the time until the next deadline, into `ms`.
    pub fn timeout(&self, ms: Option<&mut c_long>) -> Result<()> {
        let _held = self.lock(Call::Timeout)?;
        let ms = required(ms)?;
        self.sweep_only_while_running();
        *ms = match self.deadline.remaining() {
            None => -1,
            // libcurl reports a sub-millisecond remainder as 1, never as 0.
            Some(left) => left.as_nanos().div_ceil(1_000_000).min(c_long::MAX as u128) as c_long,
        };
        Ok(())
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
    /// wait for a connection only libcurl knows. An unknown `info` reads -1,
    /// as in libcurl.
    pub fn get_offt(&self, info: c_int, value: Option<&mut curl_sys::curl_off_t>) -> Result<()> {
        let entered = self.enter(Call::GetOfft)?;
        let value = required(value)?;
        let answer = match self.engine.get_offt(info) {
            Some(answer) => answer,
            None => {
                let Entered::Locked(held) = entered else {
                    unreachable!("the table refuses GetOfft unlocked without libcurl's counts")
                };
                drop(held);
                let books = self.books();
                match info {
                    CURLMINFO_XFERS_CURRENT => Ok(books.attached() as u64),
                    CURLMINFO_XFERS_RUNNING => Ok(books.running() as u64),
                    CURLMINFO_XFERS_DONE => Ok(books.done() as u64),
                    CURLMINFO_XFERS_ADDED => Ok(books.added()),
                    _ => Err(Error::UnknownOption),
                }
                .map(|n| n.min(i64::MAX as u64) as curl_sys::curl_off_t)
            }
        };
        *value = match answer {
            Ok(n) => n,
            Err(e) if curl_sys::CURLMcode::from(e) == crate::error::CURLM_UNKNOWN_OPTION => -1,
            Err(e) => return Err(e),
        };
        answer.map(drop)
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
