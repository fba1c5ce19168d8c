//! Sleeping on the reactor beside the caller's own descriptors: one `poll(2)`
//! over the epoll fd, the waker (when the caller takes wakeups) and the
//! caller's extra descriptors, then a drain of what the epoll fd had; with
//! no extra descriptors, one `epoll_wait` does both (the waker is in the
//! epoll set; one muted by an earlier drain is taken before sleeping). What
//! the drain found is kept for the next driver ([`Reactor::take_slept`]),
//! which then needs no drain of its own.
//!
//! The caller's descriptors are read and written through [`Extra`], so a
//! caller keeps its own array; the `pollfd` array and the event buffer are
//! the reactor's, reused from call to call.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{Event, Events, Reactor};

/// poll(2) bits of a caller's descriptor, wanted or seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PollEvents {
    pub read: bool,
    pub pri: bool,
    pub write: bool,
}

impl PollEvents {
    fn events(self) -> libc::c_short {
        (self.read as libc::c_short * libc::POLLIN)
            | (self.pri as libc::c_short * libc::POLLPRI)
            | (self.write as libc::c_short * libc::POLLOUT)
    }

    fn from_revents(revents: libc::c_short) -> PollEvents {
        PollEvents {
            read: revents & libc::POLLIN != 0,
            pri: revents & libc::POLLPRI != 0,
            write: revents & libc::POLLOUT != 0,
        }
    }

    pub fn any(self) -> bool {
        self.read || self.pri || self.write
    }
}

/// A descriptor of the caller's to sleep on too.
pub trait Extra {
    fn fd(&self) -> RawFd;
    fn wanted(&self) -> PollEvents;
    /// What poll saw on it (all false when nothing).
    fn seen(&mut self, bits: PollEvents);
}

/// How one sleep ended.
#[derive(Debug, Clone, Copy, Default)]
pub struct Slept {
    /// Watched sockets with events.
    pub sockets: usize,
    /// Extra descriptors with events.
    pub extra: usize,
    /// The armed deadline passed (acknowledged).
    pub deadline: bool,
    /// A wakeup was pending and is now taken (only when wakeups were asked for).
    pub woken: bool,
}

/// Buffers one sleep needs; a second thread sleeping at the same time gets fresh ones.
#[derive(Default)]
pub(super) struct Scratch {
    pollfds: Vec<libc::pollfd>,
    events: Option<Events>,
}

/// Socket events counted per sleep: libcurl's wait counts them too.
const SLEEP_EVENTS: usize = 256;

impl Reactor {
    /// Sleeps at most `timeout` until a watched socket is ready, the deadline
    /// passes, one of `extra` has an event or (with `wakeups`) a wakeup is
    /// pending, which is then taken. A signal ends it early with nothing seen.
    pub fn sleep<E: Extra>(&self, extra: &mut [E], timeout: Duration, wakeups: bool) -> io::Result<Slept> {
        let mut fresh = Scratch::default();
        let mut held = self.scratch.try_lock();
        let (scratch, shared) = match held.as_deref_mut() {
            Some(s) => (s, true),
            None => (&mut fresh, false),
        };
        let mut slept = Slept::default();
        if extra.is_empty() {
            slept.woken = wakeups && self.take_muted_wakeup();
            let timeout = if slept.woken { Duration::ZERO } else { timeout };
            let seen = self.drain(scratch, shared, timeout, &mut slept)?;
            slept.woken |= wakeups && seen && self.take_wakeup();
            return Ok(slept);
        }
        let fds = &mut scratch.pollfds;
        fds.clear();
        fds.push(pollfd(self.fd(), libc::POLLIN));
        if wakeups {
            fds.push(pollfd(self.wakeup_fd(), libc::POLLIN));
        }
        let skip = fds.len();
        fds.extend(extra.iter().map(|e| pollfd(e.fd(), e.wanted().events())));
        let ms = timeout.as_nanos().div_ceil(1_000_000).min(libc::c_int::MAX as u128) as libc::c_int;
        // SAFETY: `fds` holds `fds.len()` initialised pollfd entries.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            return if err.kind() == io::ErrorKind::Interrupted { Ok(Slept::default()) } else { Err(err) };
        }
        for (e, p) in extra.iter_mut().zip(&fds[skip..]) {
            let bits = PollEvents::from_revents(p.revents);
            slept.extra += bits.any() as usize;
            e.seen(bits);
        }
        slept.woken = wakeups && fds[1].revents != 0 && self.take_wakeup();
        if fds[0].revents != 0 {
            self.drain(scratch, shared, Duration::ZERO, &mut slept)?;
        }
        Ok(slept)
    }

    /// Polls the epoll fd into the scratch events (waiting at most
    /// `timeout`), counts them into `slept`, and keeps them for the next
    /// driver where the scratch is the shared one; whether a wakeup showed.
    fn drain(&self, scratch: &mut Scratch, shared: bool, timeout: Duration, slept: &mut Slept) -> io::Result<bool> {
        let events = scratch.events.get_or_insert_with(|| Events::with_capacity(SLEEP_EVENTS));
        self.poll(events, Some(timeout))?;
        slept.count(events);
        self.slept_kept.store(shared && !events.0.is_empty(), Ordering::Release);
        Ok(events.has_wakeup())
    }

    /// Puts what the last sleep drained from the epoll fd into `into`, once:
    /// false when there is none to hand on (or another sleep holds it). It
    /// may be stale by then; the epoll set is level-triggered, so what is
    /// still ready shows again at the next poll, and libcurl takes a socket
    /// reported ready that is not as a no-op.
    pub fn take_slept(&self, into: &mut Events) -> bool {
        if !self.slept_kept.swap(false, Ordering::AcqRel) {
            return false;
        }
        let Some(scratch) = self.scratch.try_lock() else { return false };
        let Some(events) = scratch.events.as_ref() else { return false };
        into.0.copy_from(&events.0);
        true
    }

    /// Forgets what the last sleep drained: the caller is about to change
    /// the sockets, or drive without it.
    pub fn forget_slept(&self) {
        self.slept_kept.store(false, Ordering::Release);
    }
}

impl Slept {
    fn count(&mut self, events: &Events) {
        for event in events.iter() {
            match event {
                Event::Socket(..) => self.sockets += 1,
                Event::Deadline => self.deadline = true,
            }
        }
    }
}

pub(super) type ScratchCell = crate::sync::Mutex<Scratch>;

fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd { fd, events, revents: 0 }
}
