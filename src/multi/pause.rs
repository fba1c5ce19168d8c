//! Paused transfers: which ones perform must run although no socket or
//! timer would (parked), and running them.
//!
//! Owns: the one place that decides. libcurl's perform runs every transfer
//! at every call, and so calls each one's progress callback, the place
//! curl_easy_pause's documentation suggests to unpause from; curlmux runs
//! only what is ready or due. A transfer is parked when the application
//! pauses it with curl_easy_pause (the books keep that flag: easies.rs),
//! when a change of its socket's wish says it paused itself ([`verdict`],
//! a pure function of the wish before and after and of the bound libcurl),
//! and when a walk ends and it waits with no socket wished
//! (`park_unwatched`). While any is parked, each perform also walks
//! libcurl's transfers (`run_parked`). The reactor only says what a socket
//! was wished before; the engine answers the two questions asked of a
//! transfer (its upload unfinished, its request sent).

use std::collections::HashMap;

use curl_sys::CURL;

use super::deferred::Deferred;
use super::{Multi, State};
use crate::error::Result;
use crate::reactor::{Interest, Wished};

/// What a change of one socket's wish says of a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// That transfer is parked: libcurl stopped waiting on its socket while
    /// it runs.
    Park(usize),
    /// Parked if its upload is unfinished (paused, or rate-limited): done
    /// sending (the request, or the whole upload) drops writing too, often
    /// for reading, and 8.19 and later wish a paused upload readable.
    ParkIfSending(usize),
    /// Parked if its request went out: sending, then nothing, is a response
    /// that came and was paused in the same call, on a fresh connection.
    ParkIfStarted(usize),
    /// Its socket is wanted again: parked no longer, unless the application
    /// paused it.
    Unpark(usize),
}

/// The verdict on `easy`'s socket wished `now` (None: no longer watched)
/// where it was wished `before` (and by whom: libcurl may name another easy,
/// its own internal one, when it drops a socket, so a narrowing speaks of
/// the earlier owner). `hides_pauses`: the bound libcurl shows pauses in no
/// wish reliably (8.10 to 8.12: engine/libcurl.rs), so there a transfer that
/// changed a wish stays parked until it finishes.
pub fn verdict(before: Option<Wished>, now: Option<Interest>, easy: usize, hides_pauses: bool) -> Option<Verdict> {
    let widened = Some(if hides_pauses { Verdict::Park(easy) } else { Verdict::Unpark(easy) });
    let Some(Wished { interest: was, owner }) = before else {
        return now.and(widened);
    };
    let Some(now) = now else {
        return Some(match () {
            _ if hides_pauses || was.read => Verdict::Park(owner),
            _ => Verdict::ParkIfStarted(owner),
        });
    };
    if now == was {
        return None;
    }
    if now.write && !was.write {
        return widened;
    }
    if now.read && !was.read {
        // Writing traded for reading is narrowed sending, or widened reading.
        return match () {
            _ if hides_pauses => widened,
            _ if was.write => Some(Verdict::ParkIfSending(owner)),
            _ => widened,
        };
    }
    Some(match () {
        _ if hides_pauses || (was.read && !now.read) => Verdict::Park(owner),
        _ => Verdict::ParkIfSending(owner),
    })
}

impl Multi {
    /// Acts on a verdict: at once on the books, or, where libcurl must be
    /// asked about the transfer, once libcurl's current call has returned.
    pub(super) fn judge(&self, verdict: Verdict) {
        match verdict {
            Verdict::Park(easy) => self.books().park(easy as *mut CURL),
            Verdict::Unpark(easy) => self.books().unpark(easy as *mut CURL),
            asks => self.defer(Deferred::Pause(asks)),
        }
    }

