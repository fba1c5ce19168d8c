//! Waiting: `curl_multi_wait`/`poll`, `curlmux_select`, and the descriptors
//! `curl_multi_fdset` and `curl_multi_waitfds` hand out.
//!
//! Owns: how long a wait sleeps (the caller's timeout against the engine's
//! deadline, what "nothing to wait on" means for each kind of wait) and what
//! it reports. The sleeping itself is the reactor's ([`Reactor::sleep`]), or
//! libcurl's own poll while libcurl walks.
//!
//! [`Reactor::sleep`]: crate::reactor::Reactor::sleep

use std::ffi::{c_int, c_uint};
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use curl_sys::{CURL_WAIT_POLLIN, CURL_WAIT_POLLOUT, CURL_WAIT_POLLPRI, curl_waitfd};

use super::{Call, Multi, State};
use crate::debug::trace;
use crate::error::{Error, Result, required};
use crate::reactor::{self, Extra, PollEvents};
use crate::versions;

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
    /// `curl_multi_wait`: returns at once with nothing to wait on; takes
    /// wakeups where libcurl's does (8.20 on), else ignores them.
    Wait,
    /// `curl_multi_poll`: sleeps even when idle; a wakeup ends it.
    Poll,
    /// `curlmux_select`: sleeps even when idle; ignores wakeups.
    Select,
}

/// The caller's three fd_sets.
pub struct FdSets<'a> {
    pub read: Option<&'a mut libc::fd_set>,
    pub write: Option<&'a mut libc::fd_set>,
    pub exc: Option<&'a mut libc::fd_set>,
}

/// The caller's `struct curl_waitfd` entries, slept on in place.
impl Extra for curl_waitfd {
    fn fd(&self) -> RawFd {
        self.fd
    }

    fn wanted(&self) -> PollEvents {
        PollEvents {
            read: self.events & CURL_WAIT_POLLIN != 0,
            pri: self.events & CURL_WAIT_POLLPRI != 0,
            write: self.events & CURL_WAIT_POLLOUT != 0,
        }
    }

    fn seen(&mut self, bits: PollEvents) {
        self.revents = (bits.read as libc::c_short * CURL_WAIT_POLLIN)
            | (bits.pri as libc::c_short * CURL_WAIT_POLLPRI)
            | (bits.write as libc::c_short * CURL_WAIT_POLLOUT);
    }
}

impl Multi {
    /// Adds the descriptors to wait on to the sets; the highest, or -1.
    /// Socket-driven, that is the epoll fd alone, named only while some
    /// transfer has a socket to wait on: libcurl answers -1 otherwise ("no
    /// file descriptors to wait for"), and so does curlmux. Walking, it is
    /// every transfer's socket as libcurl's fdset names them, and the epoll
    /// fd with them; only while no descriptor can reach FD_SETSIZE, where
    /// libcurl's fdset would skip it. Where the application has its own
    /// socket callback, it is the sockets alone, as libcurl names them,
    /// while all of them are below FD_SETSIZE.
    pub fn fdset(&self, sets: FdSets<'_>, max_fd: Option<&mut c_int>) -> Result<()> {
        let max_fd = required(max_fd)?;
        *max_fd = self.name_descriptors(sets)?;
        Ok(())
    }

    fn name_descriptors(&self, mut sets: FdSets<'_>) -> Result<c_int> {
        let mut held = self.lock(Call::Fdset)?;
        self.driving_here();
        self.sweep_only_while_running();
        let state = &mut *held;
        let complete = sets.write.is_some() && sets.exc.is_some();
        // The descriptor limit (a syscall) matters only to a walk: read it
        // while walking, and where one would start (steer), not per call.
        state.walk.fdset_asked();
        if !state.walk.is_forbidden() && (!complete || (state.walk.is_on() && !reactor::fd_limit_within_fd_setsize())) {
            self.stop_walking(state);
        }
        let mut max_fd = -1;
        let walking = state.walk.is_on();
        if !walking
            && self.app.drives()
            && let (Some(read), Some(write)) = (sets.read.as_deref_mut(), sets.write.as_deref_mut())
            && let Some(max_fd) = self.reactor.name_in(read, write)
        {
            // It knows these sockets from its callback and may give one to
            // curl_multi_assign, which the epoll fd cannot stand in for.
            return Ok(max_fd);
        }
        if let (true, Some(read), Some(write), Some(exc)) = (walking, sets.read.as_deref_mut(), sets.write, sets.exc) {
            max_fd = self.engine.fdset(read, write, exc)?;
        }
        let named = if walking { max_fd >= 0 } else { self.has_sockets(state) };
        if named && !walking {
            self.use_reactor(state);
        }
        let fd = self.descriptor(named);
        if let (Some(fd), Some(read)) = (fd.filter(|&fd| (fd as usize) < libc::FD_SETSIZE), sets.read) {
            // SAFETY: `read` is a valid fd_set and fd < FD_SETSIZE.
            unsafe { libc::FD_SET(fd, read) };
            max_fd = max_fd.max(fd);
        }
        Ok(max_fd)
    }

