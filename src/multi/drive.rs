//! The drive loop: readiness from the reactor to the engine, finished
//! transfers from the engine to the books.
//!
//! Owns: `perform`, the choice between socket_action driving and libcurl's
//! own walk (walk.rs decides, this file switches), running parked transfers,
//! catching up after a walk, the once-a-second sweep on a libcurl that drops
//! near timers, and moving completions into the message queue.
//! Must not sleep.

use std::ffi::c_int;
use std::time::Duration;

use super::deadline::Due;
use super::{Call, Multi, Notice, State};
use crate::debug::trace;
use crate::engine::{CURLMNOTIFY_EASY_DONE, CURLMNOTIFY_INFO_READ, SocketEvents};
use crate::error::{Error, Result};
use crate::reactor::{self, Event, Ready};
use crate::versions;

/// Rounds of "drain readiness, act, run timers" one perform may do while
/// each round may have made more work ready at once; enough for connect →
/// send → receive on loopback.
const MAX_ROUNDS: usize = 4;
/// Rounds of running due timers before a walk that drops wake-ups.
const MAX_DUE_ROUNDS: usize = 4;
/// Events taken from the reactor per round.
pub(super) const EVENTS_PER_ROUND: usize = 1024;
/// How soon after one of its timers fired a libcurl that may lose timeouts
/// has every transfer's timeouts checked.
const CHECK_TIMEOUTS_WITHIN: Duration = Duration::from_millis(200);
/// How often a libcurl that drops near timers has every transfer run
/// while any is running: a timeout it dropped ends at most this late.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

impl Multi {
    pub fn perform(&self) -> Result<c_int> {
        self.driving(Call::Perform, |state| {
            crate::panic::injected("perform");
            self.steer(state);
            self.catch_up(state)?;
            if state.walk.is_on() {
                self.reactor.forget_slept();
                return self.walk(state);
            }
            let mut outcome = self.drive(state);
            if self.books().any_parked() {
                keep_first_error(&mut outcome, self.run_parked(state));
            }
            outcome
        })
    }

    /// Runs every transfer once (`curl_multi_socket_all`). Where libcurl's
    /// walk drops the wake-ups that come while it walks (engine/libcurl.rs),
    /// what moves its clock on goes first: transfers due to start, leave the
    /// pending queue or follow a redirect have timers due at once, and
    /// socket_action runs the timers it takes. The walk can still move its
    /// clock itself (a connection it completes releases the transfers
    /// waiting for it), so a sweep comes within SWEEP_EVERY while transfers
    /// run: a transfer whose wake-up was dropped waits for that at most, not
    /// for its own timeout.
    pub(super) fn run_every_transfer(&self) -> Result<()> {
        if !self.engine.lib().has(&versions::WALK_DROPS_WAKEUPS) {
            return self.engine.run_all();
        }
        // A transfer started there may add DoH probes, due at once in turn.
        for _ in 0..MAX_DUE_ROUNDS {
            if self.engine.timeout()? != Some(Duration::ZERO) {
                break;
            }
            self.engine.timeout_expired()?;
        }
        if self.books().running() > 0 {
            self.deadline.check_within(SWEEP_EVERY);
        }
        self.engine.run_all()
    }

    /// Runs `body` under the lock; then, the lock released, hands out the
    /// notices collected meanwhile (the notify callback may call in), and
    /// counts the running transfers as they are after that, as libcurl does.
    /// After an error the notices wait for the next call, as in libcurl.
    /// The calling thread becomes the one that drives: callbacks relayed to
    /// it are made first.
    pub(super) fn driving(&self, call: Call, body: impl FnOnce(&mut State) -> Result<()>) -> Result<c_int> {
        {
            let mut held = self.lock(call)?;
            self.driving_here();
            self.make_relayed();
            body(&mut held)?;
        }
        if self.notify.has_notices() {
            self.hand_out_notices();
            // Entered again only to refuse a multi cleaned up meanwhile.
            drop(self.lock(call)?);
        }
        Ok(self.books().running() as c_int)
    }

