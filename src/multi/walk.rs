//! When to drive the engine by libcurl's own walk over its transfers instead
//! of one `socket_action` per ready socket.
//!
//! Owns: that choice. `socket_action` costs per event (libcurl keeps a socket
//! hash, a timer tree and the callbacks in step for each), the walk costs per
//! attached transfer. With few transfers attached and most of them ready at
//! every look, the walk is cheaper (BENCHMARKS.md, all busy); with idle ones
//! among them it is the cost curlmux exists to avoid. So: walk only with at
//! most [`MAX_ATTACHED`] transfers, enter when on average at least 3/8 of
//! them were ready at each look, leave when fewer than 3/16 were (a moving
//! average with a gap between the two, so one quiet look does not flap).
//! Must not call libcurl or the reactor.

/// The most attached transfers a walk may visit.
const MAX_ATTACHED: usize = 128;
/// The share of ready transfers (in 1/1024) to enter the walk at: 3/8.
const ENTER: usize = 384;
/// The share to leave it under: 3/16.
const LEAVE: usize = 192;

pub struct Walk {
    on: bool,
    /// Moving average of the share of attached transfers ready at a look, in 1/1024.
    share: usize,
    /// Sockets the last wait saw ready, while walking.
    waited: usize,
    /// Something needs the socket wishes kept live: the application drives
    /// with its own callbacks or socket_action, or polls the epoll fd itself.
    forbidden: bool,
    /// A select loop asks curl_multi_fdset, which names libcurl's sockets
    /// while walking: a walk may start only where none can pass FD_SETSIZE.
    selecting: bool,
}

impl Walk {
    /// A new Multi is driven by socket_action until its looks show it
    /// mostly ready, like any other: started as if ready enough, a jittered
    /// crowd of ten walked all ten transfers for its first eight turns (half
    /// of the syscalls its classic loop made beyond libcurl's epoll loop's).
    /// Never where the engine cannot walk (`allowed` false).
    pub fn new(allowed: bool) -> Walk {
        Walk { on: false, share: 0, waited: 0, forbidden: !allowed, selecting: false }
    }

    pub fn is_on(&self) -> bool {
        self.on
    }

    /// `ready` of `attached` transfers were ready (or finished) at a look;
    /// a look with nothing attached says nothing.
    pub fn saw(&mut self, ready: usize, attached: usize) {
        let Some(share) = (ready * 1024).checked_div(attached) else { return };
        let share = share.min(1024);
        self.share = self.share - self.share / 8 + share / 8;
    }

    /// A wait while walking saw `ready` sockets with events.
    pub fn waited(&mut self, ready: usize) {
        self.waited = ready;
    }

    /// A walk finished `finished` transfers; with the wait before it, that is the look.
    pub fn walked(&mut self, finished: usize, attached: usize) {
        let ready = std::mem::take(&mut self.waited).max(finished);
        self.saw(ready, attached);
    }

    pub fn is_forbidden(&self) -> bool {
        self.forbidden
    }

    /// From now on, never walk.
    pub fn forbid(&mut self) {
        self.forbidden = true;
    }

    /// curl_multi_fdset was asked: a walk must suit a select loop from now on.
    pub fn fdset_asked(&mut self) {
        self.selecting = true;
    }

    pub fn is_selecting(&self) -> bool {
        self.selecting
    }

    /// The walk `decide` just started may not run (nothing was paused for it
    /// yet): never walk.
    pub fn refuse(&mut self) {
        self.forbidden = true;
        self.on = false;
    }

    /// Whether to walk with `attached` transfers; Some(new) when that changed.
    pub fn decide(&mut self, attached: usize, allowed: bool) -> Option<bool> {
        let enough = self.share >= if self.on { LEAVE } else { ENTER };
        let on = allowed && !self.forbidden && attached > 0 && attached <= MAX_ATTACHED && enough;
        (on != std::mem::replace(&mut self.on, on)).then_some(on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Looks until the average settles.
    fn settle(walk: &mut Walk, ready: usize, attached: usize) {
        for _ in 0..64 {
            walk.saw(ready, attached);
        }
    }

    #[test]
    fn enters_at_three_eighths_ready_and_leaves_under_three_sixteenths() {
        let mut walk = Walk::new(true);
        settle(&mut walk, 35, 100);
        assert_eq!(walk.decide(100, true), None);
        settle(&mut walk, 40, 100);
        assert_eq!(walk.decide(100, true), Some(true));
        walk.saw(0, 100);
        assert_eq!(walk.decide(100, true), None, "one quiet look does not end it");
        settle(&mut walk, 20, 100);
        assert_eq!(walk.decide(100, true), None);
        settle(&mut walk, 17, 100);
        assert_eq!(walk.decide(100, true), Some(false));
    }

    #[test]
    fn a_new_multi_walks_once_its_looks_show_it_ready_and_empty_looks_change_nothing() {
        let mut walk = Walk::new(true);
        assert_eq!(walk.decide(100, true), None, "new: driven by socket_action");
        settle(&mut walk, 0, 0);
        assert_eq!(walk.decide(100, true), None);
        for _ in 0..3 {
            walk.saw(100, 100);
            assert_eq!(walk.decide(100, true), None);
        }
        walk.saw(100, 100);
        assert_eq!(walk.decide(100, true), Some(true), "four looks all ready");
    }

    #[test]
    fn never_with_many_attached_none_attached_or_when_forbidden() {
        let mut walk = Walk::new(true);
        settle(&mut walk, MAX_ATTACHED + 1, MAX_ATTACHED + 1);
        assert_eq!(walk.decide(MAX_ATTACHED + 1, true), None);
        assert_eq!(walk.decide(0, true), None);
        assert_eq!(walk.decide(10, false), None);
        assert_eq!(walk.decide(10, true), Some(true));
        walk.forbid();
        assert_eq!(walk.decide(10, true), Some(false));
    }

    #[test]
    fn a_refused_start_is_for_good() {
        let mut walk = Walk::new(true);
        settle(&mut walk, 10, 10);
        assert_eq!(walk.decide(10, true), Some(true));
        walk.refuse();
        assert!(!walk.is_on());
        settle(&mut walk, 10, 10);
        assert_eq!(walk.decide(10, true), None);
    }
}
