//! `CURLMUX_DEBUG` tracing: one line per noteworthy event, to stderr.
//! Owns nothing else; the check is cached so a disabled trace costs one load.

use std::sync::OnceLock;

pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    crate::sync::unchecked(&ON); // a Once and a bool: atomics, for valgrind (sync.rs)
    *ON.get_or_init(|| std::env::var_os("CURLMUX_DEBUG").is_some_and(|v| !v.is_empty() && v != "0"))
}

/// `trace!("format", args…)` writes `curlmux: …` to stderr when `CURLMUX_DEBUG` is set.
macro_rules! trace {
    ($($arg:tt)*) => {
        if $crate::debug::enabled() {
            eprintln!("curlmux: {}", format_args!($($arg)*));
        }
    };
}
pub(crate) use trace;
