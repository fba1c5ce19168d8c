//! The engine's next deadline, and the reactor's timer kept in step with it.
//!
//! Owns: the deadline libcurl's timer callback sets (an atomic, since the
//! callback runs inside engine calls) and what the timerfd was last armed
//! to, so the timerfd is re-armed only when the deadline moved.

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
    /// Nanoseconds since `epoch()`, or NONE.
    at: AtomicU64,
    /// What the reactor's timer was last armed to.
    armed: AtomicU64,
}

impl Default for Deadline {
    fn default() -> Self {
        Deadline { at: AtomicU64::new(NONE), armed: AtomicU64::new(NONE) }
    }
}

impl Deadline {
    pub fn set(&self, after: Option<Duration>) {
        let at = after.map_or(NONE, |d| now().saturating_add(d.as_nanos().min(NONE as u128 - 1) as u64).min(NONE - 1));
        self.at.store(at, Ordering::Release);
    }

    /// Time left (zero when due), or None when no timer is set.
    pub fn remaining(&self) -> Option<Duration> {
        match self.at.load(Ordering::Acquire) {
            NONE => None,
            at => Some(Duration::from_nanos(at.saturating_sub(now()))),
        }
    }

    /// Clears the deadline if it has passed; true if it had.
    pub fn take_due(&self) -> bool {
        let at = self.at.load(Ordering::Acquire);
        at != NONE && at <= now() && self.at.compare_exchange(at, NONE, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Arms the reactor's timer to the deadline if it moved since last time.
    pub fn sync(&self, reactor: &Reactor) -> std::io::Result<()> {
        let at = self.at.load(Ordering::Acquire);
        if self.armed.swap(at, Ordering::AcqRel) == at {
            return Ok(());
        }
        reactor.arm(self.remaining())
    }
}
