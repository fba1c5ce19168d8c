//! What libcurl does differently from one version to another, where
//! curlmux or its tests must know: one named fact a behaviour, the versions
//! it holds for, and why (the curl commit or issue, where known).
//!
//! Owns: that table, and nothing else. The engine asks it of the bound
//! libcurl (engine/libcurl.rs); the C tests ask the same through
//! ctests/versions.h, which [`c_header`] writes from it (a unit test keeps
//! the committed one current); the test runners (ctests/*.rs) include this
//! file itself. A new libcurl is taught here, once.
//! Must not depend on anything: the runners include this file alone.

/// A behaviour of the libcurls from `since` up to, not including, `until`;
/// versions as `curl_version_info()->version_num` gives them (0x073d01 is
/// 7.61.1).
pub struct Fact {
    /// Its name in C, `libcurl_NAME()` in ctests/versions.h.
    pub name: &'static str,
    pub since: u32,
    pub until: u32,
    pub what: &'static str,
}

impl Fact {
    /// Whether it holds for libcurl `version`.
    pub const fn holds(&self, version: u32) -> bool {
        version >= self.since && version < self.until
    }
}

/// `until` for a behaviour no libcurl has left behind.
const STILL: u32 = u32::MAX;

pub const LOSES_TIMEOUTS: Fact = Fact {
    name: "loses_timeouts",
    since: 0,
    until: 0x07_40_00,
    what: "A transfer's TIMEOUT or CONNECTTIMEOUT timer may fire before libcurl itself counts the time as up, and is then gone (fixed in 7.64, curl 6f61933adf).",
};

pub const PIPEWAIT_WAITS: Fact = Fact {
    name: "pipewait_waits",
    since: 0x07_3e_00,
    until: STILL,
    what: "CURLOPT_PIPEWAIT holds a transfer until the first connection says whether it multiplexes (7.62; 7.61 opens one to three connections for 40 streams, and more when driven by socket_action).",
};

pub const REFUSES_NEGATIVE_WAIT: Fact = Fact {
    name: "refuses_negative_wait",
    since: 0x07_45_00,
    until: STILL,
    what: "curl_multi_wait refuses a negative timeout (7.69; before, it waits without a limit of its own).",
};

pub const CHECKS_REMOVE_OWNER: Fact = Fact {
    name: "checks_remove_owner",
    since: 0x07_46_00,
    until: STILL,
    what: "curl_multi_remove_handle refuses an easy attached to another multi (7.70; before, it answers OK and unlinks the easy from the wrong multi's list).",
};

pub const WALK_DROPS_WAKEUPS: Fact = Fact {
    name: "walk_drops_wakeups",
    since: 0x07_49_00,
    until: 0x08_12_00,
    what: "The walk (curl_multi_perform, curl_multi_socket_all) runs every transfer with one clock that moves on when a transfer starts, leaves the pending queue or follows a redirect, then discards every timer due by it, also one set during the walk for a transfer it already ran; before 8.15 a wake-up is such a timer (since, a dirty mark): a DoH parent whose probes answered later in the walk waits for its own timeout (7.73, curl a2c85bb8e4, to 8.17; 8.18 discards only what was due when the walk began, 2de22a00c7).",
};

pub const FREED_RESPONSE_TO_NEXT: Fact = Fact {
    name: "freed_response_to_next",
    since: 0x07_4b_00,
    until: 0x08_0f_00,
    what: "curl_easy_cleanup of an attached easy detaches its connection before removing the easy, and puts it back in the cache with the response still coming: the next transfer on it reads that response (7.75 to 8.14, curl 66d35ee5d4; curl issue 17578).",
};

pub const GUARDS_CALLBACKS: Fact = Fact {
    name: "guards_callbacks",
    since: 0x07_52_00,
    until: STILL,
    what: "Adds and removes from inside the socket and timer callbacks are refused with CURLM_RECURSIVE_API_CALL (7.82; 7.61 lets a write or timer callback remove the easy it drives, or perform, wait and clean up, and then crashes).",
};

