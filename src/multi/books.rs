//! The books of one Multi: attached transfers and their completion messages.
//!
//! Owns: one `CURLMsg` slot per attached easy handle (libcurl keeps its
//! message inside the easy, so the pointer `info_read` returns must outlive
//! later `info_read` calls), the FIFO of queued messages, and the counts
//! `running_handles` and `msgs_in_queue` are read from, and which running
//! transfers are parked (drive.rs). Every operation is O(1) amortized. Must
//! not call libcurl.

use std::collections::VecDeque;

use curl_sys::{CURL, CURLMSG_DONE, CURLMSG_NONE, CURLMsg, CURLcode};

use crate::addr::AddrMap;

/// Slots of removed easies kept alive for late readers of their message,
/// oldest freed (or reused) first. libcurl's pointer lives as long as the
/// easy handle.
const RETIRED_SLOTS: usize = 4096;

/// A message slot; its address is what `info_read` hands out.
struct Slot(Box<CURLMsg>);

// SAFETY: the easy pointer inside is only handed back to the app, never used here.
unsafe impl Send for Slot {}

struct Transfer {
    /// Which attachment of this easy; a re-added easy gets a new one, so a
    /// message queued before a removal is never delivered after it.
    generation: u64,
    done: bool,
    queued: bool,
    /// libcurl stopped waiting on its socket while it runs (pause.rs).
    parked: bool,
    /// The application paused it with curl_easy_pause and has not unpaused it.
    paused: bool,
    slot: Slot,
}

impl Transfer {
    /// Run at every perform: parked or paused, and running.
    fn walked(&self) -> bool {
        !self.done && (self.parked || self.paused)
    }
}

#[derive(Default)]
pub struct Books {
    transfers: AddrMap<Transfer>,
    /// Slots of detached transfers, oldest first: at most RETIRED_SLOTS + 1,
    /// so the last RETIRED_SLOTS removals' messages stay readable.
    retired: VecDeque<Slot>,
    queue: VecDeque<(usize, u64)>,
    queued: usize,
    done: usize,
    parked: usize,
    generations: u64,
}

impl Books {
    pub fn attached(&self) -> usize {
        self.transfers.len()
    }

    pub fn contains(&self, easy: *mut CURL) -> bool {
        self.transfers.contains_key(&(easy as usize))
    }

    /// Attached here and not finished.
    pub fn is_running(&self, easy: *mut CURL) -> bool {
        self.transfers.get(&(easy as usize)).is_some_and(|t| !t.done)
    }

