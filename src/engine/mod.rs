//! The engine: one private libcurl multi per curlmux `Multi`, driven in
//! `socket_action` mode, or by libcurl's own walk over all its transfers.
//!
//! Owns: that libcurl multi handle, the socket, timer and push callback
//! trampolines that report to an [`EngineSink`], and reading libcurl's
//! completion messages. Must not know about epoll or the registry.
//!
//! The walk (`curl_multi_perform`, `_wait`, `_poll`, `_fdset` on
//! the engine) reports no socket interest changes in 7.88: whoever walks
//! must not trust the socket wishes until [`Engine::run_all`] brought them
//! up to date. `curl_multi_socket_all` re-enters curlmux's exported
//! `curl_multi_perform` through the PLT with the engine's handle, which
//! curlmux did not issue and so forwards back to libcurl.

pub mod libcurl;

use std::ffi::{c_char, c_int, c_long, c_uint, c_void};
use std::time::Duration;

use curl_sys::{
    CURL, CURL_SOCKET_TIMEOUT, CURLM, CURLMOPT_PUSHDATA, CURLMOPT_PUSHFUNCTION, CURLMOPT_SOCKETDATA,
    CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERDATA, CURLMOPT_TIMERFUNCTION, CURLMSG_DONE, CURLMoption, CURLcode,
    curl_socket_t, curl_waitfd,
};

use crate::debug::trace;
use crate::error::{Error, Result};
pub use libcurl::{LibCurl, libcurl};

/// `CURLINFO_OFF_T + 7` and `+ 16` (7.55), which curl-sys does not name.
const CURLINFO_SIZE_UPLOAD_T: curl_sys::CURLINFO = 0x600000 + 7;
const CURLINFO_CONTENT_LENGTH_UPLOAD_T: curl_sys::CURLINFO = 0x600000 + 16;

/// What libcurl wants watched on one socket (`CURL_POLL_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketWish {
    pub read: bool,
    pub write: bool,
}

impl SocketWish {
    /// `None` for `CURL_POLL_REMOVE` (and for `CURL_POLL_NONE`, which libcurl never sends).
    pub fn from_poll(what: c_int) -> Option<SocketWish> {
        let wish = SocketWish { read: what & curl_sys::CURL_POLL_IN != 0, write: what & curl_sys::CURL_POLL_OUT != 0 };
        (what != curl_sys::CURL_POLL_REMOVE && (wish.read || wish.write)).then_some(wish)
    }
}

/// What happened on a socket, as `socket_action`'s `CURL_CSELECT_*` bitmask wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SocketEvents {
    pub readable: bool,
    pub writable: bool,
    pub error: bool,
}

impl SocketEvents {
    pub fn from_bits(bits: c_int) -> SocketEvents {
        SocketEvents {
            readable: bits & curl_sys::CURL_CSELECT_IN != 0,
            writable: bits & curl_sys::CURL_CSELECT_OUT != 0,
            error: bits & curl_sys::CURL_CSELECT_ERR != 0,
        }
    }

    fn bitmask(self) -> c_int {
        let mut bits = 0;
        if self.readable {
            bits |= curl_sys::CURL_CSELECT_IN;
        }
        if self.writable {
            bits |= curl_sys::CURL_CSELECT_OUT;
        }
        if self.error {
            bits |= curl_sys::CURL_CSELECT_ERR;
        }
        bits
    }
}

impl SocketWish {
    /// The `CURL_POLL_*` value for `wish` (None: `CURL_POLL_REMOVE`).
    pub fn to_poll(wish: Option<SocketWish>) -> c_int {
        match wish {
            None => curl_sys::CURL_POLL_REMOVE,
            Some(w) => (w.read as c_int) * curl_sys::CURL_POLL_IN + (w.write as c_int) * curl_sys::CURL_POLL_OUT,
        }
    }
}

/// `CURLMOPT_PUSHFUNCTION`'s answers.
pub(crate) const CURL_PUSH_OK: c_int = 0;
pub(crate) const CURL_PUSH_DENY: c_int = 1;