    /// The one descriptor to wait on, for `curl_multi_waitfds`, into `ufds`
    /// (none while no transfer has a socket, as for fdset), and how many into
    /// `count` (which only counting requires). Its caller polls it alone: no
    /// walking from now on.
    pub fn waitfds(&self, ufds: Option<&mut [curl_waitfd]>, count: Option<&mut c_uint>) -> Result<()> {
        let count = match ufds {
            None => Some(required(count)?),
            Some(_) => count,
        };
        let mut held = self.lock(Call::Waitfds)?;
        self.driving_here();
        self.sweep_only_while_running();
        self.stop_walking(&mut held);
        self.use_reactor(&mut held);
        let fd = self.descriptor(self.has_sockets(&held));
        if let Some(count) = count {
            *count = fd.is_some() as c_uint;
        }
        match (fd, ufds) {
            (Some(_), Some([])) => Err(Error::OutOfMemory),
            (Some(fd), Some([first, ..])) => {
                *first = curl_waitfd { fd, events: CURL_WAIT_POLLIN, revents: 0 };
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Whether some transfer has a socket to wait on. Right after a walk
    /// libcurl has not told yet (the deadline then reads due, so a caller
    /// sleeping on the descriptor performs at once and learns).
    fn has_sockets(&self, state: &State) -> bool {
        state.stale || self.waits_on_something()
    }

    /// The epoll fd where `named`, with its timer armed to the engine's
    /// deadline: the caller is about to sleep on it. curl_multi_socket_action
    /// takes it back (`Multi::socket_action`).
    fn descriptor(&self, named: bool) -> Option<c_int> {
        self.arm_timer();
        named.then(|| self.reactor.fd())
    }

    /// Arms the reactor's timer to the engine's deadline. Done only where
    /// someone is about to sleep on the epoll fd, not at every timer
    /// callback: arming is a syscall, and a due timer fires an interrupt.
    fn arm_timer(&self) {
        if let Err(e) = self.deadline.sync(&self.reactor) {
            trace!("arm timer: {e}");
        }
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
        self.driving_here();
        self.sweep_only_while_running();
        let timeout = match u64::try_from(timeout_ms) {
            Ok(ms) => Duration::from_millis(ms),
            // libcurl before 7.69 waits without a limit of its own.
            Err(_) if kind == WaitKind::Wait && !self.engine.lib().has(&versions::REFUSES_NEGATIVE_WAIT) => {
                Duration::MAX
            }
            Err(_) => return Err(Error::BadFunctionArgument),
        };
        // From 8.20 libcurl's wait listens for wakeups beside anything else
        // it waits on, and a transfer alive is something.
        let takes = self.engine.lib().has(&versions::WAIT_TAKES_WAKEUPS);
        let alive = takes && self.books().running() > 0;
        let wakeups = match kind {
            WaitKind::Poll => true,
            WaitKind::Wait => takes,
            WaitKind::Select => false,
        };
        if held.walk.is_on() {
            let wakeups = wakeups && (kind == WaitKind::Poll || alive || !extra.is_empty());
            return self.walk_wait(&mut held, extra, timeout_ms, kind, wakeups);
        }
        self.use_reactor(&mut held);
        let idle = self.books().attached() == 0;
        // libcurl's wait returns at once with nothing to wait on, even with
        // a timer pending; its poll sleeps.
        if kind == WaitKind::Wait && extra.is_empty() && !alive && !self.waits_on_something() {
            return Ok(Waited::default());
        }
        drop(held);
        let start = Instant::now();
        loop {
            self.arm_timer();
            let limit = match self.deadline.remaining() {
                Some(d) if !idle => d.min(timeout),
                _ => timeout,
            };
            let left = limit.saturating_sub(start.elapsed());
            let slept = self.reactor.sleep(extra, left, wakeups).map_err(|e| {
                trace!("poll: {e}");
                Error::UnrecoverablePoll
            })?;
            let waited = Waited {
                ready: (slept.sockets + slept.extra) as c_int,
                deadline: slept.deadline || (!idle && self.deadline.remaining() == Some(Duration::ZERO)),
            };
            if waited.ready > 0 || waited.deadline || slept.woken || start.elapsed() >= limit {
                return Ok(waited);
            }
        }
    }

    /// Whether libcurl's wait or fdset would name a socket. Not one whose
    /// last wish came from a transfer that has finished since: a walk that
    /// finishes it (curl_multi_socket_all on 8.10 to 8.12, which then
    /// reports the sockets of running transfers only) leaves its wish, while
    /// libcurl's wait and fdset look at running transfers only. The owners
    /// are read only once nothing runs, when any wishes left are few.
    fn waits_on_something(&self) -> bool {
        if !self.reactor.watches_any() {
            return false;
        }
        let wishes = self.reactor.wishes();
        let books = self.books();
        books.running() > 0
            || wishes.into_iter().any(|(_, owner, _)| {
                let easy = owner as *mut curl_sys::CURL;
                !books.contains(easy) || books.is_running(easy)
            })
    }

    /// Walking, the wait is libcurl's own (the reactor's socket wishes may be
    /// stale): its curl_multi_wait for curl_multi_wait, which returns at once
    /// with nothing to wait on, and its curl_multi_poll for the waits that
    /// sleep then. The lock stays held: libcurl's wait reads the transfers.
    /// Beside the caller's descriptors it waits on the reactor's kick (another
    /// thread wants the lock, or changed the multi) and, where the wait takes
    /// wakeups, on the wakeup descriptor; either ends it.
    fn walk_wait(
        &self,
        state: &mut State,
        extra: &mut [curl_waitfd],
        timeout_ms: c_int,
        kind: WaitKind,
        wakeups: bool,
    ) -> Result<Waited> {
        const INLINE: usize = 8;
        let waitfd = |fd, events| curl_waitfd { fd, events, revents: 0 };
        let ours = [Some(self.reactor.kick_fd()), wakeups.then(|| self.reactor.wakeup_fd())];
        let ours = ours.iter().flatten().map(|&fd| waitfd(fd, CURL_WAIT_POLLIN));
        let theirs = extra.iter().map(|w| waitfd(w.fd, w.events));
        let mut inline: [curl_waitfd; INLINE + 2] = std::array::from_fn(|_| waitfd(-1, 0));
        let mut heap = Vec::new();
        let fds: &mut [curl_waitfd] = if extra.len() <= INLINE {
            let mut n = 0;
            for (to, from) in inline.iter_mut().zip(theirs.chain(ours)) {
                *to = from;
                n += 1;
            }
            &mut inline[..n]
        } else {
            heap.extend(theirs.chain(ours));
            &mut heap
        };
        let start = Instant::now();
        let mut ready = self.engine.wait(fds, timeout_ms, kind != WaitKind::Wait)?;
        // libcurl's poll ends early, with nothing ready, when its own next
        // timeout comes (by its clock, which may run ahead of the deadline's).
        let early = start.elapsed() < Duration::from_millis(timeout_ms.max(0) as u64);
        let n = extra.len();
        let kicked = fds[n].revents != 0;
        let woken = wakeups && fds[n + 1].revents != 0;
        let extra_ready = fds[..n].iter().filter(|f| f.revents != 0).count() as c_int;
        for (to, from) in extra.iter_mut().zip(fds.iter()) {
            to.revents = from.revents;
        }
        if kicked {
            self.reactor.clear_due();
            ready -= 1;
        }
        if woken {
            self.reactor.take_wakeup();
            ready -= 1;
        }
        state.walk.waited((ready - extra_ready).max(0) as usize);
        let deadline = kicked || (ready == 0 && !woken && early) || self.deadline.remaining() == Some(Duration::ZERO);
        Ok(Waited { ready, deadline })
    }
}
