//! The engine's next deadline, and the reactor's timer kept in step with it.
//!
//! Owns: the deadline libcurl's timer callback sets (an atomic, since the
//! callback runs inside engine calls), curlmux's own check of every
//! transfer's timeouts on a libcurl that may lose or drop them (drive.rs),
//! and what the timerfd was last armed to, so it is re-armed only when the
//! sooner of the two moved.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::reactor::Reactor;

const NONE: u64 = u64::MAX;

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now() -> u64 {
    epoch().elapsed().as_nanos().min(NONE as u128 - 1) as u64
}

pub struct Deadline {
    /// libcurl's, in nanoseconds since `epoch()`, or NONE.
    at: AtomicU64,
    /// curlmux's check, in the same units, or NONE.
    check: AtomicU64,
    /// What the reactor's timer was last armed to.
    armed: AtomicU64,
}

impl Default for Deadline {
    fn default() -> Self {
        Deadline { at: AtomicU64::new(NONE), check: AtomicU64::new(NONE), armed: AtomicU64::new(NONE) }
    }
}

/// Which deadlines had passed.
#[derive(Clone, Copy, Default)]
pub struct Due {
    pub timer: bool,
    pub check: bool,
}

impl Due {
    pub fn any(self) -> bool {
        self.timer || self.check
    }
}

fn instant_after(d: Duration) -> u64 {
    now().saturating_add(d.as_nanos().min(NONE as u128 - 1) as u64).min(NONE - 1)
}

/// Clears `slot` if its instant has passed; true if it had.
fn take_passed(slot: &AtomicU64) -> bool {
    let at = slot.load(Ordering::Acquire);
    at != NONE && at <= now() && slot.compare_exchange(at, NONE, Ordering::AcqRel, Ordering::Acquire).is_ok()
}

impl Deadline {
    /// libcurl's timer: due `after` from now, or none.
    pub fn set(&self, after: Option<Duration>) {
        self.at.store(after.map_or(NONE, instant_after), Ordering::Release);
    }

    /// curlmux's check, due at most `within` from now: a pending sooner one stays.
    pub fn check_within(&self, within: Duration) {
        self.check.fetch_min(instant_after(within), Ordering::AcqRel);
    }

    /// Drops curlmux's check.
    pub fn forget_check(&self) {
        self.check.store(NONE, Ordering::Release);
    }

    fn sooner(&self) -> u64 {
        self.at.load(Ordering::Acquire).min(self.check.load(Ordering::Acquire))
    }

    /// Time left until the sooner of the two (zero when due), or None when
    /// neither is set.
    pub fn remaining(&self) -> Option<Duration> {
        match self.sooner() {
            NONE => None,
            at => Some(Duration::from_nanos(at.saturating_sub(now()))),
        }
    }

    /// Clears what has passed, and says which.
    pub fn take_due(&self) -> Due {
        Due { timer: take_passed(&self.at), check: take_passed(&self.check) }
    }

    /// Arms the reactor's timer to the sooner deadline if it moved since last time.
    pub fn sync(&self, reactor: &Reactor) -> std::io::Result<()> {
        let at = self.sooner();
        if self.armed.swap(at, Ordering::AcqRel) == at {
            return Ok(());
        }
        reactor.arm(self.remaining())
    }
}
