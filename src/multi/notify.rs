//! Notifications: libcurl 8.17's `CURLMOPT_NOTIFYFUNCTION` and
//! `curl_multi_notify_enable`, on every libcurl.
//!
//! Owns: the application's notify callback and its data, which kinds are
//! enabled, and the notices collected while the Multi's lock is held, to be
//! handed out once it is released (the callback may add, remove and read
//! messages). Both kinds come from curlmux's own books, whatever libcurl is
//! bound: `CURLMNOTIFY_INFO_READ` when a message lands on an empty queue,
//! `CURLMNOTIFY_EASY_DONE` when one of the application's transfers finished.
//! libcurl's notices for its internal transfers (DoH probes) are not passed
//! on: stock hands them out only when the probe outlives the call that
//! finished it, which a perform loop never sees. Must not call libcurl.

use std::ffi::{c_uint, c_void};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};

use curl_sys::{CURL, CURLM};

use crate::engine::{CURLMNOTIFY_EASY_DONE, CURLMNOTIFY_INFO_READ};
use crate::sync::{Mutex, MutexGuard};

type NotifyFn = unsafe extern "C" fn(*mut CURLM, c_uint, *mut CURL, *mut c_void);

/// One notification waiting to be handed out.
#[derive(Debug, Clone, Copy)]
pub struct Notice {
    pub kind: c_uint,
    pub easy: *mut CURL,
}

impl Notice {
    /// Whether `easy` is one of the application's transfers (EASY_DONE's;
    /// INFO_READ's is the internal handle). Such a notice is dropped if the
    /// easy is no longer attached when its turn comes, as libcurl drops it.
    pub fn for_transfer(&self) -> bool {
        self.kind == CURLMNOTIFY_EASY_DONE
    }
}

// SAFETY: the easy pointer is only compared and handed to the application.
unsafe impl Send for Notice {}

#[derive(Default)]
pub struct Notify {
    callback: AtomicUsize,
    data: AtomicUsize,
    /// One bit per kind.
    enabled: AtomicU32,
    /// The handle INFO_READ passes ("an internal handle"), made when that
    /// kind is first enabled.
    internal: AtomicPtr<CURL>,
    queue: Mutex<Vec<Notice>>,
    /// Set after a push to `queue`: the common empty case costs one load.
    any: AtomicBool,
}

/// Whether `kind` is one libcurl defines.
pub fn known(kind: c_uint) -> bool {
    kind <= CURLMNOTIFY_EASY_DONE
}

impl Notify {
    pub fn set_callback(&self, f: *mut c_void) {
        self.callback.store(f as usize, Ordering::Release);
    }

    pub fn set_data(&self, data: *mut c_void) {
        self.data.store(data as usize, Ordering::Release);
    }

    /// Tells valgrind's race detectors which words are atomics (sync.rs).
    pub fn unchecked_atomics(&self) {
        crate::sync::unchecked(&self.callback);
        crate::sync::unchecked(&self.data);
        crate::sync::unchecked(&self.enabled);
        crate::sync::unchecked(&self.internal);
        crate::sync::unchecked(&self.any);
    }

    /// Enables or disables a known kind.
    pub fn set_enabled(&self, kind: c_uint, on: bool) {
        let bit = 1 << kind;
        if on {
            self.enabled.fetch_or(bit, Ordering::AcqRel);
        } else {
            self.enabled.fetch_and(!bit, Ordering::AcqRel);
        }
    }

    fn enabled(&self, kind: c_uint) -> bool {
        self.enabled.load(Ordering::Acquire) & (1 << kind) != 0
    }

    /// Notices of `kind` are collected only with a callback set and the kind enabled.
    pub fn wants(&self, kind: c_uint) -> bool {
        self.callback.load(Ordering::Acquire) != 0 && self.enabled(kind)
    }

    /// The handle INFO_READ passes, if one was made.
    pub fn internal(&self) -> *mut CURL {
        self.internal.load(Ordering::Acquire)
    }

    /// Keeps `easy` as the handle INFO_READ passes, unless one is kept
    /// already; false then (the caller frees its own).
    pub fn keep_internal(&self, easy: *mut CURL) -> bool {
        self.internal.compare_exchange(std::ptr::null_mut(), easy, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Gives up the internal handle, for the caller to free.
    pub fn take_internal(&self) -> *mut CURL {
        self.internal.swap(std::ptr::null_mut(), Ordering::AcqRel)
    }

    fn queue(&self) -> MutexGuard<'_, Vec<Notice>> {
        self.queue.lock()
    }

    pub fn push(&self, notice: Notice) {
        self.queue().push(notice);
        self.any.store(true, Ordering::Release);
    }

    /// A message landed on an empty queue.
    pub fn push_info_read(&self) {
        self.push(Notice { kind: CURLMNOTIFY_INFO_READ, easy: self.internal() });
    }

    pub fn has_notices(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// Takes every notice collected so far.
    pub fn take(&self) -> Vec<Notice> {
        if !self.any.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        std::mem::take(&mut *self.queue())
    }

    /// Hands one notice to the application's callback, if it is still
    /// wanted (libcurl checks the kind again at this point).
    pub fn deliver(&self, handle: *mut CURLM, notice: Notice) {
        let f = self.callback.load(Ordering::Acquire);
        if f == 0 || !self.enabled(notice.kind) {
            return;
        }
        // SAFETY: the application set this pointer as CURLMOPT_NOTIFYFUNCTION,
        // whose type is curl_notify_callback.
        let f: NotifyFn = unsafe { std::mem::transmute::<usize, NotifyFn>(f) };
        // SAFETY: called as libcurl calls it, with the application's handle and data.
        unsafe { f(handle, notice.kind, notice.easy, self.data.load(Ordering::Acquire) as *mut c_void) }
    }
}
