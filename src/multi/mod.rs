//! Multi: what one `CURLM *` issued by curlmux is.
//!
//! Owns: the attached transfers and their messages (queue.rs), the rules of
//! the API (check order, in-callback answers via guard.rs, serialization of
//! threads), and the loop that moves readiness from the reactor to the engine.
//! Must not see raw C pointers from callers other than easy handles, and makes
//! no syscalls itself: the reactor and the engine do.

mod app;
mod deadline;
mod guard;
mod queue;
mod walk;

use std::ffi::{c_int, c_long, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use curl_sys::{CURL, CURLMoption, CURLMsg, curl_socket_t, curl_waitfd};

use crate::debug::trace;
use crate::engine::{Engine, EngineSink, Happened, LibCurl, Wish};
use crate::error::{Error, Result};
use crate::reactor::{Event, Events, Interest, Reactor, Ready};
use app::AppCallbacks;
pub use app::AppPointer;
use deadline::Deadline;
pub use guard::Call;
use guard::{InCallback, Owner, in_callback};
use queue::Books;
use walk::Walk;

/// Rounds of "drain readiness, act, run timers" one perform may do while
/// each round still finds work; enough for connect → send → receive on loopback.
const MAX_ROUNDS: usize = 4;
/// Events taken from the reactor per round.
const EVENTS_PER_ROUND: usize = 1024;

/// A typed `curl_multi_setopt` argument (decoded at the C boundary).
#[derive(Debug, Clone, Copy)]
pub enum MultiOpt {
    /// The application's callbacks and their data: relayed from the engine's.
    App(AppPointer, *mut c_void),
    /// Options that shape transfers go to the engine as they are.
    EngineLong(CURLMoption, c_long),
    EngineOffT(CURLMoption, curl_sys::curl_off_t),
    EnginePtr(CURLMoption, *mut c_void),
}

/// Book-keeping libcurl asked for from places where the lock cannot be taken
/// (libcurl's own calls on the engine handle, calls from inside callbacks).
enum Deferred {
    Adopt(*mut CURL),
    Detach(*mut CURL),
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
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, Default)]
pub struct Waited {
    /// Descriptors with events: the multi's sockets and the caller's extra ones.
    pub ready: c_int,
    /// The engine's deadline came: there is timer work to do.
    pub deadline: bool,
}

/// Which wait: they differ in what they do when idle and about wakeups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitKind {
    /// `curl_multi_wait`: returns at once with nothing to wait on; ignores wakeups.
    Wait,
    /// `curl_multi_poll`: sleeps even when idle; a wakeup ends it.
    Poll,
    /// `curlmux_select`: sleeps even when idle; ignores wakeups.
    Select,
}

pub struct Multi {
    engine: Engine,
    app: AppCallbacks,
    reactor: Reactor,
    deadline: Deadline,
    owner: Owner,
    deferred: Mutex<Vec<Deferred>>,
    /// Set after a push to `deferred`: the common empty case costs one load.
    any_deferred: AtomicBool,
    state: Mutex<State>,
}

/// The lock, held by the current thread, marked as the owner.
struct Held<'a> {
    state: MutexGuard<'a, State>,
    _mark: guard::OwnerMark<'a>,
}