pub const H2C_MULTIPLEXES: Fact = Fact {
    name: "h2c_multiplexes",
    since: 0x08_00_00,
    until: STILL,
    what: "A second stream on an h2c (prior knowledge) connection works (8.0; 7.88.1 fails every stream after the first on a reused h2c connection with CURLE_HTTP2, against any server).",
};

pub const HAS_GET_HANDLES: Fact =
    Fact { name: "has_get_handles", since: 0x08_04_00, until: STILL, what: "curl_multi_get_handles (8.4)." };

pub const DROPS_NEAR_TIMERS: Fact = Fact {
    name: "drops_near_timers",
    since: 0,
    until: 0x08_04_00,
    what: "Running a transfer for one timer, libcurl drops its other timers due within the next millisecond as passed (whole milliseconds; fixed in 8.4, curl 579f09343d).",
};

pub const MISREADS_LAST_POLL: Fact = Fact {
    name: "misreads_last_poll",
    since: 0x08_0a_00,
    until: 0x08_0d_00,
    what: "curl_multi_fdset, _waitfds, _wait and _poll overwrite the record of each transfer's sockets that socket_action relies on (last_poll, gone with 8.13's event rework, curl cfc657a48d): after a walk, transfers sharing a connection are forgotten; and a paused transfer's socket wish does not show the pause reliably (8.10 to 8.12).",
};

pub const ASSIGN_CHECKS_HANDLE: Fact = Fact {
    name: "assign_checks_handle",
    since: 0x08_0b_00,
    until: STILL,
    what: "curl_multi_assign checks its handle before reading it: NULL is CURLM_BAD_HANDLE (8.11; before, a crash).",
};

pub const NETWORK_CHANGED_BITS: Fact = Fact {
    name: "network_changed_bits",
    since: 0x08_14_00,
    until: STILL,
    what: "CURLMNWC_CLEAR_ALL is bit 0 and CLEAR_CONNS bit 1 (8.20; 8.16 to 8.19 had CLEAR_CONNS at bit 0).",
};

pub const WAIT_TAKES_WAKEUPS: Fact = Fact {
    name: "wait_takes_wakeups",
    since: 0x08_14_00,
    until: STILL,
    what: "curl_multi_wait takes a pending curl_multi_wakeup whenever it has anything to wait on, a transfer alive included (8.20, curl 9bc8b078eb and dc9a03e855; the documentation still says wakeups do not touch it).",
};

pub const PERFORM_TAKES_WAKEUPS: Fact = Fact {
    name: "perform_takes_wakeups",
    since: 0x08_15_00,
    until: 0x08_16_00,
    what: "curl_multi_perform takes a pending wakeup, so the next curl_multi_poll sleeps (8.21 only: curl issue 22272, 2a2104f3cf; fixed in 8.22, 009fd378e8).",
};

pub const CALL_GUARDS: Fact = Fact {
    name: "call_guards",
    since: 0x08_16_00,
    until: STILL,
    what: "8.22's call guards (curl dfc01ea2a3): an easy freed inside a callback of its multi stays, its transfer running on; a multi inside a call refuses another; curl_multi_socket_action checks its handle before reading it; easy cleanup, DoH and server push no longer call the public add and remove functions.",
};

pub const DELIVERS_PUSHES: Fact = Fact {
    name: "delivers_pushes",
    since: 0x08_16_00,
    until: STILL,
    what: "A pushed transfer's body arrives whole (8.22; 8.12 to 8.21 accept pushes whose transfers then fail: 8.12 with CURLE_RECV_ERROR, later ones time out).",
};

