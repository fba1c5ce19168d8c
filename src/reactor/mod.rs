//! The reactor: one epoll descriptor that tells everything (docs/design.md, decision 3).
//!
//! Owns: the epoll fd, a timerfd armed to the engine's next deadline, an
//! eventfd for a deadline that is already due (arming a timerfd to fire at
//! once costs a timer interrupt: about 20 µs in a VM, against 0.3 µs for an
//! eventfd write) and an eventfd for `curl_multi_wakeup`, all registered in
//! the epoll set under reserved tokens. Sockets are registered
//! level-triggered under their own fd number: libcurl expects interest to
//! persist until it says otherwise. The wished interest of every socket is
//! remembered, so each change is one `epoll_ctl`, and the sockets can leave
//! the set while someone else watches them ([`Reactor::pause`]) and come back
//! as they are wished by then. The reactor acknowledges its own descriptors
//! (timer, due, wakeup) as it polls: callers see typed [`Event`]s only.
//! Must not know about libcurl: no curl types here.

mod epoll;
mod sleep;
mod timer;
mod waker;

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use epoll::{Epoll, RawEvents};

use crate::sync::{Mutex, MutexGuard};
pub use sleep::{Extra, PollEvents};
use timer::Timer;
use waker::Waker;

/// Reserved tokens; socket tokens are their (non-negative) fd numbers.
const TIMER: u64 = u64::MAX;
const WAKER: u64 = u64::MAX - 1;
const DUE: u64 = u64::MAX - 2;

/// What to watch a socket for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest {
    pub read: bool,
    pub write: bool,
}

/// What a socket is ready for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ready {
    pub readable: bool,
    pub writable: bool,
    pub error: bool,
    pub hangup: bool,
}

/// One thing the reactor saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Socket(RawFd, Ready),
    /// The deadline set with [`Reactor::arm`] passed.
    Deadline,
}

/// A reusable buffer of what one [`Reactor::poll`] saw.
pub struct Events(RawEvents);

impl Events {
    pub fn with_capacity(n: usize) -> Events {
        Events(RawEvents::with_capacity(n))
    }

    /// Whether a pending wakeup made the epoll fd readable.
    fn has_wakeup(&self) -> bool {
        self.0.iter().any(|(token, _)| token == WAKER)
    }

    /// What was seen; reading it has no side effects.
    pub fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.0.iter().filter_map(|(token, ready)| match token {
            TIMER | DUE => Some(Event::Deadline),
            WAKER => None,
            fd => Some(Event::Socket(fd as RawFd, ready)),
        })
    }
}

pub struct Reactor {
    epoll: Epoll,
    timer: Timer,
    /// Readable while a deadline is due now or a kick is pending; `due_set`
    /// says it holds a count, `kicked` that re-arming must not take it back.
    due: Waker,
    due_set: AtomicBool,
    kicked: AtomicBool,
    waker: Waker,
    /// A wakeup may be pending that no longer makes the epoll fd readable.
    wakeup_muted: AtomicBool,
    sockets: Mutex<Sockets>,
    /// Wishes widened so far (a new socket, or a direction added): a
    /// driver that widened one may find it ready at once.
    widenings: AtomicUsize,
    scratch: sleep::ScratchCell,
    /// The scratch events hold what the last sleep drained, not yet handed on.
    slept_kept: AtomicBool,
}

/// Socket interest, indexed by fd number; in the epoll set unless paused.
#[derive(Default)]
struct Sockets {
    wished: Vec<Option<Wished>>,
    /// How many entries of `wished` are Some.
    count: usize,
    paused: bool,
}

impl Sockets {
    /// Every wished socket and its wish.
    fn each(&self) -> impl Iterator<Item = (RawFd, Wished)> + '_ {
        self.wished.iter().enumerate().filter_map(|(fd, w)| Some((fd as RawFd, (*w)?)))
    }
}

/// A socket's interest, and whom the caller said it is for (opaque here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wished {
    pub interest: Interest,
    pub owner: usize,
}