impl Multi {
    pub fn new(lib: &'static LibCurl) -> Result<Arc<Multi>> {
        let reactor = Reactor::new().map_err(|e| {
            trace!("multi init: reactor: {e}");
            Error::OutOfMemory
        })?;
        let engine = Engine::new(lib)?;
        let multi = Arc::new(Multi {
            engine,
            app: AppCallbacks::default(),
            reactor,
            deadline: Deadline::default(),
            owner: Owner::default(),
            deferred: Mutex::new(Vec::new()),
            any_deferred: AtomicBool::new(false),
            state: Mutex::new(State {
                closed: false,
                books: Books::default(),
                events: Events::with_capacity(EVENTS_PER_ROUND),
                walk: Walk::default(),
                stale: false,
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

    /// The libcurl multi handle inside; libcurl calls curlmux back with it.
    pub fn engine_handle(&self) -> *mut curl_sys::CURLM {
        self.engine.handle()
    }

    pub fn lib(&self) -> &'static LibCurl {
        self.engine.lib()
    }

    /// Takes the lock for `call`, or answers as libcurl does inside a callback.
    fn lock(&self, call: Call) -> Result<Held<'_>> {
        if self.owner.is_current() {
            return Err(in_callback(call).error());
        }
        let state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.closed {
            return Err(Error::BadHandle);
        }
        let mut held = Held { state, _mark: self.owner.mark() };
        self.apply_deferred(&mut held.state);
        Ok(held)
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
        let pending = std::mem::take(&mut *self.deferred.lock().unwrap_or_else(|p| p.into_inner()));
        for what in pending {
            match what {
                Deferred::Adopt(easy) => state.books.attach(easy),
                Deferred::Detach(easy) => {
                    state.books.detach(easy);
                }
            }
        }
    }

    pub fn add(&self, easy: *mut CURL) -> Result<()> {
        if easy.is_null() {
            return Err(Error::BadEasyHandle);
        }
        if self.owner.is_current() {
            debug_assert_eq!(in_callback(Call::AddHandle), InCallback::AskEngine);
            self.engine.add(easy)?;
            self.defer(Deferred::Adopt(easy));
            return Ok(());
        }
        let mut held = self.lock(Call::AddHandle)?;
        // libcurl checks the easy's magic and whether it is in any multi.
        self.engine.add(easy)?;
        held.state.books.attach(easy);
        Ok(())
    }

    pub fn remove(&self, easy: *mut CURL) -> Result<()> {
        if easy.is_null() {
            return Err(Error::BadEasyHandle);
        }
        if self.owner.is_current() {
            self.engine.remove(easy)?;
            self.defer(Deferred::Detach(easy));
            return Ok(());
        }
        let mut held = self.lock(Call::RemoveHandle)?;
        // For an easy not attached here, libcurl answers: OK when it is in no
        // multi, CURLM_BAD_EASY_HANDLE when it is in another or is no easy.
        self.engine.remove(easy)?;
        held.state.books.detach(easy);
        Ok(())
    }

    /// libcurl attached `easy` to the engine on its own: a DoH probe (not
    /// the application's), or a server push the application accepted (its
    /// transfer from now on).
    pub fn engine_added(&self, easy: *mut CURL) {
        if self.app.take_pushed(easy) {
            self.defer(Deferred::Adopt(easy));
        }
    }

    /// libcurl detached `easy` from the engine on its own (curl_easy_cleanup
    /// of an attached easy): keep the books, without the lock.
    pub fn engine_removed(&self, easy: *mut CURL) {
        self.defer(Deferred::Detach(easy));
    }

    pub fn perform(&self) -> Result<c_int> {
        let mut held = self.lock(Call::Perform)?;
        crate::panic::injected("perform");
        self.steer(&mut held.state);
        self.catch_up(&mut held.state)?;
        if held.state.walk.is_on() {
            self.walk(&mut held.state)?;
        } else {
            self.drive(&mut held.state)?;
        }
        Ok(held.state.books.running() as c_int)
    }

    /// Chooses how to drive (walk.rs). Leaving the walk, the sockets go back
    /// into the epoll set as last wished; what libcurl changed meanwhile is
    /// asked at the next call that may drive transfers (`catch_up`).
    fn steer(&self, state: &mut State) {
        match state.walk.decide(state.books.attached(), !self.app.drives()) {
            Some(true) => {
                trace!("walk: on, {} attached", state.books.attached());
                self.reactor.pause();
            }
            Some(false) => {
                trace!("walk: off, {} attached", state.books.attached());
                self.reactor.resume();
                state.stale = true;
            }
            None => {}
        }
    }

    /// After a walk: libcurl reports every socket change (its walk plus
    /// `curl_multi_socket_all`, which runs transfers and their callbacks:
    /// only perform and socket_action may), and the deadline is its own again.
    fn catch_up(&self, state: &mut State) -> Result<()> {
        if !std::mem::take(&mut state.stale) {
            return Ok(());
        }
        let outcome = self.engine.run_all();
        self.collect(state);
        self.deadline.set(self.engine.timeout()?);
        outcome
    }

    /// Stops walking for good: the caller needs the socket wishes live. Until
    /// a perform catches up, the deadline reads as due, so that a caller
    /// sleeping on the wishes wakes at once to perform.
    fn stop_walking(&self, state: &mut State) {
        state.walk.forbid();
        self.steer(state);
        if state.stale {
            self.deadline.set(Some(Duration::ZERO));
        }
    }

    /// libcurl's own walk over its transfers; how many were ready (the last
    /// wait's count, or how many finished) tells the next choice.
    fn walk(&self, state: &mut State) -> Result<()> {
        // Nobody drains the epoll fd while walking: take back a due signal.
        self.deadline.take_due();
        self.reactor.clear_due();
        let outcome = self.engine.perform();
        let finished = self.collect(state);
        state.walk.walked(finished, state.books.attached());
        outcome
    }

    /// Hands every ready socket and a due deadline to the engine, then moves
    /// finished transfers to the message queue. Each ready socket costs one
    /// `socket_action`, so idle transfers cost nothing; how many were ready
    /// feeds the choice to walk instead (walk.rs).
    fn drive(&self, state: &mut State) -> Result<()> {
        let mut outcome = Ok(());
        let mut seen = 0;
        for _ in 0..MAX_ROUNDS {
            self.reactor.poll(&mut state.events, Some(Duration::ZERO)).map_err(|e| {
                trace!("epoll_wait: {e}");
                Error::UnrecoverablePoll
            })?;
            let due = self.deadline.take_due();
            let mut sockets = 0;
            for raw in state.events.iter() {
                match self.reactor.decode(raw) {
                    Event::Socket(fd, ready) => {
                        sockets += 1;
                        keep_first_error(&mut outcome, self.engine.socket_ready(fd, happened(ready)));
                    }
                    Event::Deadline => {}
                    // Only curl_multi_poll consumes wakeups; keep it pending, quietly.
                    Event::Wakeup => self.reactor.mute_wakeup(),
                }
            }
            if due {
                keep_first_error(&mut outcome, self.engine.timeout_expired());
            }
            seen += sockets;
            if sockets == 0 && !due {
                break;
            }
            self.collect(state);
        }
        state.walk.saw(seen, state.books.attached());
        outcome
    }

    /// One step of the event API: `fd` is ready as `bits` says, or (with
    /// `CURL_SOCKET_TIMEOUT`) the timeout is due.
    pub fn socket_action(&self, fd: curl_socket_t, bits: c_int) -> Result<c_int> {
        let mut held = self.lock(Call::SocketAction)?;
        self.stop_walking(&mut held.state);
        self.catch_up(&mut held.state)?;
        let outcome = if fd == curl_sys::CURL_SOCKET_TIMEOUT {
            self.deadline.take_due();
            self.engine.timeout_expired()
        } else {
            self.engine.socket_ready(fd, Happened::from_bits(bits))
        };
        self.collect(&mut held.state);
        outcome?;
        Ok(held.state.books.running() as c_int)
    }

    /// Attaches the app's pointer to a socket libcurl knows.
    pub fn assign(&self, fd: curl_socket_t, pointer: *mut c_void) -> Result<()> {
        if self.owner.is_current() {
            debug_assert_eq!(in_callback(Call::Assign), InCallback::Allowed);
            return self.engine.assign(fd, pointer);
        }
        let _held = self.lock(Call::Assign)?;
        self.engine.assign(fd, pointer)
    }

    /// Moves transfers libcurl finished into the message queue; how many.
    fn collect(&self, state: &mut State) -> usize {
        self.apply_deferred(state);
        let mut finished = 0;
        while let Some(done) = self.engine.next_done() {
            finished += state.books.complete(done.easy, done.result) as usize;
        }
        finished
    }

    /// Adds the descriptors to wait on to the sets; the highest, or -1 when
    /// nothing is attached. Socket-driven, that is the epoll fd alone.
    /// Walking, it is also every transfer's socket, as libcurl's fdset names
    /// them; only while no descriptor can reach FD_SETSIZE, where libcurl's
    /// fdset would skip it.
    pub fn fdset(&self, mut sets: FdSets<'_>) -> Result<c_int> {
        let mut held = self.lock(Call::Fdset)?;
        let state = &mut held.state;
        let complete = sets.write.is_some() && sets.exc.is_some();
        // Once forbidden, the walk never comes back: no getrlimit per call.
        if !state.walk.is_forbidden() && (!complete || !fd_limit_below_fd_setsize()) {
            self.stop_walking(state);
        }
        let mut max_fd = -1;
        if let (true, Some(read), Some(write), Some(exc)) =
            (state.walk.is_on(), sets.read.as_deref_mut(), sets.write, sets.exc)
        {
            max_fd = self.engine.fdset(read, write, exc)?;
        }
        let fd = self.descriptor(state).filter(|&fd| (fd as usize) < libc::FD_SETSIZE);
        if let (Some(fd), Some(read)) = (fd, sets.read) {
            // SAFETY: `read` is a valid fd_set and fd < FD_SETSIZE.
            unsafe { libc::FD_SET(fd, read) };
            max_fd = max_fd.max(fd);
        }
        Ok(max_fd)
    }

    /// The one descriptor to wait on, for `curl_multi_waitfds` (None when
    /// nothing is attached). Its caller polls it alone: no walking from now on.
    pub fn waitfds(&self) -> Result<Option<c_int>> {
        let mut held = self.lock(Call::Waitfds)?;
        self.stop_walking(&mut held.state);
        Ok(self.descriptor(&held.state))
    }

    /// The epoll fd, with its timer armed to the engine's deadline: the
    /// caller is about to sleep on it.
    fn descriptor(&self, state: &State) -> Option<c_int> {
        self.arm_timer();
        (state.books.attached() > 0).then(|| self.reactor.fd())
    }

    /// Arms the reactor's timer to the engine's deadline. Done only where
    /// someone is about to sleep on the epoll fd, not at every timer
    /// callback: arming is a syscall, and a due timer fires an interrupt.
    fn arm_timer(&self) {
        if let Err(e) = self.deadline.sync(&self.reactor) {
            trace!("arm timer: {e}");
        }
    }

    /// The attached easy handles (None from inside a callback).
    pub fn handles(&self) -> Option<Vec<*mut CURL>> {
        let held = self.lock(Call::GetHandles).ok()?;
        Some(held.state.books.easies().collect())
    }

    pub fn timeout(&self) -> Result<c_long> {
        let _held = self.lock(Call::Timeout)?;
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
        }
        Ok(())
    }

    /// Waits for the multi's sockets, its deadline and the caller's `extra`
    /// descriptors, at most `timeout`. The lock is not held while asleep, so
    /// other threads may add, remove or wake meanwhile.
    pub fn wait(&self, extra: &mut [curl_waitfd], timeout_ms: c_int, kind: WaitKind) -> Result<Waited> {
        let call = match kind {
            WaitKind::Wait => Call::Wait,
            WaitKind::Poll => Call::Poll,
            WaitKind::Select => Call::Select,
        };
        let mut held = self.lock(call)?;
        let timeout = Duration::from_millis(u64::try_from(timeout_ms).map_err(|_| Error::BadFunctionArgument)?);
        if held.state.walk.is_on() {
            return self.walk_wait(&mut held.state, extra, timeout_ms, kind);
        }
        let idle = held.state.books.attached() == 0;
        drop(held);
        if kind == WaitKind::Wait && idle && extra.is_empty() {
            return Ok(Waited::default());
        }
        let start = Instant::now();
        let mut events = Events::with_capacity(256);
        loop {
            self.arm_timer();
            let limit = match self.deadline.remaining() {
                Some(d) if !idle => d.min(timeout),
                _ => timeout,
            };
            let left = limit.saturating_sub(start.elapsed());
            let mut fds = Vec::with_capacity(extra.len() + 2);
            fds.push(pollfd(self.reactor.fd(), libc::POLLIN));
            if kind == WaitKind::Poll {
                fds.push(pollfd(self.reactor.wakeup_fd(), libc::POLLIN));
            }
            let skip = fds.len();
            fds.extend(extra.iter().map(|w| pollfd(w.fd, to_poll_events(w.events))));
            let ms = left.as_nanos().div_ceil(1_000_000).min(c_int::MAX as u128) as c_int;
            // SAFETY: `fds` holds `fds.len()` initialised pollfd entries.
            let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
            if rc < 0 {
                let err = std::io::Error::last_os_error();
                if err.kind() == std::io::ErrorKind::Interrupted {
                    return Ok(Waited::default());
                }
                trace!("poll: {err}");
                return Err(Error::UnrecoverablePoll);
            }
            let mut waited = Waited::default();
            for (w, p) in extra.iter_mut().zip(&fds[skip..]) {
                w.revents = from_poll_events(p.revents);
                waited.ready += (w.revents != 0) as c_int;
            }
            let mut woken = kind == WaitKind::Poll && fds[1].revents != 0 && self.reactor.take_wakeup();
            if fds[0].revents != 0 {
                self.reactor.poll(&mut events, Some(Duration::ZERO)).map_err(|_| Error::UnrecoverablePoll)?;
                for raw in events.iter() {
                    match self.reactor.decode(raw) {
                        Event::Socket(..) => waited.ready += 1,
                        Event::Deadline => waited.deadline = true,
                        Event::Wakeup if kind == WaitKind::Poll => woken |= self.reactor.take_wakeup(),
                        Event::Wakeup => self.reactor.mute_wakeup(),
                    }
                }
            }
            waited.deadline |= !idle && self.deadline.remaining() == Some(Duration::ZERO);
            if waited.ready > 0 || waited.deadline || woken || start.elapsed() >= limit {
                return Ok(waited);
            }
        }
    }

    /// Walking, the wait is libcurl's own poll (the reactor's socket wishes
    /// may be stale), with the wakeup descriptor for curl_multi_poll. The lock
    /// stays held: libcurl's poll reads the transfers.
    fn walk_wait(
        &self,
        state: &mut State,
        extra: &mut [curl_waitfd],
        timeout_ms: c_int,
        kind: WaitKind,
    ) -> Result<Waited> {
        let mut fds: Vec<curl_waitfd> =
            extra.iter().map(|w| curl_waitfd { fd: w.fd, events: w.events, revents: 0 }).collect();
        if kind == WaitKind::Poll {
            fds.push(curl_waitfd { fd: self.reactor.wakeup_fd(), events: curl_sys::CURL_WAIT_POLLIN, revents: 0 });
        }
        let start = Instant::now();
        let mut ready = self.engine.poll(&mut fds, timeout_ms)?;
        // libcurl's poll ends early, with nothing ready, when its own next
        // timeout comes (by its clock, which may run ahead of the deadline's).
        let early = start.elapsed() < Duration::from_millis(timeout_ms.max(0) as u64);
        let mut extra_ready = 0;
        for (w, f) in extra.iter_mut().zip(&fds) {
            w.revents = f.revents;
            extra_ready += (f.revents != 0) as c_int;
        }
        let woken = fds.get(extra.len()).is_some_and(|f| f.revents != 0);
        if woken {
            self.reactor.take_wakeup();
            ready -= 1;
        }
        state.walk.waited((ready - extra_ready).max(0) as usize);
        let deadline = (ready == 0 && !woken && early) || self.deadline.remaining() == Some(Duration::ZERO);
        Ok(Waited { ready, deadline })
    }

    /// Makes a current or the next `curl_multi_poll` return. Thread-safe, lock-free.
    pub fn wakeup(&self) -> Result<()> {
        self.reactor.wake().map_err(|_| Error::WakeupFailure)
    }

    /// Detaches every easy (never frees them) and closes the engine. The
    /// Multi answers `CURLM_BAD_HANDLE` from then on.
    pub fn cleanup(&self) -> Result<()> {
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
        Ok(())
    }

    /// Cleanup for a Multi that never reached the application.
    fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if !state.closed {
            state.closed = true;
            // SAFETY: guarded by `closed`, as in `cleanup`.
            unsafe { self.engine.cleanup() };
        }
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
        match wish {
            Some(w) => {
                if let Err(e) = self.reactor.watch(fd, Interest { read: w.read, write: w.write }) {
                    trace!("watch fd {fd}: {e}");
                }
            }
            None => self.reactor.unwatch(fd),
        }
        self.app.socket(easy, fd, wish, socketp)
    }

    fn timer(&self, after: Option<Duration>) -> c_int {
        self.deadline.set(after);
        self.app.timer(after)
    }

    fn push(&self, parent: *mut CURL, pushed: *mut CURL, num_headers: usize, headers: *mut c_void) -> c_int {
        self.app.push(parent, pushed, num_headers, headers)
    }
}

fn keep_first_error(outcome: &mut Result<()>, next: Result<()>) {
    if outcome.is_ok() {
        *outcome = next;
    }
}

/// The caller's three fd_sets.
pub struct FdSets<'a> {
    pub read: Option<&'a mut libc::fd_set>,
    pub write: Option<&'a mut libc::fd_set>,
    pub exc: Option<&'a mut libc::fd_set>,
}