/// Every fact, for ctests/versions.h.
pub const ALL: [&Fact; 17] = [
    &LOSES_TIMEOUTS,
    &PIPEWAIT_WAITS,
    &REFUSES_NEGATIVE_WAIT,
    &CHECKS_REMOVE_OWNER,
    &WALK_DROPS_WAKEUPS,
    &FREED_RESPONSE_TO_NEXT,
    &GUARDS_CALLBACKS,
    &H2C_MULTIPLEXES,
    &HAS_GET_HANDLES,
    &DROPS_NEAR_TIMERS,
    &MISREADS_LAST_POLL,
    &ASSIGN_CHECKS_HANDLE,
    &NETWORK_CHANGED_BITS,
    &WAIT_TAKES_WAKEUPS,
    &PERFORM_TAKES_WAKEUPS,
    &CALL_GUARDS,
    &DELIVERS_PUSHES,
];

/// The version number of "8.12.1" (0x080c01); a flavour's suffix
/// ("7.88.1-gnutls") is left out.
pub fn parse(label: &str) -> Option<u32> {
    let numbers = label.split('-').next()?;
    let mut parts = numbers.split('.').map(|p| p.parse::<u32>().ok());
    let (major, minor, patch) = (parts.next()??, parts.next()??, parts.next().flatten().unwrap_or(0));
    Some(major << 16 | minor << 8 | patch)
}

/// ctests/versions.h: each fact as `libcurl_NAME()`, asked of the libcurl
/// the test program runs on.
pub fn c_header() -> String {
    let mut text = String::from(
        "/* Generated from src/versions.rs (a unit test keeps it current): what\n \
         * libcurl does differently from one version to another, each asked of the\n \
         * libcurl the program runs on. Do not edit. */\n\
         #ifndef CURLMUX_TEST_VERSIONS_H\n#define CURLMUX_TEST_VERSIONS_H\n\n#include <curl/curl.h>\n\n\
         static inline unsigned libcurl_version(void)\n{\n  return curl_version_info(CURLVERSION_NOW)->version_num;\n}\n",
    );
    for fact in ALL {
        let mut test = Vec::new();
        if fact.since > 0 {
            test.push(format!("libcurl_version() >= 0x{:06x}", fact.since));
        }
        if fact.until != STILL {
            test.push(format!("libcurl_version() < 0x{:06x}", fact.until));
        }
        text.push_str(&format!(
            "\n/* {} */\nstatic inline int libcurl_{}(void)\n{{\n  return {};\n}}\n",
            wrap(fact.what),
            fact.name,
            test.join(" && ")
        ));
    }
    text.push_str("\n#endif\n");
    text
}

/// A comment's text wrapped at 78 columns.
fn wrap(text: &str) -> String {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.len() + 1 + word.len() > 74 {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n   ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_as_version_numbers() {
        assert_eq!(parse("7.61.1"), Some(0x07_3d_01));
        assert_eq!(parse("7.88.1-gnutls"), Some(0x07_58_01));
        assert_eq!(parse("8.23.0"), Some(0x08_17_00));
        assert_eq!(parse("wheels"), None);
        assert!(CALL_GUARDS.holds(parse("8.22.0").unwrap()) && !CALL_GUARDS.holds(parse("8.21.0").unwrap()));
        assert!(PERFORM_TAKES_WAKEUPS.holds(parse("8.21.0").unwrap()));
        assert!(
            !PERFORM_TAKES_WAKEUPS.holds(parse("8.22.0").unwrap())
                && !PERFORM_TAKES_WAKEUPS.holds(parse("8.20.0").unwrap())
        );
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = ALL.iter().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }

    /// The committed ctests/versions.h is the one this table writes.
    #[test]
    fn the_c_tests_header_is_current() {
        let committed = include_str!("../ctests/versions.h");
        assert!(
            committed == c_header(),
            "ctests/versions.h differs from src/versions.rs; write it anew:\n  \
             cargo test --release --lib versions::tests::write_the_c_tests_header -- --ignored"
        );
    }

    /// Writes ctests/versions.h from the table.
    #[test]
    #[ignore]
    fn write_the_c_tests_header() {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/ctests/versions.h"), c_header()).unwrap();
    }
}
