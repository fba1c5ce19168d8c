//! The books of one Multi: attached transfers and their completion messages.
//!
//! Owns: one `CURLMsg` slot per attached easy handle (libcurl keeps its
//! message inside the easy, so the pointer `info_read` returns must outlive
//! later `info_read` calls), the FIFO of queued messages, and the counts
//! `running_handles` and `msgs_in_queue` are read from. Every operation is
//! O(1) amortized. Must not call libcurl.

use std::collections::VecDeque;

use curl_sys::{CURL, CURLMSG_DONE, CURLMSG_NONE, CURLMsg, CURLcode};

use crate::addr::AddrMap;

/// Slots of removed easies kept alive for late readers of their message,
/// oldest freed first. libcurl's pointer lives as long as the easy handle.
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
}

#[derive(Default)]
pub struct Books {
    transfers: AddrMap<Transfer>,
    slots: AddrMap<Slot>,
    retired: VecDeque<usize>,
    /// How often each key stands in `retired` (an easy can be removed twice).
    retired_count: AddrMap<u32>,
    queue: VecDeque<(usize, u64)>,
    queued: usize,
    done: usize,
    generations: u64,
}

impl Books {
    pub fn attached(&self) -> usize {
        self.transfers.len()
    }

    /// The attached easy handles, in no particular order.
    pub fn easies(&self) -> impl Iterator<Item = *mut CURL> + '_ {
        self.transfers.keys().map(|&key| key as *mut CURL)
    }

    /// Transfers added and not yet finished.
    pub fn running(&self) -> usize {
        self.transfers.len() - self.done
    }

    /// Messages waiting for `info_read`.
    pub fn queued(&self) -> usize {
        self.queued
    }

    pub fn attach(&mut self, easy: *mut CURL) {
        let key = easy as usize;
        self.generations += 1;
        self.transfers.insert(key, Transfer { generation: self.generations, done: false, queued: false });
        self.slots.entry(key).or_insert_with(|| {
            Slot(Box::new(CURLMsg { msg: CURLMSG_NONE, easy_handle: easy, data: std::ptr::null_mut() }))
        });
    }

    /// Forgets `easy`; its queued message, if any, is never delivered. Its
    /// slot stays readable for a while (RETIRED_SLOTS).
    pub fn detach(&mut self, easy: *mut CURL) -> bool {
        let key = easy as usize;
        let Some(t) = self.transfers.remove(&key) else { return false };
        self.done -= t.done as usize;
        self.queued -= t.queued as usize;
        self.retired.push_back(key);
        *self.retired_count.entry(key).or_default() += 1;
        while self.retired.len() > RETIRED_SLOTS {
            let old = self.retired.pop_front().expect("non-empty");
            let count = self.retired_count.get_mut(&old).expect("counted when pushed");
            *count -= 1;
            if *count == 0 {
                self.retired_count.remove(&old);
                if !self.transfers.contains_key(&old) {
                    self.slots.remove(&old);
                }
            }
        }
        true
    }

    /// Records that `easy` finished with `result` and queues its message.
    /// False when `easy` is not attached here or already finished.
    pub fn complete(&mut self, easy: *mut CURL, result: CURLcode) -> bool {
        let key = easy as usize;
        let Some(t) = self.transfers.get_mut(&key) else { return false };
        if t.done {
            return false;
        }
        t.done = true;
        t.queued = true;
        self.done += 1;
        self.queued += 1;
        let slot = &mut self.slots.get_mut(&key).expect("attached easies have a slot").0;
        slot.msg = CURLMSG_DONE;
        slot.easy_handle = easy;
        // The union's CURLcode member overlays the low half of the pointer member.
        slot.data = result as usize as *mut libc::c_void;
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
            return self.slots.get_mut(&key).map(|slot| &mut *slot.0 as *mut CURLMsg);
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