pub use multi_h_8_20::*;

/// <curl/multi.h> of 8.16 to 8.20, which curl-sys does not know. The header
/// declares them itself for an older <curl/curl.h> (build.rs).
/// cbindgen:ignore
mod multi_h_8_20 {
    use std::ffi::{c_int, c_uint};

    use curl_sys::CURLMoption;

    pub const CURLMOPT_NETWORK_CHANGED: CURLMoption = 17;
    pub const CURLMOPT_NOTIFYFUNCTION: CURLMoption = 20_018;
    pub const CURLMOPT_NOTIFYDATA: CURLMoption = 10_019;
    pub const CURLMOPT_RESOLVE_THREADS_MAX: CURLMoption = 20;
    pub const CURLMOPT_QUICK_EXIT: CURLMoption = 21;
    pub const CURLMINFO_XFERS_CURRENT: c_int = 1;
    pub const CURLMINFO_XFERS_RUNNING: c_int = 2;
    pub const CURLMINFO_XFERS_DONE: c_int = 4;
    pub const CURLMINFO_XFERS_ADDED: c_int = 5;
    pub const CURLMNOTIFY_INFO_READ: c_uint = 0;
    pub const CURLMNOTIFY_EASY_DONE: c_uint = 1;
}

/// Receives the engine's callbacks. Called from inside libcurl, on the thread
/// that is driving the engine; each returns what libcurl's callback returns
/// (-1 from socket or timer marks the multi dead).
pub trait EngineSink {
    /// libcurl wants `fd` watched as `wish`, or (None) no longer. `socketp`
    /// is what `curl_multi_assign` attached to `fd`.
    fn socket(&self, easy: *mut CURL, fd: curl_socket_t, wish: Option<SocketWish>, socketp: *mut c_void) -> c_int;
    /// libcurl wants a timeout action after `after`, or (None) no timer.
    fn timer(&self, after: Option<Duration>) -> c_int;
    /// An HTTP/2 server offers `pushed` alongside `parent`; `headers` is
    /// libcurl's `struct curl_pushheaders *`.
    fn push(&self, parent: *mut CURL, pushed: *mut CURL, num_headers: usize, headers: *mut c_void) -> c_int;
}

/// A transfer libcurl finished: the easy handle and its result.
#[derive(Debug, Clone, Copy)]
pub struct Done {
    pub easy: *mut CURL,
    pub result: CURLcode,
}

/// One private libcurl multi handle.
pub struct Engine {
    lib: &'static LibCurl,
    handle: *mut CURLM,
}

// SAFETY: libcurl multi handles may move between threads; every use of one is
// serialized by the owning Multi's lock.
unsafe impl Send for Engine {}
// SAFETY: as above; shared references only read the immutable handle pointer.
unsafe impl Sync for Engine {}

impl Engine {
    pub fn new(lib: &'static LibCurl) -> Result<Engine> {
        // SAFETY: curl_multi_init takes no arguments and returns NULL on failure.
        let handle = unsafe { (lib.multi_init)() };
        if handle.is_null() {
            return Err(Error::OutOfMemory);
        }
        Ok(Engine { lib, handle })
    }

    /// Routes the engine's socket and timer callbacks to `sink`.
    ///
    /// # Safety
    /// `sink` must stay valid until this engine is dropped.
    pub unsafe fn attach_sink<S: EngineSink>(&self, sink: *const S) -> Result<()> {
        let socket_cb: extern "C" fn(*mut CURL, curl_socket_t, c_int, *mut c_void, *mut c_void) -> c_int =
            on_socket::<S>;
        let timer_cb: extern "C" fn(*mut CURLM, c_long, *mut c_void) -> c_int = on_timer::<S>;
        let push_cb: extern "C" fn(*mut CURL, *mut CURL, usize, *mut c_void, *mut c_void) -> c_int = on_push::<S>;
        self.setopt_ptr(CURLMOPT_SOCKETFUNCTION, socket_cb as *mut c_void)?;
        self.setopt_ptr(CURLMOPT_SOCKETDATA, sink as *mut c_void)?;
        self.setopt_ptr(CURLMOPT_TIMERFUNCTION, timer_cb as *mut c_void)?;
        self.setopt_ptr(CURLMOPT_TIMERDATA, sink as *mut c_void)?;
        self.setopt_ptr(CURLMOPT_PUSHFUNCTION, push_cb as *mut c_void)?;
        self.setopt_ptr(CURLMOPT_PUSHDATA, sink as *mut c_void)
    }

