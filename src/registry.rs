//! Which `CURLM *` values curlmux issued.
//!
//! Owns: the only comparison of handle addresses in the crate. A handle curlmux
//! issues is a small token whose memory is never returned to the allocator,
//! so libcurl can never be handed the same address: a cleaned-up handle stays
//! recognisable (`CURLM_BAD_HANDLE`) without reading freed memory. Tokens are
//! reused only after QUARANTINE newer ones have been retired. The maps are
//! B-trees, not hash tables: a hash table's allocation is known only by a
//! pointer into its middle, which valgrind counts as "possibly lost" at
//! exit, and a program valgrind-clean on stock must stay so.
//! Must not know the API's rules.
//!
//! Locking: one `RwLock`, held only to read or change the maps, never
//! across a call into a Multi, libcurl or the application. A Multi's
//! callbacks call back into the exports, which route through here: a reader
//! that called out while holding the lock could meet itself behind a waiting
//! writer (`curl_multi_init` on another thread) and never return.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use curl_sys::CURLM;

use crate::multi::Multi;
use crate::sync::{ReadGuard, RwLock, WriteGuard};

/// Retired tokens kept unissued, so a stale handle is caught, not aliased.
const QUARANTINE: usize = 1024;

/// What a multi pointer is to curlmux.
pub enum Route {
    /// A handle curlmux issued and has not cleaned up.
    Curlmux(Arc<Multi>),
    /// A handle curlmux issued and has cleaned up.
    Retired,
    /// Not curlmux's: libcurl's own (curl_easy_perform's private multi, the
    /// engine inside one of curlmux's multis when libcurl calls itself
    /// through its PLT) or garbage.
    Foreign,
}

struct Registry {
    live: BTreeMap<usize, Arc<Multi>>,
    retired: BTreeSet<usize>,
    free: VecDeque<usize>,
}

static REGISTRY: RwLock<Registry> =
    RwLock::new(Registry { live: BTreeMap::new(), retired: BTreeSet::new(), free: VecDeque::new() });

fn read() -> ReadGuard<'static, Registry> {
    REGISTRY.read()
}

fn write() -> WriteGuard<'static, Registry> {
    REGISTRY.write()
}

/// Issues a new handle for `multi`.
pub fn issue(multi: Arc<Multi>) -> *mut CURLM {
    let mut reg = write();
    let token = if reg.free.len() > QUARANTINE {
        let token = reg.free.pop_front().expect("non-empty");
        reg.retired.remove(&token);
        token
    } else {
        // Never freed: this address stays curlmux's for the life of the process.
        Box::leak(Box::new(0u64)) as *mut u64 as usize
    };
    multi.set_handle(token as *mut CURLM);
    reg.live.insert(token, multi);
    token as *mut CURLM
}

pub fn route(handle: *mut CURLM) -> Route {
    let key = handle as usize;
    let reg = read();
    if let Some(m) = reg.live.get(&key) {
        Route::Curlmux(m.clone())
    } else if reg.retired.contains(&key) {
        Route::Retired
    } else {
        Route::Foreign
    }
}

/// Retires `handle` after its Multi was cleaned up.
pub fn retire(handle: *mut CURLM) {
    let key = handle as usize;
    let retired = {
        let mut reg = write();
        let retired = reg.live.remove(&key);
        if retired.is_some() {
            reg.retired.insert(key);
            reg.free.push_back(key);
        }
        retired
    };
    // Dropped unlocked: the last reference's drop may close the engine.
    drop(retired);
}

/// Calls `f` on every multi curlmux issued and has not cleaned up, one at a
/// time, the lock released around each call: what `f` does may call into
/// libcurl, and through it the application's callbacks and the exports. A
/// multi issued or retired meanwhile may be seen or not. `f` answers
/// whether to go on.
pub fn each_live(mut f: impl FnMut(&Multi) -> bool) {
    use std::ops::Bound::{Excluded, Unbounded};
    let mut after = None;
    loop {
        let next = {
            let reg = read();
            let mut rest = match after {
                None => reg.live.range(..),
                Some(key) => reg.live.range((Excluded(key), Unbounded)),
            };
            rest.next().map(|(&key, m)| (key, m.clone()))
        };
        let Some((key, multi)) = next else { return };
        let go_on = f(&multi);
        // This reference may be the last: what `f` did happens before the
        // Multi's drop, on whichever thread (sync.rs).
        crate::sync::happens_before(&*multi);
        if !go_on {
            return;
        }
        after = Some(key);
    }
}
