//! An eventfd for `curl_multi_wakeup`: thread-safe, wakeups collapse into one.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::epoll::syscall;

pub struct Waker(OwnedFd);

impl Waker {
    pub fn new() -> io::Result<Waker> {
        // SAFETY: plain syscall; the result is a new descriptor we own.
        let fd = syscall!(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
        // SAFETY: `fd` was just created and is owned by nobody else.
        Ok(Waker(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    pub fn wake(&self) -> io::Result<()> {
        let one = 1u64;
        // SAFETY: writes 8 bytes from `one`.
        match syscall!(unsafe { libc::write(self.0.as_raw_fd(), &one as *const u64 as *const libc::c_void, 8) }) {
            // EAGAIN: the counter is saturated, so a wakeup is pending anyway.
            Err(e) if e.kind() != io::ErrorKind::WouldBlock => Err(e),
            _ => Ok(()),
        }
    }

    /// True if a wakeup was pending (and is now taken).
    pub fn take(&self) -> bool {
        let mut count = 0u64;
        // SAFETY: reads 8 bytes into `count`; EAGAIN means none pending.
        unsafe { libc::read(self.0.as_raw_fd(), &mut count as *mut u64 as *mut libc::c_void, 8) == 8 }
    }
}

impl AsRawFd for Waker {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}