    /// libcurl's own answer to `curl_multi_get_offt` (8.16); None where it
    /// lacks the function.
    pub fn get_offt(&self, info: c_int) -> Option<Result<curl_sys::curl_off_t>> {
        let f = self.lib.optional.multi_get_offt?;
        let mut value = -1;
        // SAFETY: `handle` is live and `value` outlives the call.
        Some(Error::check(unsafe { f(self.handle, info, &mut value) }).map(|()| value))
    }

    /// libcurl's own `curl_multi_get_handles` array (the caller frees it
    /// with `curl_free`); None without that function or memory.
    pub fn handles(&self) -> Option<*mut *mut CURL> {
        let f = self.lib.optional.multi_get_handles?;
        // SAFETY: `handle` is live.
        let array = unsafe { f(self.handle) };
        (!array.is_null()).then_some(array)
    }

    /// What the bound libcurl can do.
    pub fn lib(&self) -> &'static LibCurl {
        self.lib
    }

    pub fn add(&self, easy: *mut CURL) -> Result<()> {
        // SAFETY: `handle` is live; libcurl validates `easy` itself.
        Error::check(unsafe { (self.lib.multi_add_handle)(self.handle, easy) })
    }

    pub fn remove(&self, easy: *mut CURL) -> Result<()> {
        // SAFETY: `handle` is live; libcurl validates `easy` itself.
        Error::check(unsafe { (self.lib.multi_remove_handle)(self.handle, easy) })
    }

    /// Closes the libcurl multi: detaches (never frees) every easy still attached.
    ///
    /// # Safety
    /// Call once; afterwards no other method may be called.
    pub unsafe fn cleanup(&self) {
        // SAFETY: `handle` came from curl_multi_init and the caller promises once.
        unsafe { (self.lib.multi_cleanup)(self.handle) };
    }

    /// Sets an option whose argument is a `long`.
    pub fn setopt_long(&self, option: CURLMoption, value: c_long) -> Result<()> {
        // SAFETY: `handle` is live; the variadic argument is the long the option takes.
        Error::check(unsafe { (self.lib.multi_setopt)(self.handle, option, value) })
    }

    /// Sets an option whose argument is a pointer (data or function).
    pub fn setopt_ptr(&self, option: CURLMoption, value: *mut c_void) -> Result<()> {
        // SAFETY: `handle` is live; the variadic argument is the pointer the option takes.
        Error::check(unsafe { (self.lib.multi_setopt)(self.handle, option, value) })
    }

    /// Sets an option whose argument is a `curl_off_t`.
    pub fn setopt_off_t(&self, option: CURLMoption, value: curl_sys::curl_off_t) -> Result<()> {
        // SAFETY: `handle` is live; the variadic argument is the curl_off_t the option takes.
        Error::check(unsafe { (self.lib.multi_setopt)(self.handle, option, value) })
    }

    /// Tells libcurl what happened on `fd`.
    pub fn socket_ready(&self, fd: curl_socket_t, happened: SocketEvents) -> Result<()> {
        self.socket_action(fd, happened.bitmask())
    }

    /// Attaches `pointer` to a socket libcurl tracks (`CURLM_BAD_SOCKET` otherwise).
    pub fn assign(&self, fd: curl_socket_t, pointer: *mut c_void) -> Result<()> {
        // SAFETY: `handle` is live; libcurl only stores the pointer.
        Error::check(unsafe { (self.lib.multi_assign)(self.handle, fd, pointer) })
    }

    /// libcurl's own next timeout; None when it has none.
    pub fn timeout(&self) -> Result<Option<Duration>> {
        let mut ms: c_long = -1;
        // SAFETY: `handle` is live and `ms` outlives the call.
        Error::check(unsafe { (self.lib.multi_timeout)(self.handle, &mut ms) })?;
        Ok(u64::try_from(ms).ok().map(Duration::from_millis))
    }

    /// Lets libcurl run its expired timers.
    pub fn timeout_expired(&self) -> Result<()> {
        self.socket_action(CURL_SOCKET_TIMEOUT, 0)
    }

    /// libcurl's own walk: every transfer checks its sockets and timers.
    pub fn perform(&self) -> Result<()> {
        let mut running = 0;
        // SAFETY: `handle` is live and `running` outlives the call.
        Error::check(unsafe { (self.lib.multi_perform)(self.handle, &mut running) })
    }

    /// libcurl's own wait on every transfer's sockets and `extra`, at most
    /// `timeout_ms` and at most until its next timeout; the number of
    /// descriptors with events. `poll`: curl_multi_poll, which sleeps also
    /// with no socket to watch, where curl_multi_wait returns at once.
    pub fn wait(&self, extra: &mut [curl_waitfd], timeout_ms: c_int, poll: bool) -> Result<c_int> {
        let mut numfds = 0;
        let n = c_uint::try_from(extra.len()).map_err(|_| Error::BadFunctionArgument)?;
        // Only a walk waits here, and only a libcurl with curl_multi_poll walks.
        let wait = if poll { self.lib.optional.multi_poll.ok_or(Error::Internal)? } else { self.lib.multi_wait };
        // SAFETY: `handle` is live; `extra` holds `n` initialised entries.
        Error::check(unsafe { wait(self.handle, extra.as_mut_ptr(), n, timeout_ms, &mut numfds) })?;
        Ok(numfds)
    }

    /// Adds every transfer's sockets to the sets (libcurl skips any at or
    /// past FD_SETSIZE); the highest added, or -1.
    pub fn fdset(&self, read: &mut libc::fd_set, write: &mut libc::fd_set, exc: &mut libc::fd_set) -> Result<c_int> {
        let mut max_fd = -1;
        // SAFETY: `handle` is live and every pointer is a valid, writable reference.
        Error::check(unsafe { (self.lib.multi_fdset)(self.handle, read, write, exc, &mut max_fd) })?;
        Ok(max_fd)
    }

    /// libcurl's walk, then every transfer's sockets reported again where
    /// they changed (`curl_multi_socket_all`): brings the wishes up to date.
    pub fn run_all(&self) -> Result<()> {
        let mut running = 0;
        // SAFETY: `handle` is live and `running` outlives the call.
        Error::check(unsafe { (self.lib.multi_socket_all)(self.handle, &mut running) })
    }

    /// Stops `easy` calling into the application: body and headers are
    /// discarded, an upload is aborted, and neither progress nor debug
    /// callbacks are made. For an easy the application freed while libcurl
    /// still drives it (Multi::easy_freed), whose callbacks' data may be gone.
    pub fn silence(&self, easy: *mut CURL) {
        extern "C" fn discard(_: *mut c_char, size: usize, n: usize, _: *mut c_void) -> usize {
            size.saturating_mul(n)
        }
        extern "C" fn abort(_: *mut c_char, _: usize, _: usize, _: *mut c_void) -> usize {
            curl_sys::CURL_READFUNC_ABORT
        }
        type Callback = extern "C" fn(*mut c_char, usize, usize, *mut c_void) -> usize;
        let set = self.lib.easy_setopt;
        // SAFETY: `easy` is live (its free is held back); each option gets the
        // type it takes: a callback of the read/write shape, or a long.
        let results = unsafe {
            [
                set(easy, curl_sys::CURLOPT_WRITEFUNCTION, discard as Callback),
                set(easy, curl_sys::CURLOPT_HEADERFUNCTION, discard as Callback),
                set(easy, curl_sys::CURLOPT_READFUNCTION, abort as Callback),
                set(easy, curl_sys::CURLOPT_NOPROGRESS, 1 as c_long),
                set(easy, curl_sys::CURLOPT_VERBOSE, 0 as c_long),
            ]
        };
        if results.iter().any(|&r| r != curl_sys::CURLE_OK) {
            trace!("silencing {easy:p}: {results:?}");
        }
    }

    /// Whether `easy` has sent less of its upload than it announced (false
    /// when it announced no size, or libcurl cannot say).
    pub fn upload_unfinished(&self, easy: *mut CURL) -> bool {
        let (mut sent, mut size): (curl_sys::curl_off_t, curl_sys::curl_off_t) = (0, -1);
        // SAFETY: `easy` is a transfer of this engine, and each out-parameter
        // is the curl_off_t its CURLINFO_*_T takes.
        let known = unsafe {
            (self.lib.easy_getinfo)(easy, CURLINFO_CONTENT_LENGTH_UPLOAD_T, &mut size) == curl_sys::CURLE_OK
                && (self.lib.easy_getinfo)(easy, CURLINFO_SIZE_UPLOAD_T, &mut sent) == curl_sys::CURLE_OK
        };
        known && size > 0 && sent < size
    }

    /// Whether `easy` has sent a request: it has a connection, where a
    /// transfer waiting for one (or for its name to resolve) has none.
    pub fn request_sent(&self, easy: *mut CURL) -> bool {
        let mut size: c_long = 0;
        // SAFETY: `easy` is a transfer of this engine; CURLINFO_REQUEST_SIZE takes a long.
        let known = unsafe { (self.lib.easy_getinfo)(easy, curl_sys::CURLINFO_REQUEST_SIZE, &mut size) };
        known == curl_sys::CURLE_OK && size > 0
    }

    fn socket_action(&self, fd: curl_socket_t, bits: c_int) -> Result<()> {
        let mut running = 0;
        // SAFETY: `handle` is live and `running` outlives the call.
        Error::check(unsafe { (self.lib.multi_socket_action)(self.handle, fd, bits, &mut running) })
    }

    /// The next transfer libcurl finished, if any.
    pub fn next_done(&self) -> Option<Done> {
        loop {
            let mut queued = 0;
            // SAFETY: `handle` is live; the message is read before any other engine call.
            let msg = unsafe { (self.lib.multi_info_read)(self.handle, &mut queued) };
            if msg.is_null() {
                return None;
            }
            // SAFETY: libcurl returned a valid message; it stays valid until the next call.
            let msg = unsafe { &*msg };
            if msg.msg == CURLMSG_DONE {
                // `data` is a union of a pointer and the CURLcode; the code is its low half.
                let result = msg.data as usize as CURLcode;
                return Some(Done { easy: msg.easy_handle, result });
            }
        }
    }
}

