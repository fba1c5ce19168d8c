//! Which `CURLM *` values curlmux issued, and which libcurl multis are theirs.
//!
//! Owns: the only comparison of handle addresses in the crate. A handle curlmux
//! issues is a small token whose memory is never returned to the allocator,
//! so libcurl can never be handed the same address: a cleaned-up handle stays
//! recognisable (`CURLM_BAD_HANDLE`) without reading freed memory. Tokens are
//! reused only after QUARANTINE newer ones have been retired.
//! Must not know the API's rules.

use std::collections::VecDeque;
use std::sync::{Arc, LazyLock, RwLock};

use curl_sys::CURLM;

use crate::addr::{AddrMap, AddrSet};
use crate::multi::Multi;

/// Retired tokens kept unissued, so a stale handle is caught, not aliased.
const QUARANTINE: usize = 1024;

/// What a multi pointer is to curlmux.
pub enum Route {
    /// A handle curlmux issued and has not cleaned up.
    Curlmux(Arc<Multi>),
    /// The engine (libcurl multi) inside one of curlmux's handles.
    Engine(Arc<Multi>),
    /// A handle curlmux issued and has cleaned up.
    Retired,
    /// Not curlmux's: libcurl's own (curl_easy_perform's private multi) or garbage.
    Foreign,
}

#[derive(Default)]
struct Registry {
    live: AddrMap<Arc<Multi>>,
    engines: AddrMap<Arc<Multi>>,
    retired: AddrSet,
    free: VecDeque<usize>,
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(Default::default);

fn read() -> std::sync::RwLockReadGuard<'static, Registry> {
    REGISTRY.read().unwrap_or_else(|p| p.into_inner())
}

fn write() -> std::sync::RwLockWriteGuard<'static, Registry> {
    REGISTRY.write().unwrap_or_else(|p| p.into_inner())
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
    reg.engines.insert(multi.engine_handle() as usize, multi.clone());
    reg.live.insert(token, multi);
    token as *mut CURLM
}

pub fn route(handle: *mut CURLM) -> Route {
    let key = handle as usize;
    let reg = read();
    if let Some(m) = reg.live.get(&key) {
        Route::Curlmux(m.clone())
    } else if let Some(m) = reg.engines.get(&key) {
        Route::Engine(m.clone())
    } else if reg.retired.contains(&key) {
        Route::Retired
    } else {
        Route::Foreign
    }
}

/// Retires `handle` after its Multi was cleaned up.
pub fn retire(handle: *mut CURLM) {
    let key = handle as usize;
    let mut reg = write();
    if let Some(m) = reg.live.remove(&key) {
        reg.engines.remove(&(m.engine_handle() as usize));
        reg.retired.insert(key);
        reg.free.push_back(key);
    }
}
