//! What libcurl's callbacks on the engine tell a Multi: socket wishes (to
//! the reactor, to the pause decisions of pause.rs, and to the application's
//! own socket callback), timers (to the deadline and the application's timer
//! callback) and server pushes.
//!
//! Owns: that routing, and relaying the application's callbacks to the
//! thread that drives when another thread caused them (deferred.rs).

use std::ffi::{c_int, c_void};
use std::time::{Duration, Instant};

use curl_sys::{CURL, curl_socket_t};

use super::deferred::Relayed;
use super::{Multi, pause};
use crate::debug::trace;
use crate::engine::{CURL_PUSH_OK, EngineSink, SocketWish};
use crate::reactor::Interest;
use crate::versions;

/// The engine's wishes go to the reactor (so perform, wait and fdset work)
/// and, when the application set its own callbacks, to the application too.
impl EngineSink for Multi {
    fn socket(&self, easy: *mut CURL, fd: curl_socket_t, wish: Option<SocketWish>, socketp: *mut c_void) -> c_int {
        // In a forked child, libcurl calls back when the child frees an
        // attached easy: the epoll set is the parent's.
        if self.inherited() {
            return 0;
        }
        trace!("socket {easy:p} fd {fd}: {wish:?}");
        let now = wish.map(|w| Interest { read: w.read, write: w.write });
        let before = match now {
            Some(interest) => self.reactor.watch(fd, interest, easy as usize),
            None => Ok(self.reactor.unwatch(fd)),
        };
        match before {
            Ok(before) => {
                if let Some(verdict) =
                    pause::verdict(before, now, easy as usize, self.engine.lib().has(&versions::MISREADS_LAST_POLL))
                {
                    self.judge(verdict);
                }
            }
            Err(e) => {
                trace!("watch fd {fd}: {e}");
                self.refused_watch(easy);
            }
        }
        if self.relays() {
            self.relay(Relayed::Socket { easy, fd, wish, socketp });
            return 0;
        }
        self.app.socket(easy, fd, wish, socketp)
    }

    fn timer(&self, after: Option<Duration>) -> c_int {
        if self.inherited() {
            return 0;
        }
        self.deadline.set(after);
        if self.relays() {
            self.relay(Relayed::Timer(after.map(|d| Instant::now() + d)));
            return 0;
        }
        self.app.timer(after)
    }

    /// An accepted push is the application's transfer from now on: libcurl
    /// adds it to the engine itself (through its public add_handle before
    /// 8.22, internally since), so the books adopt it here.
    fn push(&self, parent: *mut CURL, pushed: *mut CURL, num_headers: usize, headers: *mut c_void) -> c_int {
        let answer = self.app.push(parent, pushed, num_headers, headers);
        if answer == CURL_PUSH_OK {
            self.books().attach(pushed);
        }
        answer
    }
}