extern "C" fn on_socket<S: EngineSink>(
    easy: *mut CURL,
    fd: curl_socket_t,
    what: c_int,
    userp: *mut c_void,
    socketp: *mut c_void,
) -> c_int {
    crate::panic::guarded_callback(|| {
        // SAFETY: `userp` is the sink given to attach_sink, alive while the engine is.
        let sink = unsafe { &*(userp as *const S) };
        sink.socket(easy, fd, SocketWish::from_poll(what), socketp)
    })
}

extern "C" fn on_timer<S: EngineSink>(_multi: *mut CURLM, timeout_ms: c_long, userp: *mut c_void) -> c_int {
    crate::panic::guarded_callback(|| {
        // SAFETY: `userp` is the sink given to attach_sink, alive while the engine is.
        let sink = unsafe { &*(userp as *const S) };
        sink.timer(u64::try_from(timeout_ms).ok().map(Duration::from_millis))
    })
}

extern "C" fn on_push<S: EngineSink>(
    parent: *mut CURL,
    pushed: *mut CURL,
    num_headers: usize,
    headers: *mut c_void,
    userp: *mut c_void,
) -> c_int {
    crate::panic::guarded_callback(|| {
        // SAFETY: `userp` is the sink given to attach_sink, alive while the engine is.
        let sink = unsafe { &*(userp as *const S) };
        sink.push(parent, pushed, num_headers, headers)
    })
}
