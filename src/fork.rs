//! Which process a Multi was made in.
//!
//! Owns: the count of forks this process descends from, bumped in the child
//! by a `pthread_atfork` handler. A Multi made before a fork shares its epoll
//! set, timerfd and eventfds, and libcurl's sockets, with the parent: in the
//! child it must touch none of them (multi/mod.rs). The handler runs in the
//! child of any fork, between fork and exec: it only stores.

use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

static GENERATION: AtomicU64 = AtomicU64::new(0);

extern "C" fn in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// This process's generation, counting from the process the first Multi
/// was made in; the first call registers the handler.
pub fn generation() -> u64 {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        crate::sync::unchecked(&GENERATION);
        // SAFETY: `in_child` is async-signal-safe (one atomic add) and curlmux
        // is never unloaded (it is linked or preloaded).
        unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
    });
    current()
}

/// The generation, without registering (for checks after `generation`).
pub fn current() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}