impl Reactor {
    pub fn new() -> io::Result<Reactor> {
        let epoll = Epoll::new()?;
        let timer = Timer::new()?;
        let due = Waker::new()?;
        let waker = Waker::new()?;
        epoll.add(timer.as_raw_fd(), TIMER, Interest { read: true, write: false })?;
        epoll.add(due.as_raw_fd(), DUE, Interest { read: true, write: false })?;
        epoll.add(waker.as_raw_fd(), WAKER, Interest { read: true, write: false })?;
        Ok(Reactor {
            epoll,
            timer,
            due,
            due_set: AtomicBool::new(false),
            kicked: AtomicBool::new(false),
            waker,
            wakeup_muted: AtomicBool::new(false),
            sockets: Mutex::new(Sockets::default()),
            widenings: AtomicUsize::new(0),
            scratch: Mutex::new(sleep::Scratch::default()),
            slept_kept: AtomicBool::new(false),
        })
    }

    /// Tells valgrind's race detectors which words are atomics (sync.rs).
    pub fn unchecked_atomics(&self) {
        for flag in [&self.due_set, &self.kicked, &self.wakeup_muted, &self.slept_kept] {
            crate::sync::unchecked(flag);
        }
        crate::sync::unchecked(&self.widenings);
    }

    /// The descriptor that is readable whenever a socket is ready, the
    /// deadline passed or a wakeup is pending.
    pub fn fd(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }

    /// The eventfd behind [`Reactor::wake`], for callers that wait on it directly.
    pub(crate) fn wakeup_fd(&self) -> RawFd {
        self.waker.as_raw_fd()
    }

    /// Watches `fd` for `interest` on behalf of `owner` (a value that
    /// [`Reactor::resume`] gives back), replacing any earlier interest,
    /// which it returns (None for a new socket).
    pub fn watch(&self, fd: RawFd, interest: Interest, owner: usize) -> io::Result<Option<Wished>> {
        let slot = usize::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
        let mut sockets = self.sockets();
        if sockets.wished.len() <= slot {
            sockets.wished.resize(slot + 1, None);
        }
        let before = sockets.wished[slot].replace(Wished { interest, owner });
        sockets.count += before.is_none() as usize;
        let widened =
            before.is_none_or(|b| (interest.write && !b.interest.write) || (interest.read && !b.interest.read));
        if widened {
            self.widenings.fetch_add(1, Ordering::Relaxed);
        }
        if !sockets.paused {
            self.register(fd, interest, before.is_some())?;
        }
        Ok(before)
    }

    /// Stops watching `fd`; its interest until now (None if it was not
    /// watched). It may already be closed: that is not an error.
    pub fn unwatch(&self, fd: RawFd) -> Option<Wished> {
        let mut sockets = self.sockets();
        let slot = usize::try_from(fd).ok().and_then(|i| sockets.wished.get_mut(i))?;
        let before = slot.take()?;
        sockets.count -= 1;
        if !sockets.paused {
            let _ = self.epoll.delete(fd);
        }
        Some(before)
    }

    /// Adds every wished socket to `read` or `write` as it is wished, as
    /// libcurl's fdset does; the highest (-1 for none). None, with the sets
    /// untouched, if one is at or past FD_SETSIZE.
    pub fn name_in(&self, read: &mut libc::fd_set, write: &mut libc::fd_set) -> Option<RawFd> {
        let sockets = self.sockets();
        if sockets.each().any(|(fd, _)| fd as usize >= libc::FD_SETSIZE) {
            return None;
        }
        let mut max_fd = -1;
        for (fd, w) in sockets.each() {
            // SAFETY: both sets are valid fd_sets, and fd < FD_SETSIZE: checked
            // above under the same lock.
            unsafe {
                if w.interest.read {
                    libc::FD_SET(fd, read);
                }
                if w.interest.write {
                    libc::FD_SET(fd, write);
                }
            }
            max_fd = max_fd.max(fd);
        }
        Some(max_fd)
    }

