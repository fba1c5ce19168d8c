//! Multi: what one `CURLM *` issued by curlmux is.
//!
//! Owns: the rules of the API — check order, what a call may do inside a
//! callback (one [`Multi::enter`] over guard.rs's table), serialization of
//! threads — and the books of attached transfers and their messages
//! (queue.rs). The drive loop lives in drive.rs, the waiting in wait.rs.
//! Must not see raw C pointers from callers other than easy handles, and
//! makes no syscalls itself: the reactor and the engine do.

mod app;
mod deadline;
mod drive;
mod guard;
mod notify;
mod queue;
mod wait;
mod walk;

use std::ffi::{c_int, c_long, c_uint, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use curl_sys::{CURL, CURLE_OUT_OF_MEMORY, CURLMoption, CURLMsg, CURLcode, curl_socket_t};

use crate::debug::trace;
use crate::engine::{
    CURL_PUSH_OK, CURLMINFO_XFERS_ADDED, CURLMINFO_XFERS_CURRENT, CURLMINFO_XFERS_DONE, CURLMINFO_XFERS_RUNNING,
    CURLMNOTIFY_INFO_READ, Engine, EngineSink, Happened, LibCurl, Wish,
};
use crate::error::{Error, Result};
use crate::reactor::{Change, Events, Interest, Reactor};
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

/// Changes to the books asked for where the lock cannot be taken: calls
/// from inside callbacks, a server push, an easy freed elsewhere.
enum Deferred {
    Adopt(*mut CURL),
    Detach(*mut CURL),
    /// Its socket cannot be watched: the transfer ends with this result.
    /// Only without callbacks of the application, which the removal might call.
    Fail(*mut CURL, CURLcode),
    /// Its socket stopped being wished readable (or, on libcurl 8.10 to
    /// 8.12, changed at all).
    Park(*mut CURL),
    /// Its socket stopped being wished writable: parked if its upload is
    /// unfinished (paused, or rate-limited).
    ParkIfSending(*mut CURL),
    /// Its socket, wished writable only, was given up: parked if it is still
    /// running with its request sent (its response paused by the write
    /// callback in the same call, or it waits with no socket of its own).
    ParkIfStarted(*mut CURL),
    /// This transfer's socket gained interest.
    Unpark(*mut CURL),
    /// The app paused it in some direction (true) or unpaused it
    /// (curl_easy_pause): parked until then, whatever its socket does.
    Paused(*mut CURL, bool),
    /// The app freed it inside a callback, while libcurl still drove it
    /// (before 8.22): removed, then freed, once libcurl's call returned.
    Free(*mut CURL),
}

// SAFETY: the easy pointers are only compared and handed back to libcurl.
unsafe impl Send for Deferred {}

struct State {
    closed: bool,
    books: Books,
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
    owner: Owner,
    /// The thread running the application's notify callback, if any.
    notifying: Owner,
    deferred: Mutex<Vec<Deferred>>,
    /// Set after a push to `deferred`: the common empty case costs one load.
    any_deferred: AtomicBool,
    /// Held while one thread hands out notices (drive.rs).
    handing_out: Mutex<()>,
    state: Mutex<State>,
}

/// The lock, held by the current thread, marked as the owner.
struct Held<'a> {
    state: MutexGuard<'a, State>,
    _mark: guard::OwnerMark<'a>,
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
            deferred: Mutex::new(Vec::new()),
            any_deferred: AtomicBool::new(false),
            handing_out: Mutex::new(()),
            state: Mutex::new(State {
                closed: false,
                books: Books::default(),
                events: Events::with_capacity(drive::EVENTS_PER_ROUND),
                walk: Walk::new(lib.can_walk()),
                stale: false,
                reactor_used: false,
                applied: Vec::new(),
            }),
        });
        // SAFETY: the sink is the Multi itself, which outlives its engine:
        // the engine is cleaned up in `cleanup` or `drop`, before the memory goes.
        if let Err(e) = unsafe { multi.engine.attach_sink(Arc::as_ptr(&multi)) } {
            multi.close();
            return Err(e);
        }
        Ok(multi)
    }

    /// Records the `CURLM *` the application knows this multi by (passed
    /// to its timer callback).
    pub fn set_handle(&self, handle: *mut curl_sys::CURLM) {
        self.app.set_handle(handle);
    }

    /// The one way in for every API call: from inside one of this multi's
    /// callbacks the table decides; otherwise the call takes the lock.
    fn enter(&self, call: Call) -> Result<Entered<'_>> {
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
        if self.owner.is_current() {
            let lib = self.engine.lib();
            let bound = Bound {
                guards_callbacks: lib.guards_callbacks(),
                counts: lib.newer.multi_get_offt.is_some(),
                lists: lib.newer.multi_get_handles.is_some(),
            };
            return match in_callback(call, bound) {
                InCallback::Refused => Err(Error::RecursiveApiCall),
                InCallback::Unlocked => Ok(Entered::Unlocked),
            };
        }
        let state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.closed {
            return Err(Error::BadHandle);
        }
        let mut held = Held { state, _mark: self.owner.mark() };
        self.apply_deferred(&mut held.state);
        Ok(Entered::Locked(held))
    }

    /// Enters for a call the table refuses inside callbacks.
    fn lock(&self, call: Call) -> Result<Held<'_>> {
        match self.enter(call)? {
            Entered::Locked(held) => Ok(held),
            Entered::Unlocked => unreachable!("{call:?} runs unlocked only where the table says so"),
        }
    }

    fn defer(&self, what: Deferred) {
        self.deferred.lock().unwrap_or_else(|p| p.into_inner()).push(what);
        self.any_deferred.store(true, Ordering::Release);
    }

    fn apply_deferred(&self, state: &mut State) {
        // A load first: the common empty case then needs no locked instruction.
        if !self.any_deferred.load(Ordering::Acquire) || !self.any_deferred.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut pending = std::mem::take(&mut state.applied);
        std::mem::swap(&mut pending, &mut *self.deferred.lock().unwrap_or_else(|p| p.into_inner()));
        for what in pending.drain(..) {
            match what {
                Deferred::Adopt(easy) => state.books.attach(easy),
                Deferred::Detach(easy) => {
                    state.books.detach(easy);
                }
                // Only while it is still this multi's unfinished transfer.
                Deferred::Fail(easy, result) if state.books.is_running(easy) => {
                    if let Err(e) = self.engine.remove(easy) {
                        trace!("fail {easy:p}: remove: {e:?}");
                    }
                    self.finish(state, easy, result);
                    if !state.stale
                        && let Ok(after) = self.engine.timeout()
                    {
                        self.deadline.set(after);
                    }
                }
                Deferred::Fail(..) => {}
                Deferred::Park(easy) => state.books.park(easy),
                Deferred::ParkIfSending(easy) => {
                    if state.books.is_running(easy) && self.engine.upload_unfinished(easy) {
                        state.books.park(easy);
                    }
                }
                Deferred::ParkIfStarted(easy) => {
                    if state.books.is_running(easy) && self.engine.request_sent(easy) {
                        state.books.park(easy);
                    }
                }
                Deferred::Unpark(easy) => state.books.unpark(easy),
                Deferred::Paused(easy, paused) => state.books.set_paused(easy, paused),
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

    pub fn add(&self, easy: *mut CURL) -> Result<()> {
        if easy.is_null() {
            return Err(Error::BadEasyHandle);
        }
        // libcurl checks the easy's magic and whether it is in any multi.
        match self.enter(Call::AddHandle)? {
            Entered::Locked(mut held) => {
                self.engine.add(easy)?;
                held.state.books.attach(easy);
            }
            Entered::Unlocked => {
                self.engine.add(easy)?;
                self.defer(Deferred::Adopt(easy));
            }
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
            Entered::Locked(held) if !self.engine.lib().remove_checks_owner() && !held.state.books.contains(easy) => {
                return Ok(());
            }
            Entered::Locked(mut held) => {
                self.engine.remove(easy)?;
                held.state.books.detach(easy);
                // Some versions (8.16) tell the timer callback nothing when
                // the removed easy had no timer of its own: ask libcurl.
                if !held.state.stale {
                    self.deadline.set(self.engine.timeout()?);
                }
            }
            Entered::Unlocked => {
                self.engine.remove(easy)?;
                self.defer(Deferred::Detach(easy));
            }
        }
        Ok(())
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
    /// response. Takes the lock only if it is free. Inside a callback of
    /// this multi, libcurl 8.22 and later keep the easy running (the books
    /// too); earlier ones would free it while still driving it, so curlmux
    /// holds the free back, unless another multi already did (`may_hold`
    /// false): true when it did, and the caller must not free. The notify
    /// callback runs inside a call on libcurl 8.22 (a no-op there, the
    /// easy and its message stay), after libcurl's call in curlmux.
    pub fn easy_freed(&self, easy: *mut CURL, may_hold: bool) -> bool {
        if self.notifying.is_current()
            && self.engine.lib().keeps_easies_freed_in_callbacks()
            && let Ok(state) = self.state.try_lock()
            && state.books.contains(easy)
        {
            return may_hold;
        }
        if !self.owner.is_current()
            && !self.inherited()
            && let Ok(state) = self.state.try_lock()
        {
            let mut held = Held { state, _mark: self.owner.mark() };
            self.apply_deferred(&mut held.state);
            self.forget(&mut held.state, easy);
            return false;
        }
        if !self.owner.is_current() || !may_hold {
            self.defer(Deferred::Detach(easy));
            return false;
        }
        if self.engine.lib().keeps_easies_freed_in_callbacks() {
            return false;
        }
        self.engine.silence(easy);
        self.defer(Deferred::Free(easy));
        true
    }

    /// Removes `easy` from libcurl and the books, if it is attached here.
    fn forget(&self, state: &mut State, easy: *mut CURL) {
        if !state.books.contains(easy) {
            return;
        }
        if let Err(e) = self.engine.remove(easy) {
            trace!("freeing {easy:p}: remove: {e:?}");
        }
        state.books.detach(easy);
        if !state.stale
            && let Ok(after) = self.engine.timeout()
        {
            self.deadline.set(after);
        }
    }

    /// The app paused `easy` in some direction, or (false) unpaused it: if
    /// it is a transfer here, perform runs it while paused (drive.rs). Any
    /// thread, inside callbacks too: the books learn it at the next call.
    pub fn easy_paused(&self, easy: *mut CURL, paused: bool) {
        if !self.inherited() {
            self.defer(Deferred::Paused(easy, paused));
        }
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

    /// The attached easy handles; from inside a callback libcurl's own list
    /// (None where it has none).
    pub fn handles(&self) -> Option<Handles> {
        match self.enter(Call::GetHandles).ok()? {
            Entered::Locked(held) => Some(Handles::Books(held.state.books.easies().collect())),
            // Inside a callback, whose caller holds the books: libcurl's own.
            Entered::Unlocked => self.engine.handles().map(Handles::Libcurls),
        }
    }

    pub fn timeout(&self) -> Result<c_long> {
        let held = self.lock(Call::Timeout)?;
        self.sweep_only_while_running(&held.state);
        Ok(match self.deadline.remaining() {
            None => -1,
            // libcurl reports a sub-millisecond remainder as 1, never as 0.
            Some(left) => left.as_nanos().div_ceil(1_000_000).min(c_long::MAX as u128) as c_long,
        })
    }

    pub fn info_read(&self) -> Option<(*mut CURLMsg, c_int)> {
        let mut held = self.lock(Call::InfoRead).ok()?;
        let msg = held.state.books.pop()?;
        Some((msg, held.state.books.queued() as c_int))
    }

    /// Applies a decoded option; a decoding error is reported only after the
    /// in-callback check, as libcurl orders them.
    pub fn setopt(&self, option: Result<MultiOpt>) -> Result<()> {
        let _held = self.lock(Call::Setopt)?;
        crate::panic::injected("setopt");
        match option? {
            MultiOpt::App(which, pointer) => self.app.set(which, pointer),
            MultiOpt::EngineLong(opt, v) => self.engine.setopt_long(opt, v)?,
            MultiOpt::EngineOffT(opt, v) => self.engine.setopt_off_t(opt, v)?,
            MultiOpt::EnginePtr(opt, v) => self.engine.setopt_ptr(opt, v)?,
            MultiOpt::NotifyFunction(f) => self.notify.set_callback(f),
            MultiOpt::NotifyData(data) => self.notify.set_data(data),
        }
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
        let books = &held.state.books;
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
        held.state.closed = true;
        // libcurl 7.88's cleanup detaches easies without clearing their
        // pending timers; such an easy added to another multi later is never
        // put in that multi's timer tree and, driven by events, never starts.
        // remove_handle clears them. libcurl's cleanup makes no callbacks, so
        // the application's are silenced first.
        self.app.silence();
        let easies: Vec<*mut CURL> = held.state.books.easies().collect();
        for easy in easies {
            let _ = self.engine.remove(easy);
        }
        held.state.books.clear();
        // SAFETY: `closed` was false until now and is never reset: this runs once.
        unsafe { self.engine.cleanup() };
        self.free_internal();
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
        if let Ok(mut state) = self.state.try_lock() {
            state.closed = true;
            state.books.clear();
        }
    }

    /// Cleanup for a Multi that never reached the application.
    fn close(&self) {
        if self.inherited() {
            return self.abandon();
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
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
                self.defer(Deferred::Park(owner as *mut CURL))
            }
            Ok(Change::Widened | Change::WriteForRead { .. }) if self.engine.lib().hides_pauses() => {
                self.defer(Deferred::Park(easy))
            }
            // Done sending (the request, or the whole upload) drops writing
            // too, often for reading: only an unfinished upload counts as
            // paused that way (8.19 and later wish a paused upload readable).
            Ok(Change::Narrowed { owner, read: true, .. }) => self.defer(Deferred::Park(owner as *mut CURL)),
            // Sending, then nothing: the request went out and the response
            // came and was paused, all in one call, on a fresh connection.
            Ok(Change::Narrowed { owner, read: false, gone: true }) => {
                self.defer(Deferred::ParkIfStarted(owner as *mut CURL))
            }
            Ok(Change::Narrowed { owner, read: false, gone: false } | Change::WriteForRead { owner }) => {
                self.defer(Deferred::ParkIfSending(owner as *mut CURL))
            }
            Ok(Change::Widened) => self.defer(Deferred::Unpark(easy)),
            Ok(Change::Same) => {}
            Err(e) => {
                trace!("watch fd {fd}: {e}");
                self.refused_watch(easy);
            }
        }
        self.app.socket(easy, fd, wish, socketp)
    }

    fn timer(&self, after: Option<Duration>) -> c_int {
        if self.inherited() {
            return 0;
        }
        self.deadline.set(after);
        self.app.timer(after)
    }

    /// An accepted push is the application's transfer from now on: libcurl
    /// adds it to the engine itself (through its public add_handle before
    /// 8.22, internally since), so the books adopt it here.
    fn push(&self, parent: *mut CURL, pushed: *mut CURL, num_headers: usize, headers: *mut c_void) -> c_int {
        let answer = self.app.push(parent, pushed, num_headers, headers);
        if answer == CURL_PUSH_OK {
            self.defer(Deferred::Adopt(pushed));
        }
        answer
    }
}