    /// Calls the notify callback for each notice, in order, until none is
    /// left (the callback's own calls may add more). One thread at a time:
    /// another one finding it busy leaves its notices to it.
    fn hand_out_notices(&self) {
        let Some(_one) = self.handing_out.try_lock() else { return };
        let _mark = self.notifying.mark();
        loop {
            let notices = self.notify.take();
            if notices.is_empty() {
                return;
            }
            for notice in notices {
                if notice.for_transfer() && !self.still_attached(notice.easy) {
                    continue;
                }
                self.notify.deliver(self.app.handle(), notice);
            }
        }
    }

    /// What was deferred is applied whenever the engine lock is let go.
    fn still_attached(&self, easy: *mut curl_sys::CURL) -> bool {
        self.books().contains(easy)
    }

    /// Chooses how to drive (walk.rs). Leaving the walk, the sockets go back
    /// into the epoll set as last wished; what libcurl changed meanwhile is
    /// asked at the next call that may drive transfers (`catch_up`).
    pub(super) fn steer(&self, state: &mut State) {
        let attached = self.books().attached();
        match state.walk.decide(attached, !self.app.drives()) {
            // Walking, fdset would name libcurl's sockets, which libcurl's
            // fdset skips past FD_SETSIZE: a select loop with a descriptor
            // limit above it never walks. Read here, where a walk starts,
            // not at every fdset.
            Some(true) if state.walk.is_selecting() && !reactor::fd_limit_within_fd_setsize() => {
                trace!("walk: refused, the descriptor limit passes FD_SETSIZE");
                state.walk.refuse();
            }
            Some(true) => {
                trace!("walk: on, {attached} attached");
                self.reactor.pause();
            }
            Some(false) => {
                trace!("walk: off, {attached} attached");
                for easy in self.reactor.resume() {
                    self.refused_watch(easy as *mut curl_sys::CURL);
                }
                state.stale = true;
            }
            None => {}
        }
    }

    /// Whoever drives or sleeps through the epoll set needs the sockets in
    /// it: one the app's socket_action loop kept out (`Multi::socket_action`) goes back in,
    /// as last wished, and stays. Not while walking: the walk keeps them out.
    pub(super) fn use_reactor(&self, state: &mut State) {
        if std::mem::replace(&mut state.reactor_used, true) || state.walk.is_on() {
            return;
        }
        for easy in self.reactor.resume() {
            self.refused_watch(easy as *mut curl_sys::CURL);
        }
    }

    /// After a walk: libcurl reports every socket change (its walk plus
    /// `curl_multi_socket_all`, which runs transfers and their callbacks:
    /// only perform and socket_action may), and the deadline is its own again.
    pub(super) fn catch_up(&self, state: &mut State) -> Result<()> {
        if !std::mem::take(&mut state.stale) {
            return Ok(());
        }
        let outcome = self.run_every_transfer();
        self.collect(state);
        self.park_unwatched();
        self.deadline.set(self.engine.timeout()?);
        outcome
    }

    /// Stops walking for good: the caller needs the socket wishes live. Until
    /// a perform catches up, the deadline reads as due, so that a caller
    /// sleeping on the wishes wakes at once to perform.
    pub(super) fn stop_walking(&self, state: &mut State) {
        state.walk.forbid();
        self.steer(state);
        if state.stale {
            self.deadline.set(Some(Duration::ZERO));
        }
    }

    /// libcurl's own walk over its transfers; how many were ready (the last
    /// wait's count, or how many finished) tells the next choice.
    fn walk(&self, state: &mut State) -> Result<()> {
        // Nobody drains the epoll fd while walking: take back a due signal.
        self.deadline.take_due();
        self.reactor.clear_due();
        let outcome = self.engine.perform();
        let finished = self.collect(state);
        state.walk.walked(finished, self.books().attached());
        outcome
    }