/// True when the process cannot open a descriptor at or past FD_SETSIZE.
fn fd_limit_below_fd_setsize() -> bool {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit, which lives on this stack frame.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur <= libc::FD_SETSIZE as libc::rlim_t
    }
}

/// Readiness as libcurl's own poll reports it: hangup reads, error is both.
fn happened(ready: Ready) -> Happened {
    Happened {
        readable: ready.readable || ready.hangup || ready.error,
        writable: ready.writable || ready.error,
        error: false,
    }
}

fn pollfd(fd: c_int, events: libc::c_short) -> libc::pollfd {
    libc::pollfd { fd, events, revents: 0 }
}

fn to_poll_events(curl: libc::c_short) -> libc::c_short {
    let mut events = 0;
    if curl & curl_sys::CURL_WAIT_POLLIN != 0 {
        events |= libc::POLLIN;
    }
    if curl & curl_sys::CURL_WAIT_POLLPRI != 0 {
        events |= libc::POLLPRI;
    }
    if curl & curl_sys::CURL_WAIT_POLLOUT != 0 {
        events |= libc::POLLOUT;
    }
    events
}

fn from_poll_events(revents: libc::c_short) -> libc::c_short {
    let mut curl = 0;
    if revents & libc::POLLIN != 0 {
        curl |= curl_sys::CURL_WAIT_POLLIN;
    }
    if revents & libc::POLLPRI != 0 {
        curl |= curl_sys::CURL_WAIT_POLLPRI;
    }
    if revents & libc::POLLOUT != 0 {
        curl |= curl_sys::CURL_WAIT_POLLOUT;
    }
    curl
}
