//! Thin epoll: an owned descriptor and the four calls. Level-triggered only.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::{Interest, Ready};

/// Turns a `-1` return into the thread's `io::Error`.
macro_rules! syscall {
    ($e:expr) => {{
        let r = $e;
        if r == -1 { Err(io::Error::last_os_error()) } else { Ok(r) }
    }};
}
pub(super) use syscall;

pub struct Epoll(OwnedFd);

/// A reusable buffer of raw epoll events: (token, readiness) pairs.
pub struct RawEvents(Vec<libc::epoll_event>);

impl RawEvents {
    pub fn with_capacity(n: usize) -> RawEvents {
        RawEvents(Vec::with_capacity(n.max(1)))
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, Ready)> + '_ {
        self.0.iter().map(|e| (e.u64, ready(e.events)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Becomes a copy of `other`, keeping its own capacity where that is larger.
    pub fn copy_from(&mut self, other: &RawEvents) {
        self.0.clear();
        self.0.extend_from_slice(&other.0);
    }
}

fn mask(interest: Interest) -> u32 {
    let mut bits = 0;
    if interest.read {
        bits |= libc::EPOLLIN as u32;
    }
    if interest.write {
        bits |= libc::EPOLLOUT as u32;
    }
    bits
}

fn ready(bits: u32) -> Ready {
    let has = |flag: i32| bits & flag as u32 != 0;
    Ready {
        readable: has(libc::EPOLLIN) || has(libc::EPOLLPRI),
        writable: has(libc::EPOLLOUT),
        error: has(libc::EPOLLERR),
        hangup: has(libc::EPOLLHUP) || has(libc::EPOLLRDHUP),
    }
}

impl Epoll {
    pub fn new() -> io::Result<Epoll> {
        // SAFETY: plain syscall; the result is a new descriptor we own.
        let fd = syscall!(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `fd` was just created and is owned by nobody else.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn ctl(&self, op: i32, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        let mut event = libc::epoll_event { events: mask(interest), u64: token };
        // SAFETY: `event` outlives the call; epoll validates `fd` itself.
        syscall!(unsafe { libc::epoll_ctl(self.0.as_raw_fd(), op, fd, &mut event) }).map(drop)
    }

    pub fn add(&self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, interest)
    }

    pub fn modify(&self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, token, interest)
    }

    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, Interest { read: false, write: false })
    }

    pub fn wait(&self, events: &mut RawEvents, timeout: Option<Duration>) -> io::Result<()> {
        // Round up so a sub-millisecond wait never becomes a busy zero.
        let ms = match timeout {
            None => -1,
            Some(t) => t.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32,
        };
        let capacity = events.0.capacity().min(i32::MAX as usize) as i32;
        events.0.clear();
        // SAFETY: the buffer has room for `capacity` events; the kernel writes at most that many.
        let n = unsafe { libc::epoll_wait(self.0.as_raw_fd(), events.0.as_mut_ptr(), capacity, ms) };
        match syscall!(n) {
            Ok(n) => {
                // SAFETY: the kernel initialised the first `n` entries.
                unsafe { events.0.set_len(n as usize) };
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl AsRawFd for Epoll {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}
