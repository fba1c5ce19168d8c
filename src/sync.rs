//! The locks curlmux uses, and what valgrind's race detectors are told.
//!
//! Owns: `Mutex` and `RwLock`, and marking memory whose races are not races
//! (atomics, reference counts). std's locks are futexes that helgrind and DRD
//! cannot see, so under them every access a lock orders reads as a race.
//! Built with the `race-check` feature (the test suite's helgrind runs),
//! these locks are pthread's, which both tools understand, lock order
//! included, and [`unchecked`] tells helgrind which words are atomics;
//! without it they are std's, and [`unchecked`] does nothing. Either way a
//! poisoned lock is taken as it is: curlmux's state stays usable after a
//! panic its boundary caught.
//!
//! Under the feature a lock must not move once used: curlmux's live in
//! statics and inside `Arc`s, which never move.

#[cfg(not(feature = "race-check"))]
mod imp {
    use std::sync::TryLockError;

    pub struct Mutex<T>(std::sync::Mutex<T>);
    pub type MutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;
    pub struct RwLock<T>(std::sync::RwLock<T>);
    pub type ReadGuard<'a, T> = std::sync::RwLockReadGuard<'a, T>;
    pub type WriteGuard<'a, T> = std::sync::RwLockWriteGuard<'a, T>;

    impl<T> Mutex<T> {
        pub const fn new(value: T) -> Mutex<T> {
            Mutex(std::sync::Mutex::new(value))
        }

        pub fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(|p| p.into_inner())
        }

        /// The lock, if no other thread holds it.
        pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            match self.0.try_lock() {
                Ok(guard) => Some(guard),
                Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            }
        }
    }

    impl<T> RwLock<T> {
        pub const fn new(value: T) -> RwLock<T> {
            RwLock(std::sync::RwLock::new(value))
        }

        pub fn read(&self) -> ReadGuard<'_, T> {
            self.0.read().unwrap_or_else(|p| p.into_inner())
        }

        pub fn write(&self) -> WriteGuard<'_, T> {
            self.0.write().unwrap_or_else(|p| p.into_inner())
        }
    }

    pub fn unchecked<T: ?Sized>(_: &T) {}
    pub fn happens_before<T: ?Sized>(_: &T) {}
    pub fn happens_after<T: ?Sized>(_: &T) {}
}

#[cfg(feature = "race-check")]
mod imp {
    use std::cell::UnsafeCell;
    use std::ops::{Deref, DerefMut};

    pub struct Mutex<T> {
        raw: UnsafeCell<libc::pthread_mutex_t>,
        data: UnsafeCell<T>,
    }

    // SAFETY: the data is reached only through a guard, which holds the mutex.
    unsafe impl<T: Send> Send for Mutex<T> {}
    // SAFETY: as above.
    unsafe impl<T: Send> Sync for Mutex<T> {}