    /// A verdict that asks libcurl about the transfer, settled by the engine
    /// lock's holder: only while it still runs here (the books are let go
    /// before libcurl is asked).
    pub(super) fn settle(&self, verdict: Verdict) {
        let (Verdict::ParkIfSending(owner) | Verdict::ParkIfStarted(owner)) = verdict else {
            return self.judge(verdict);
        };
        let easy = owner as *mut CURL;
        if !self.books().is_running(easy) {
            return;
        }
        let parks = match verdict {
            Verdict::ParkIfSending(_) => self.engine.upload_unfinished(easy),
            _ => self.engine.request_sent(easy),
        };
        if parks {
            self.books().park(easy);
        }
    }

    /// While a transfer is parked, each perform walks libcurl's transfers
    /// too (a paused or rate-limited transfer has neither a socket nor,
    /// often, a timer to be driven by). The books unpark it when its socket
    /// is wanted again, it is unpaused or it finishes. The walk is
    /// `curl_multi_socket_all`'s, which also reports every socket change the
    /// walk made (libcurl's perform does not always).
    pub(super) fn run_parked(&self, state: &mut State) -> Result<()> {
        let outcome = self.run_every_transfer();
        self.collect(state);
        self.deadline.set(self.engine.timeout()?);
        outcome
    }

    /// After a walk, where no socket change was seen as it happened: parks
    /// every running transfer that sent its request and has no socket
    /// wished, or has its upload unfinished and no socket wished writable
    /// (paused meanwhile, by the app or by its callbacks' return values).
    /// Transfers still waiting for a connection are not parked: they get a
    /// socket, or wait for one to come free. Once per walk's end.
    pub(super) fn park_unwatched(&self) {
        let mut wished: HashMap<usize, bool> = HashMap::new();
        for (_, owner, interest) in self.reactor.wishes() {
            *wished.entry(owner).or_default() |= interest.write;
        }
        let running: Vec<_> = self.books().running_easies().collect();
        let parked: Vec<_> = running
            .into_iter()
            .filter(|&easy| match wished.get(&(easy as usize)) {
                None => self.engine.request_sent(easy),
                Some(writes) => !writes && self.engine.upload_unfinished(easy),
            })
            .collect();
        for easy in parked {
            self.books().park(easy);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Verdict::*;
    use super::*;

    const NONE: Option<Interest> = None;
    const READ: Option<Interest> = Some(Interest { read: true, write: false });
    const WRITE: Option<Interest> = Some(Interest { read: false, write: true });
    const BOTH: Option<Interest> = Some(Interest { read: true, write: true });

    /// Wished `interest` before, by transfer 1.
    fn was(interest: Option<Interest>) -> Option<Wished> {
        interest.map(|interest| Wished { interest, owner: 1 })
    }

    /// Every change of a wish, on a libcurl that shows its pauses and on
    /// one that hides them (8.10 to 8.12); transfer 2 wishes now.
    #[test]
    fn each_change_of_a_wish_has_its_verdict() {
        let rows = [
            // before, now, verdict, verdict where pauses hide
            (NONE, READ, Some(Unpark(2)), Some(Park(2))),
            (NONE, NONE, None, None),
            (READ, READ, None, None),
            (READ, BOTH, Some(Unpark(2)), Some(Park(2))),
            (BOTH, READ, Some(ParkIfSending(1)), Some(Park(1))),
            (BOTH, WRITE, Some(Park(1)), Some(Park(1))),
            (WRITE, READ, Some(ParkIfSending(1)), Some(Park(2))),
            (READ, WRITE, Some(Unpark(2)), Some(Park(2))),
            (READ, NONE, Some(Park(1)), Some(Park(1))),
            (WRITE, NONE, Some(ParkIfStarted(1)), Some(Park(1))),
            (BOTH, NONE, Some(Park(1)), Some(Park(1))),
        ];
        for (before, now, shown, hidden) in rows {
            assert_eq!(verdict(was(before), now, 2, false), shown, "{before:?} -> {now:?}");
            assert_eq!(verdict(was(before), now, 2, true), hidden, "{before:?} -> {now:?}, pauses hidden");
        }
    }
}