    /// Hands every ready socket and a due deadline to the engine, then moves
    /// finished transfers to the message queue. Each ready socket costs one
    /// `socket_action`, so idle transfers cost nothing; how many were ready
    /// feeds the choice to walk instead (walk.rs). The first round takes
    /// what a wait just drained, where it did; a round follows only one that
    /// widened a socket's wish (connect, then send, then receive on
    /// loopback) or left a timer due: otherwise it would mostly find
    /// nothing, and what it would find shows at the caller's next wait.
    pub(super) fn drive(&self, state: &mut State) -> Result<()> {
        self.use_reactor(state);
        let mut outcome = Ok(());
        let mut seen = 0;
        for round in 0..MAX_ROUNDS {
            if round > 0 || !self.reactor.take_slept(&mut state.events) {
                self.reactor.poll(&mut state.events, Some(Duration::ZERO)).map_err(|e| {
                    trace!("epoll_wait: {e}");
                    Error::UnrecoverablePoll
                })?;
            }
            let widenings = self.reactor.widenings();
            let due = self.deadline.take_due();
            let mut sockets = 0;
            for event in state.events.iter() {
                if let Event::Socket(fd, ready) = event {
                    sockets += 1;
                    keep_first_error(&mut outcome, self.engine.socket_ready(fd, happened(ready)));
                }
            }
            if due.any() {
                keep_first_error(&mut outcome, self.expire(due));
            }
            seen += sockets;
            if sockets == 0 && !due.any() {
                break;
            }
            self.collect(state);
            if self.reactor.widenings() == widenings && self.deadline.remaining() != Some(Duration::ZERO) {
                break;
            }
        }
        state.walk.saw(seen, self.books().attached());
        if self.engine.lib().has(&versions::DROPS_NEAR_TIMERS) && self.books().running() > 0 {
            self.deadline.check_within(SWEEP_EVERY);
        }
        outcome
    }

    /// A sweep (`drive`) is for running transfers: with none left, it is
    /// not a deadline to report or sleep for.
    pub(super) fn sweep_only_while_running(&self) {
        if self.books().running() == 0 {
            self.deadline.forget_check();
        }
    }

    /// A deadline came: libcurl's timer, or curlmux's check of every
    /// transfer (the sweep, or after a timer on 7.61). Before 7.64 libcurl
    /// arms a transfer's TIMEOUT and CONNECTTIMEOUT timers a little before
    /// the clock they are measured on starts (curl commit 6f61933adf), so
    /// the timer may fire while the transfer still has a millisecond or more
    /// left; the timer is gone then, and only a later run of that transfer
    /// ends it. Such a libcurl has every transfer run (curl_multi_socket_all,
    /// which runs the due timers too) soon after each timer: at most once per
    /// CHECK_TIMEOUTS_WITHIN.
    fn expire(&self, due: Due) -> Result<()> {
        if due.check {
            let outcome = self.run_every_transfer();
            self.deadline.set(self.engine.timeout()?);
            return outcome;
        }
        let outcome = self.engine.timeout_expired();
        if self.engine.lib().has(&versions::LOSES_TIMEOUTS) && self.books().running() > 0 {
            self.deadline.check_within(CHECK_TIMEOUTS_WITHIN);
        }
        outcome
    }

    /// Moves transfers libcurl finished into the message queue, with their
    /// notices; how many.
    pub(super) fn collect(&self, state: &mut State) -> usize {
        self.apply_deferred(state);
        let mut finished = 0;
        while let Some(done) = self.engine.next_done() {
            finished += self.finish(done.easy, done.result) as usize;
        }
        finished
    }

    /// Queues the message that `easy` finished with `result`, with its
    /// notices; false when it is not a running transfer of this multi.
    pub(super) fn finish(&self, easy: *mut curl_sys::CURL, result: curl_sys::CURLcode) -> bool {
        let was_empty = {
            let mut books = self.books();
            let was_empty = books.queued() == 0;
            if !books.complete(easy, result) {
                return false;
            }
            was_empty
        };
        if self.notify.wants(CURLMNOTIFY_EASY_DONE) {
            self.notify.push(Notice { kind: CURLMNOTIFY_EASY_DONE, easy });
        }
        if was_empty && self.notify.wants(CURLMNOTIFY_INFO_READ) {
            self.notify.push_info_read();
        }
        true
    }
}

fn keep_first_error(outcome: &mut Result<()>, next: Result<()>) {
    if outcome.is_ok() {
        *outcome = next;
    }
}

/// Readiness as libcurl's own poll reports it: hangup reads, error is both.
fn happened(ready: Ready) -> SocketEvents {
    SocketEvents {
        readable: ready.readable || ready.hangup || ready.error,
        writable: ready.writable || ready.error,
        error: false,
    }
}