    /// The attached easy handles, in no particular order.
    pub fn easies(&self) -> impl Iterator<Item = *mut CURL> + '_ {
        self.transfers.keys().map(|&key| key as *mut CURL)
    }

    /// The attached easy handles not finished, in no particular order.
    pub fn running_easies(&self) -> impl Iterator<Item = *mut CURL> + '_ {
        self.transfers.iter().filter(|(_, t)| !t.done).map(|(&key, _)| key as *mut CURL)
    }

    /// Transfers added and not yet finished.
    pub fn running(&self) -> usize {
        self.transfers.len() - self.done
    }

    /// Finished transfers still attached.
    pub fn done(&self) -> usize {
        self.done
    }

    /// Attachments ever made, re-additions of an easy included.
    pub fn added(&self) -> u64 {
        self.generations
    }

    /// Whether some running transfer is parked.
    pub fn any_parked(&self) -> bool {
        self.parked > 0
    }

    /// Marks a running transfer parked: libcurl stopped waiting on its
    /// socket while it still runs (paused, or waiting on something else).
    pub fn park(&mut self, easy: *mut CURL) {
        self.update(easy, |t| t.parked = true);
    }

    /// Its socket is waited on again: parked no longer, unless the
    /// application paused it.
    pub fn unpark(&mut self, easy: *mut CURL) {
        self.update(easy, |t| t.parked = false);
    }

    /// The application paused it (true), or unpaused it: then it is neither
    /// paused nor parked until its socket says otherwise.
    pub fn set_paused(&mut self, easy: *mut CURL, paused: bool) {
        self.update(easy, |t| {
            t.paused = paused;
            t.parked &= paused;
        });
    }

    /// Changes a transfer's flags, keeping the count of walked ones.
    fn update(&mut self, easy: *mut CURL, change: impl FnOnce(&mut Transfer)) {
        let Some(t) = self.transfers.get_mut(&(easy as usize)) else { return };
        let before = t.walked();
        change(t);
        self.parked = self.parked + t.walked() as usize - before as usize;
    }

    /// Messages waiting for `info_read`.
    pub fn queued(&self) -> usize {
        self.queued
    }

    pub fn attach(&mut self, easy: *mut CURL) {
        self.generations += 1;
        let msg = CURLMsg { msg: CURLMSG_NONE, easy_handle: easy, data: std::ptr::null_mut() };
        // The oldest retired slot past the kept ones is reused, not freed.
        let slot = if self.retired.len() > RETIRED_SLOTS {
            let mut slot = self.retired.pop_front().expect("non-empty");
            *slot.0 = msg;
            slot
        } else {
            Slot(Box::new(msg))
        };
        let transfer =
            Transfer { generation: self.generations, done: false, queued: false, parked: false, paused: false, slot };
        if let Some(old) = self.transfers.insert(easy as usize, transfer) {
            // libcurl refuses an easy already added; were it not, its counts go and its slot is kept.
            self.forget(old);
        }
    }

    /// Forgets `easy`; its queued message, if any, is never delivered. Its
    /// slot stays readable for the next RETIRED_SLOTS removals.
    pub fn detach(&mut self, easy: *mut CURL) -> bool {
        let Some(t) = self.transfers.remove(&(easy as usize)) else { return false };
        self.forget(t);
        true
    }

    fn forget(&mut self, t: Transfer) {
        self.done -= t.done as usize;
        self.parked -= t.walked() as usize;
        self.queued -= t.queued as usize;
        self.retired.push_back(t.slot);
        if self.retired.len() > RETIRED_SLOTS + 1 {
            self.retired.pop_front();
        }
    }

    /// Records that `easy` finished with `result` and queues its message.
    /// False when `easy` is not attached here or already finished.
    pub fn complete(&mut self, easy: *mut CURL, result: CURLcode) -> bool {
        let key = easy as usize;
        let Some(t) = self.transfers.get_mut(&key) else { return false };
        if t.done {
            return false;
        }
        self.parked -= t.walked() as usize;
        (t.parked, t.paused) = (false, false);
        t.done = true;
        t.queued = true;
        self.done += 1;
        self.queued += 1;
        let msg = &mut *t.slot.0;
        msg.msg = CURLMSG_DONE;
        // The union's CURLcode member overlays the low half of the pointer member.
        msg.data = result as usize as *mut libc::c_void;
        self.queue.push_back((key, t.generation));
        true
    }

    /// Takes the oldest queued message. The pointer stays valid until `easy`
    /// is detached and RETIRED_SLOTS more have been, or the books are cleared.
    pub fn pop(&mut self) -> Option<*mut CURLMsg> {
        while let Some((key, generation)) = self.queue.pop_front() {
            let Some(t) = self.transfers.get_mut(&key) else { continue };
            if t.generation != generation || !t.queued {
                continue;
            }
            t.queued = false;
            self.queued -= 1;
            return Some(&mut *t.slot.0 as *mut CURLMsg);
        }
        None
    }

    pub fn clear(&mut self) {
        *self = Books::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn easy(n: usize) -> *mut CURL {
        (n * 16) as *mut CURL
    }

    fn result_of(msg: *mut CURLMsg) -> (*mut CURL, CURLcode) {
        // SAFETY: the pointer comes from Books::pop and the books are alive.
        let m = unsafe { &*msg };
        (m.easy_handle, m.data as usize as CURLcode)
    }

    #[test]
    fn messages_keep_their_address_across_pops() {
        let mut b = Books::default();
        b.attach(easy(1));
        b.attach(easy(2));
        assert_eq!(b.running(), 2);
        assert!(b.complete(easy(1), 0));
        assert!(b.complete(easy(2), 7));
        assert!(!b.complete(easy(2), 7), "one message per transfer");
        assert_eq!((b.running(), b.queued()), (0, 2));
        let first = b.pop().unwrap();
        let second = b.pop().unwrap();
        assert_eq!(b.pop(), None);
        assert_eq!(result_of(first), (easy(1), 0));
        assert_eq!(result_of(second), (easy(2), 7));
    }

    #[test]
    fn detach_drops_the_queued_message_but_keeps_the_slot() {
        let mut b = Books::default();
        b.attach(easy(1));
        b.attach(easy(2));
        b.complete(easy(1), 0);
        b.complete(easy(2), 0);
        let seen = b.pop().unwrap();
        assert!(b.detach(easy(1)));
        assert!(b.detach(easy(2)));
        assert!(!b.detach(easy(2)));
        assert_eq!((b.queued(), b.attached()), (0, 0));
        assert_eq!(b.pop(), None, "easy 2's message went with it");
        assert_eq!(result_of(seen), (easy(1), 0), "a popped message outlives removal");
    }

    #[test]
    fn a_removed_easys_slot_outlives_the_next_removals() {
        let mut b = Books::default();
        b.attach(easy(1));
        b.complete(easy(1), 0);
        let first = b.pop().unwrap();
        b.detach(easy(1));
        for n in 2..RETIRED_SLOTS + 2 {
            b.attach(easy(n));
            b.complete(easy(n), 0);
            assert_ne!(b.pop().unwrap(), first, "slot reused after {} removals", n - 2);
            b.detach(easy(n));
        }
        assert_eq!(result_of(first), (easy(1), 0));
        b.attach(easy(0));
        b.complete(easy(0), 0);
        assert_eq!(b.pop().unwrap(), first, "the oldest retired slot is reused, not freed");
    }

    #[test]
    fn only_running_transfers_stay_parked() {
        let mut b = Books::default();
        b.attach(easy(1));
        b.attach(easy(2));
        b.park(easy(1));
        b.park(easy(1));
        b.park(easy(3));
        assert!(b.any_parked());
        b.unpark(easy(1));
        assert!(!b.any_parked(), "one unpark undoes any number of parks");
        b.park(easy(1));
        b.complete(easy(1), 0);
        assert!(!b.any_parked(), "a finished transfer is not parked");
        b.park(easy(1));
        assert!(!b.any_parked(), "nor parked again");
        b.park(easy(2));
        b.detach(easy(2));
        assert!(!b.any_parked(), "nor a removed one");
    }

    #[test]
    fn a_paused_transfer_stays_parked_until_unpaused() {
        let mut b = Books::default();
        b.attach(easy(1));
        b.set_paused(easy(1), true);
        b.park(easy(1));
        b.unpark(easy(1));
        assert!(b.any_parked(), "its socket wished again does not end the pause");
        b.set_paused(easy(1), false);
        assert!(!b.any_parked(), "unpaused");
        b.set_paused(easy(1), true);
        b.complete(easy(1), 0);
        assert!(!b.any_parked(), "finished");
        b.attach(easy(2));
        b.park(easy(2));
        b.set_paused(easy(2), false);
        assert!(!b.any_parked(), "unpausing ends a park too");
        b.set_paused(easy(2), true);
        b.detach(easy(2));
        assert!(!b.any_parked(), "removed");
    }

    #[test]
    fn readded_easy_gets_a_fresh_transfer() {
        let mut b = Books::default();
        b.attach(easy(1));
        b.complete(easy(1), 28);
        b.detach(easy(1));
        b.attach(easy(1));
        assert_eq!((b.running(), b.queued()), (1, 0));
        assert_eq!(b.pop(), None, "the old attachment's message is gone");
        b.complete(easy(1), 0);
        assert_eq!(result_of(b.pop().unwrap()), (easy(1), 0));
    }
}
