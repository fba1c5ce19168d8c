//! Easy handles the application frees or pauses through libcurl's easy
//! functions (`curl_easy_cleanup` and `curl_easy_pause`, which curlmux
//! exports: abi/easy.rs), while a curlmux multi has them.
//!
//! Owns: keeping the books right when that happens, from any thread and
//! from inside callbacks, as each libcurl version would (its capability
//! table says which), and running libcurl's pause under the engine lock.

use curl_sys::CURL;

use super::deferred::Deferred;
use super::{Multi, State};
use crate::debug::trace;
use crate::versions;

impl Multi {
    /// `easy` is about to be freed (curl_easy_cleanup): if it is attached
    /// here, remove it now, while it still holds its connection. libcurl
    /// 7.75 to 8.14 detach the connection first and remove the easy after
    /// (curl 66d35ee5d4), so a connection with a response still in flight
    /// goes back to the cache and the next transfer on it reads that
    /// response. From another thread than the one inside the multi, this
    /// waits for the engine lock, as `curl_multi_remove_handle` does. Inside
    /// a callback of this multi, libcurl 8.22 and later keep the easy
    /// running (the books too); earlier ones would free it while still
    /// driving it, so curlmux holds the free back, unless another multi
    /// already did (`may_hold` false): true when it did, and the caller must
    /// not free. The notify callback runs inside a call on libcurl 8.22 (a
    /// no-op there, the easy and its message stay), after libcurl's call in
    /// curlmux.
    pub fn easy_freed(&self, easy: *mut CURL, may_hold: bool) -> bool {
        // A forked child's copy touches nothing the parent drives.
        if self.inherited() || !self.books().contains(easy) {
            return false;
        }
        let keeps = self.engine.lib().has(&versions::CALL_GUARDS);
        if self.notifying.is_current() && keeps {
            return may_hold;
        }
        if !self.owner.is_current() {
            let Ok(held) = self.hold(self.lock_engine()) else { return false };
            self.forget(&held, easy);
            drop(held);
            self.changed();
            return false;
        }
        if !may_hold {
            self.books().detach(easy);
            return false;
        }
        if keeps {
            return false;
        }
        self.engine.silence(easy);
        self.defer(Deferred::Free(easy));
        true
    }

    /// Removes `easy` from libcurl and the books, if it is attached here.
    pub(super) fn forget(&self, state: &State, easy: *mut CURL) {
        if !self.books().contains(easy) {
            return;
        }
        if let Err(e) = self.engine.remove(easy) {
            trace!("freeing {easy:p}: remove: {e:?}");
        }
        self.books().detach(easy);
        if !state.stale
            && let Ok(after) = self.engine.timeout()
        {
            self.deadline.set(after);
        }
    }

    /// The app pauses `easy` in some direction, or (false) unpauses it, with
    /// `pause` (libcurl's curl_easy_pause): if it is a transfer here, that
    /// runs under the engine lock (libcurl's pause works on the multi too),
    /// and perform runs it while paused (drive.rs). None, with nothing done,
    /// when it is not a transfer here.
    pub fn pause_easy(
        &self,
        easy: *mut CURL,
        paused: bool,
        pause: &dyn Fn() -> curl_sys::CURLcode,
    ) -> Option<curl_sys::CURLcode> {
        if self.inherited() || !self.books().contains(easy) {
            return None;
        }
        let held = if self.owner.is_current() { None } else { Some(self.hold(self.lock_engine()).ok()?) };
        let result = pause();
        self.books().set_paused(easy, paused);
        drop(held);
        Some(result)
    }
}