    /// Every wished socket, its owner and its interest.
    pub fn wishes(&self) -> Vec<(RawFd, usize, Interest)> {
        self.sockets().each().map(|(fd, w)| (fd, w.owner, w.interest)).collect()
    }

    /// How many times a wish widened so far; only differences mean anything.
    pub fn widenings(&self) -> usize {
        self.widenings.load(Ordering::Relaxed)
    }

    /// Whether any socket is wished watched (paused or not).
    pub fn watches_any(&self) -> bool {
        self.sockets().count > 0
    }

    /// Takes every socket out of the epoll set (their wishes are kept): the
    /// epoll fd then reports only the deadline and wakeups.
    pub fn pause(&self) {
        let mut sockets = self.sockets();
        if !std::mem::replace(&mut sockets.paused, true) {
            for (fd, _) in sockets.each() {
                let _ = self.epoll.delete(fd);
            }
        }
    }

    /// Puts every socket back into the epoll set, as it is wished now;
    /// returns the owners of those the kernel would not take back.
    pub fn resume(&self) -> Vec<usize> {
        let mut sockets = self.sockets();
        let mut refused = Vec::new();
        if std::mem::replace(&mut sockets.paused, false) {
            for (fd, wished) in sockets.each() {
                if let Err(e) = self.register(fd, wished.interest, false) {
                    crate::debug::trace!("resume fd {fd}: {e}");
                    refused.push(wished.owner);
                }
            }
        }
        refused
    }

    fn sockets(&self) -> MutexGuard<'_, Sockets> {
        self.sockets.lock()
    }

    /// One `epoll_ctl` when the set is as remembered. A registered number may
    /// be a new socket whose predecessor the kernel dropped at close; an
    /// unregistered one may be in the set after all: each answers with the other call.
    fn register(&self, fd: RawFd, interest: Interest, registered: bool) -> io::Result<()> {
        let token = fd as u64;
        if registered {
            match self.epoll.modify(fd, token, interest) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => self.epoll.add(fd, token, interest),
                other => other,
            }
        } else {
            match self.epoll.add(fd, token, interest) {
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => self.epoll.modify(fd, token, interest),
                other => other,
            }
        }
    }

    /// Makes the epoll fd readable after `after` (None: never).
    pub fn arm(&self, after: Option<Duration>) -> io::Result<()> {
        if after.is_some_and(|d| d.is_zero()) {
            self.due_set.store(true, Ordering::Release);
            return self.due.wake();
        }
        if !self.kicked.load(Ordering::Acquire) {
            self.clear_due();
        }
        self.timer.set(after)
    }

    /// Makes the epoll fd readable until the next poll or sleep takes it,
    /// whatever the deadline does meanwhile: another thread changed
    /// something a sleeper must look at. Thread-safe.
    pub fn kick(&self) -> io::Result<()> {
        self.kicked.store(true, Ordering::Release);
        self.due_set.store(true, Ordering::Release);
        self.due.wake()
    }

    /// The descriptor behind [`Reactor::kick`] and a due deadline, for
    /// callers that sleep in someone else's poll.
    pub(crate) fn kick_fd(&self) -> RawFd {
        self.due.as_raw_fd()
    }

    /// Takes back a deadline reported as due and a kick, if one is pending.
    pub fn clear_due(&self) {
        self.kicked.store(false, Ordering::Release);
        if self.due_set.swap(false, Ordering::AcqRel) {
            self.due.take();
        }
    }

    /// Makes a pending wakeup; thread-safe and cheap. Wakeups collapse.
    pub fn wake(&self) -> io::Result<()> {
        self.waker.wake()?;
        self.epoll.modify(self.waker.as_raw_fd(), WAKER, Interest { read: true, write: false })
    }

    /// Takes the pending wakeup, if any.
    pub fn take_wakeup(&self) -> bool {
        self.wakeup_muted.store(false, Ordering::Release);
        self.waker.take()
    }

    /// Takes a wakeup that is pending but muted: the epoll fd no longer
    /// says so. Only a syscall when one may be.
    fn take_muted_wakeup(&self) -> bool {
        self.wakeup_muted.load(Ordering::Acquire) && self.take_wakeup()
    }

    /// Keeps a pending wakeup pending but stops it making the epoll fd
    /// readable, so loops that do not consume wakeups do not spin on it.
    fn mute_wakeup(&self) {
        // Before the epoll_ctl: a sleep that misses the event sees the flag.
        self.wakeup_muted.store(true, Ordering::Release);
        let _ = self.epoll.modify(self.waker.as_raw_fd(), WAKER, Interest { read: false, write: false });
    }

    /// Collects what is ready into `events`, waiting at most `timeout`
    /// (None: no limit). A passed deadline is acknowledged here and reported
    /// once; a pending wakeup is not reported (only [`Reactor::sleep`] with
    /// wakeups takes it) and stops making the epoll fd readable.
    pub fn poll(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        self.epoll.wait(&mut events.0, timeout)?;
        for (token, _) in events.0.iter() {
            match token {
                TIMER => self.timer.clear(),
                DUE => self.clear_due(),
                WAKER => self.mute_wakeup(),
                _ => {}
            }
        }
        Ok(())
    }
}

