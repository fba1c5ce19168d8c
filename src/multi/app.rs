//! The application's own callbacks (`CURLMOPT_SOCKETFUNCTION`,
//! `TIMERFUNCTION`, `PUSHFUNCTION` and their data), relayed from the engine's.
//!
//! Owns: those pointers, stored in atomics because the engine calls back
//! while the Multi's lock is held by the same thread. Must not call into
//! libcurl itself.

use std::ffi::{c_int, c_long, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use curl_sys::{CURL, CURLM, curl_socket_t};

use crate::engine::{CURL_PUSH_DENY, SocketWish};

type SocketFn = unsafe extern "C" fn(*mut CURL, curl_socket_t, c_int, *mut c_void, *mut c_void) -> c_int;
type TimerFn = unsafe extern "C" fn(*mut CURLM, c_long, *mut c_void) -> c_int;
type PushFn = unsafe extern "C" fn(*mut CURL, *mut CURL, usize, *mut c_void, *mut c_void) -> c_int;

#[derive(Default)]
pub struct AppCallbacks {
    /// The `CURLM *` the application knows this multi by.
    handle: AtomicUsize,
    socket_fn: AtomicUsize,
    socket_data: AtomicUsize,
    timer_fn: AtomicUsize,
    timer_data: AtomicUsize,
    push_fn: AtomicUsize,
    push_data: AtomicUsize,
}

/// Which application pointer an option sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppPointer {
    SocketFunction,
    SocketData,
    TimerFunction,
    TimerData,
    PushFunction,
    PushData,
}

fn load(slot: &AtomicUsize) -> usize {
    slot.load(Ordering::Acquire)
}

impl AppCallbacks {
    pub fn set_handle(&self, handle: *mut CURLM) {
        self.handle.store(handle as usize, Ordering::Release);
    }

    /// The `CURLM *` the application knows this multi by.
    pub fn handle(&self) -> *mut CURLM {
        load(&self.handle) as *mut CURLM
    }

    pub fn set(&self, which: AppPointer, value: *mut c_void) {
        let slot = match which {
            AppPointer::SocketFunction => &self.socket_fn,
            AppPointer::SocketData => &self.socket_data,
            AppPointer::TimerFunction => &self.timer_fn,
            AppPointer::TimerData => &self.timer_data,
            AppPointer::PushFunction => &self.push_fn,
            AppPointer::PushData => &self.push_data,
        };
        slot.store(value as usize, Ordering::Release);
    }

    /// True when the application set its own socket or timer callback: it
    /// drives with socket_action and must hear of every change.
    pub fn drives(&self) -> bool {
        load(&self.socket_fn) != 0 || load(&self.timer_fn) != 0
    }

    /// Stops relaying: the multi is being cleaned up.
    pub fn silence(&self) {
        for slot in [&self.socket_fn, &self.timer_fn, &self.push_fn] {
            slot.store(0, Ordering::Release);
        }
    }

    /// Relays a socket wish; 0 when the application set no socket callback.
    pub fn socket(&self, easy: *mut CURL, fd: curl_socket_t, wish: Option<SocketWish>, socketp: *mut c_void) -> c_int {
        let f = load(&self.socket_fn);
        if f == 0 {
            return 0;
        }
        // SAFETY: the application set this pointer as CURLMOPT_SOCKETFUNCTION,
        // whose type is curl_socket_callback.
        let f: SocketFn = unsafe { std::mem::transmute::<usize, SocketFn>(f) };
        // SAFETY: called as libcurl would, with the application's own data.
        unsafe { f(easy, fd, SocketWish::to_poll(wish), load(&self.socket_data) as *mut c_void, socketp) }
    }

    /// Relays a timer change with the application's own handle.
    pub fn timer(&self, after: Option<Duration>) -> c_int {
        let f = load(&self.timer_fn);
        if f == 0 {
            return 0;
        }
        let ms = after.map_or(-1, |d| d.as_millis().min(c_long::MAX as u128) as c_long);
        // SAFETY: the application set this pointer as CURLMOPT_TIMERFUNCTION.
        let f: TimerFn = unsafe { std::mem::transmute::<usize, TimerFn>(f) };
        // SAFETY: called as libcurl would, with the application's handle and data.
        unsafe { f(load(&self.handle) as *mut CURLM, ms, load(&self.timer_data) as *mut c_void) }
    }

    /// Relays a server push; without a push callback, pushes are denied (as in libcurl).
    pub fn push(&self, parent: *mut CURL, pushed: *mut CURL, num_headers: usize, headers: *mut c_void) -> c_int {
        let f = load(&self.push_fn);
        if f == 0 {
            return CURL_PUSH_DENY;
        }
        // SAFETY: the application set this pointer as CURLMOPT_PUSHFUNCTION.
        let f: PushFn = unsafe { std::mem::transmute::<usize, PushFn>(f) };
        // SAFETY: called as libcurl would; `headers` is libcurl's own and valid for the call.
        unsafe { f(parent, pushed, num_headers, headers, load(&self.push_data) as *mut c_void) }
    }
}