    pub struct MutexGuard<'a, T>(&'a Mutex<T>);

    impl<T> Mutex<T> {
        pub const fn new(value: T) -> Mutex<T> {
            Mutex { raw: UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER), data: UnsafeCell::new(value) }
        }

        pub fn lock(&self) -> MutexGuard<'_, T> {
            // SAFETY: a statically initialised mutex that never moved once used.
            unsafe { libc::pthread_mutex_lock(self.raw.get()) };
            MutexGuard(self)
        }

        /// The lock, if no other thread holds it.
        pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            // SAFETY: as in `lock`.
            (unsafe { libc::pthread_mutex_trylock(self.raw.get()) } == 0).then(|| MutexGuard(self))
        }
    }

    impl<T> Drop for Mutex<T> {
        fn drop(&mut self) {
            // SAFETY: nobody holds it: the mutex is being dropped.
            unsafe { libc::pthread_mutex_destroy(self.raw.get()) };
        }
    }

    impl<T> Drop for MutexGuard<'_, T> {
        fn drop(&mut self) {
            // SAFETY: this guard holds the mutex.
            unsafe { libc::pthread_mutex_unlock(self.0.raw.get()) };
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: the guard holds the mutex.
            unsafe { &*self.0.data.get() }
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: the guard holds the mutex, and is borrowed mutably.
            unsafe { &mut *self.0.data.get() }
        }
    }

    pub struct RwLock<T> {
        raw: UnsafeCell<libc::pthread_rwlock_t>,
        data: UnsafeCell<T>,
    }

    // SAFETY: the data is reached only through guards, which hold the lock.
    unsafe impl<T: Send> Send for RwLock<T> {}
    // SAFETY: readers share `&T`, so T must be Sync too.
    unsafe impl<T: Send + Sync> Sync for RwLock<T> {}

    pub struct ReadGuard<'a, T>(&'a RwLock<T>);
    pub struct WriteGuard<'a, T>(&'a RwLock<T>);

    impl<T> RwLock<T> {
        pub const fn new(value: T) -> RwLock<T> {
            RwLock { raw: UnsafeCell::new(libc::PTHREAD_RWLOCK_INITIALIZER), data: UnsafeCell::new(value) }
        }

        pub fn read(&self) -> ReadGuard<'_, T> {
            // SAFETY: a statically initialised lock that never moved once used.
            unsafe { libc::pthread_rwlock_rdlock(self.raw.get()) };
            ReadGuard(self)
        }

        pub fn write(&self) -> WriteGuard<'_, T> {
            // SAFETY: as in `read`.
            unsafe { libc::pthread_rwlock_wrlock(self.raw.get()) };
            WriteGuard(self)
        }
    }

    impl<T> Drop for ReadGuard<'_, T> {
        fn drop(&mut self) {
            // SAFETY: this guard holds the lock.
            unsafe { libc::pthread_rwlock_unlock(self.0.raw.get()) };
        }
    }

    impl<T> Drop for WriteGuard<'_, T> {
        fn drop(&mut self) {
            // SAFETY: this guard holds the lock.
            unsafe { libc::pthread_rwlock_unlock(self.0.raw.get()) };
        }
    }

    impl<T> Deref for ReadGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: the guard holds the lock for reading.
            unsafe { &*self.0.data.get() }
        }
    }

    impl<T> Deref for WriteGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: the guard holds the lock for writing.
            unsafe { &*self.0.data.get() }
        }
    }

    impl<T> DerefMut for WriteGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: the guard holds the lock for writing, and is borrowed mutably.
            unsafe { &mut *self.0.data.get() }
        }
    }

    /// helgrind's client requests (helgrind.h): its tool base, then 256 on.
    const HG: usize = ((b'H' as usize) << 24) + ((b'G' as usize) << 16) + 256;
    const HG_USERSO_SEND_PRE: usize = HG + 33;
    const HG_USERSO_RECV_POST: usize = HG + 34;
    const HG_ARANGE_MAKE_UNTRACKED: usize = HG + 39;

    /// `VALGRIND_HG_DISABLE_CHECKING`: no race is reported on `value`'s
    /// bytes from now on. A no-op outside valgrind.
    pub fn unchecked<T: ?Sized>(value: &T) {
        let at = value as *const T as *const u8 as usize;
        client_request(&[HG_ARANGE_MAKE_UNTRACKED, at, size_of_val(value), 0, 0, 0]);
    }

    /// `ANNOTATE_HAPPENS_BEFORE(tag)`: what this thread did so far is seen by
    /// one that then passes [`happens_after`] with the same tag.
    pub fn happens_before<T: ?Sized>(tag: &T) {
        client_request(&[HG_USERSO_SEND_PRE, tag as *const T as *const u8 as usize, 0, 0, 0, 0]);
    }

    /// `ANNOTATE_HAPPENS_AFTER(tag)`.
    pub fn happens_after<T: ?Sized>(tag: &T) {
        client_request(&[HG_USERSO_RECV_POST, tag as *const T as *const u8 as usize, 0, 0, 0, 0]);
    }

    /// valgrind's client request sequence for amd64 (valgrind.h): rotations
    /// that leave rdi as it was, and an exchange of rbx with itself.
    #[cfg(target_arch = "x86_64")]
    fn client_request(args: &[usize; 6]) {
        // SAFETY: natively the sequence changes no register; under valgrind it
        // reads the six words `args` points to and writes rdx, declared.
        unsafe {
            std::arch::asm!(
                "rol rdi, 3", "rol rdi, 13", "rol rdi, 61", "rol rdi, 51", "xchg rbx, rbx",
                in("rax") args.as_ptr(),
                inout("rdx") 0usize => _,
                options(nostack, preserves_flags),
            );
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn client_request(_: &[usize; 6]) {}
}

pub use imp::*;

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}