/// True when the process cannot open a descriptor at or past FD_SETSIZE
/// (its soft RLIMIT_NOFILE is at most that).
pub fn fd_limit_within_fd_setsize() -> bool {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit, which lives on this stack frame.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur <= libc::FD_SETSIZE as libc::rlim_t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    fn all(reactor: &Reactor, timeout: Option<Duration>) -> Vec<Event> {
        let mut events = Events::with_capacity(16);
        reactor.poll(&mut events, timeout).unwrap();
        events.iter().collect()
    }

    #[test]
    fn reports_readable_socket_until_drained_then_nothing() {
        let reactor = Reactor::new().unwrap();
        let (a, mut b) = UnixStream::pair().unwrap();
        reactor.watch(a.as_raw_fd(), Interest { read: true, write: false }, 0).unwrap();
        assert!(all(&reactor, Some(Duration::ZERO)).is_empty());
        std::io::Write::write_all(&mut b, b"x").unwrap();
        let seen = all(&reactor, Some(Duration::ZERO));
        assert!(matches!(seen[..], [Event::Socket(fd, Ready { readable: true, .. })] if fd == a.as_raw_fd()));
        // Level-triggered: still ready while unread.
        assert_eq!(all(&reactor, Some(Duration::ZERO)).len(), 1);
        reactor.unwatch(a.as_raw_fd());
        assert!(all(&reactor, Some(Duration::ZERO)).is_empty());
    }

    #[test]
    fn paused_sockets_leave_the_set_and_return_as_last_wished() {
        let reactor = Reactor::new().unwrap();
        let (a, mut b) = UnixStream::pair().unwrap();
        let (c, _d) = UnixStream::pair().unwrap();
        std::io::Write::write_all(&mut b, b"x").unwrap();
        reactor.watch(a.as_raw_fd(), Interest { read: true, write: false }, 0).unwrap();
        reactor.watch(c.as_raw_fd(), Interest { read: true, write: false }, 0).unwrap();
        assert_eq!(all(&reactor, Some(Duration::ZERO)).len(), 1);
        reactor.pause();
        assert!(all(&reactor, Some(Duration::ZERO)).is_empty());
        // Wishes change while paused: remembered, not registered.
        reactor.unwatch(a.as_raw_fd());
        reactor.watch(c.as_raw_fd(), Interest { read: false, write: true }, 0).unwrap();
        assert!(all(&reactor, Some(Duration::ZERO)).is_empty());
        reactor.resume();
        let seen = all(&reactor, Some(Duration::ZERO));
        assert!(matches!(seen[..], [Event::Socket(fd, Ready { writable: true, .. })] if fd == c.as_raw_fd()));
    }

    #[test]
    fn a_wish_gives_back_the_one_it_replaced() {
        let reactor = Reactor::new().unwrap();
        let (a, _b) = UnixStream::pair().unwrap();
        let fd = a.as_raw_fd();
        let read = Interest { read: true, write: false };
        let write = Interest { read: false, write: true };
        assert_eq!(reactor.watch(fd, read, 1).unwrap(), None, "a new socket");
        assert_eq!(reactor.watch(fd, write, 2).unwrap(), Some(Wished { interest: read, owner: 1 }));
        assert_eq!(reactor.wishes(), vec![(fd, 2, write)]);
        assert_eq!(reactor.unwatch(fd), Some(Wished { interest: write, owner: 2 }));
        assert_eq!(reactor.unwatch(fd), None);
        assert!(reactor.wishes().is_empty());
    }

    #[test]
    fn deadline_fires_once_and_zero_means_now() {
        let reactor = Reactor::new().unwrap();
        reactor.arm(Some(Duration::ZERO)).unwrap();
        assert_eq!(all(&reactor, Some(Duration::from_secs(5))), vec![Event::Deadline]);
        assert!(all(&reactor, Some(Duration::ZERO)).is_empty());
        reactor.arm(Some(Duration::from_millis(5))).unwrap();
        reactor.arm(None).unwrap();
        assert!(all(&reactor, Some(Duration::from_millis(20))).is_empty());
        // A due deadline moved later before anyone looked is taken back.
        reactor.arm(Some(Duration::ZERO)).unwrap();
        reactor.arm(Some(Duration::from_millis(5))).unwrap();
        assert!(all(&reactor, Some(Duration::ZERO)).is_empty());
        assert_eq!(all(&reactor, Some(Duration::from_secs(5))), vec![Event::Deadline]);
        reactor.arm(Some(Duration::ZERO)).unwrap();
        reactor.clear_due();
        assert!(all(&reactor, Some(Duration::ZERO)).is_empty());
    }

    #[test]
    fn a_kick_outlasts_rearming_and_is_taken_by_the_next_poll() {
        let reactor = Reactor::new().unwrap();
        reactor.kick().unwrap();
        // The deadline moving later does not take the kick back, as it takes a due deadline back.
        reactor.arm(Some(Duration::from_secs(60))).unwrap();
        assert_eq!(all(&reactor, Some(Duration::ZERO)), vec![Event::Deadline]);
        assert!(all(&reactor, Some(Duration::ZERO)).is_empty(), "taken by the poll that saw it");
        let none: &mut [Fd] = &mut [];
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                reactor.kick().unwrap();
            });
            assert!(reactor.sleep(none, Duration::from_secs(5), false).unwrap().deadline, "a sleeper wakes");
        });
        reactor.kick().unwrap();
        reactor.clear_due();
        assert!(all(&reactor, Some(Duration::ZERO)).is_empty(), "cleared with a due deadline");
    }

    #[test]
    fn a_wakeup_is_muted_by_poll_and_taken_only_by_a_sleep_that_wants_it() {
        let reactor = Reactor::new().unwrap();
        reactor.wake().unwrap();
        reactor.wake().unwrap();
        assert!(all(&reactor, Some(Duration::ZERO)).is_empty(), "poll does not report it");
        let none: &mut [Fd] = &mut [];
        let slept = reactor.sleep(none, Duration::ZERO, false).unwrap();
        assert!(!slept.woken, "muted: the epoll fd is quiet, and this sleep takes no wakeups");
        let slept = reactor.sleep(none, Duration::from_secs(5), true).unwrap();
        assert!(slept.woken, "still pending");
        assert!(!reactor.take_wakeup(), "wakeups collapse into one");
        // Not muted: the sleep's own epoll_wait sees it, before or while asleep.
        reactor.wake().unwrap();
        assert!(reactor.sleep(none, Duration::from_secs(5), true).unwrap().woken);
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                reactor.wake().unwrap();
            });
            let none: &mut [Fd] = &mut [];
            assert!(reactor.sleep(none, Duration::from_secs(5), true).unwrap().woken);
        });
        assert!(!reactor.take_wakeup(), "taken by the sleep that saw it");
        let slept = reactor.sleep(none, Duration::from_millis(20), true).unwrap();
        assert!(!slept.woken, "none left");
    }

    struct Fd(RawFd, PollEvents);

    impl Extra for Fd {
        fn fd(&self) -> RawFd {
            self.0
        }
        fn wanted(&self) -> PollEvents {
            PollEvents { read: true, ..PollEvents::default() }
        }
        fn seen(&mut self, bits: PollEvents) {
            self.1 = bits;
        }
    }

    #[test]
    fn sleep_reports_extra_descriptors_sockets_and_the_deadline() {
        let reactor = Reactor::new().unwrap();
        let (a, mut b) = UnixStream::pair().unwrap();
        let (c, mut d) = UnixStream::pair().unwrap();
        reactor.watch(c.as_raw_fd(), Interest { read: true, write: false }, 0).unwrap();
        let mut extra = [Fd(a.as_raw_fd(), PollEvents::default())];
        let slept = reactor.sleep(&mut extra, Duration::from_millis(1), false).unwrap();
        assert_eq!((slept.extra, slept.sockets, slept.deadline), (0, 0, false));
        std::io::Write::write_all(&mut b, b"x").unwrap();
        std::io::Write::write_all(&mut d, b"x").unwrap();
        reactor.arm(Some(Duration::ZERO)).unwrap();
        let slept = reactor.sleep(&mut extra, Duration::from_secs(5), false).unwrap();
        assert_eq!((slept.extra, slept.sockets, slept.deadline), (1, 1, true));
        assert!(extra[0].1.read);
        let slept = reactor.sleep(&mut extra, Duration::ZERO, false).unwrap();
        assert!(!slept.deadline, "acknowledged by the sleep that saw it");
    }

    #[test]
    fn what_a_sleep_drained_is_handed_on_once_unless_forgotten() {
        let reactor = Reactor::new().unwrap();
        let (a, mut b) = UnixStream::pair().unwrap();
        let mut events = Events::with_capacity(16);
        let none: &mut [Fd] = &mut [];
        reactor.watch(a.as_raw_fd(), Interest { read: true, write: false }, 0).unwrap();
        assert_eq!(reactor.sleep(none, Duration::ZERO, false).unwrap().sockets, 0);
        assert!(!reactor.take_slept(&mut events), "nothing drained, nothing kept");
        std::io::Write::write_all(&mut b, b"x").unwrap();
        // Both ways of sleeping: epoll_wait alone, and poll(2) beside the waker.
        for wakeups in [false, true] {
            assert_eq!(reactor.sleep(none, Duration::from_secs(5), wakeups).unwrap().sockets, 1);
            assert!(reactor.take_slept(&mut events));
            assert!(matches!(events.iter().collect::<Vec<_>>()[..], [Event::Socket(fd, _)] if fd == a.as_raw_fd()));
            assert!(!reactor.take_slept(&mut events), "handed on once");
        }
        reactor.sleep(none, Duration::from_secs(5), false).unwrap();
        reactor.forget_slept();
        assert!(!reactor.take_slept(&mut events));
    }

    #[test]
    fn only_a_new_socket_or_an_added_direction_widens() {
        let reactor = Reactor::new().unwrap();
        let (a, _b) = UnixStream::pair().unwrap();
        let fd = a.as_raw_fd();
        let (read, write) = (Interest { read: true, write: false }, Interest { read: false, write: true });
        let widened = |interest: Option<Interest>| {
            let before = reactor.widenings();
            match interest {
                Some(i) => reactor.watch(fd, i, 0).unwrap(),
                None => reactor.unwatch(fd),
            };
            reactor.widenings() != before
        };
        assert!(widened(Some(write)), "new");
        assert!(!widened(Some(write)), "same");
        assert!(widened(Some(read)), "writing for reading");
        assert!(!widened(None), "gone");
    }
}
