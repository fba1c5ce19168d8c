//! Runs the C tests of this folder against every libcurl of the matrix,
//! stock and with curlmux bound to it.
//!
//! The matrix is what `.ci/libcurls` set up (Debian's two 7.88.1 flavours and
//! the libcurls inside PyPI's pycurl wheels, 7.61.1 to 8.23.0), one folder per
//! libcurl; `CURLMUX_TEST_LIBCURL=8.23.0,7.61.1` narrows it to those labels.
//! Each `ctests/NAME.c` is compiled with `cc` twice (against Debian's headers):
//! against libcurl alone, and linked `-lcurlmux -lcurl`. For each libcurl it
//! then runs three ways, that libcurl first on the library path: stock,
//! linked, and the stock binary with libcurlmux.so in `LD_PRELOAD`. All three
//! must pass and print the same stdout: each libcurl is its own oracle. A
//! test whose answers differ between libcurl versions prints the version's
//! answer explicitly. A test whose first line says `stock: must-fail` tests a
//! curlmux-only capability: its stock run must fail, which proves the test
//! can fail. `stock: skip` marks tests of what libcurl leaves undefined. The
//! local server (`curlmux serve`) is started once and stops when this
//! process exits.
//!
//! API answers, misuse, lifetimes, push and HTTP/3 run on the whole matrix;
//! the tests of scale, timing and faults (thousands of sockets, deadlines,
//! resets, threads, the walk) on [`SUBSET`]; QUIC's deadlines on [`HTTP3`];
//! valgrind on 7.61.1, 7.88.1, 8.12.1 and 8.23.0 (`valgrind!` below).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use common::versions::{self, Fact};
use common::{Libcurl, Server, describe};

const RUN_LIMIT: Duration = Duration::from_secs(240);
/// The oldest libcurl users run (RHEL 8), Debian 12's, the oldest 8.x
/// wheel, and the newest.
const SUBSET: [&str; 4] = ["7.61.1", "7.88.1", "8.12.1", "8.23.0"];
/// The libcurls of the matrix with HTTP/3 (ngtcp2 + nghttp3): the tests of
/// QUIC's own deadlines run there, and check that it has (http3.c prints,
/// on every libcurl, whether it has).
const HTTP3: [&str; 2] = ["8.22.0", "8.23.0"];

/// Where a libcurl's own answer is a crash, a corrupted multi or another
/// transfer's data, curlmux answers as the later libcurl that fixed it
/// (7.82's callback rules, 8.15's cleanup, 8.22's call guards), or as the
/// earlier one that got it right, and that libcurl cannot be the oracle: its
/// stock run must fail or print something else (so the entry goes stale,
/// and fails, once they agree). Test, on the libcurls where a fact of
/// src/versions.rs holds (true) or does not (false), why.
const NO_ORACLE: [(&str, &Fact, bool, &str); 5] = [
    (
        "misuse",
        &versions::GUARDS_CALLBACKS,
        false,
        "a write callback may remove its own easy and clean up the multi, and then libcurl crashes",
    ),
    (
        "callback_misuse",
        &versions::GUARDS_CALLBACKS,
        false,
        "timer and write callbacks may perform, wait and clean up: libcurl re-enters itself",
    ),
    (
        "wakeup_through_perform",
        &versions::PERFORM_TAKES_WAKEUPS,
        true,
        "perform takes a pending wakeup (curl #22272, fixed in 8.22)",
    ),
    (
        "freed_mid_response",
        &versions::FREED_RESPONSE_TO_NEXT,
        true,
        "the freed easy's response goes to the next transfer (curl 66d35ee5d4)",
    ),
    (
        "freed_in_callback",
        &versions::CALL_GUARDS,
        false,
        "an easy freed inside a callback is freed while libcurl drives it: a crash, a failed perform or a transfer never finished",
    ),
];

/// Whether `name` has no stock oracle on `libcurl`, and why.
fn no_oracle(name: &str, libcurl: &Libcurl) -> Option<&'static str> {
    NO_ORACLE.iter().find(|(t, fact, holds, _)| *t == name && libcurl.has(fact) == *holds).map(|entry| entry.3)
}

struct Setup {
    /// target/<profile>/, where libcurlmux.so is.
    lib_dir: PathBuf,
    server: Server,
    closed_port: u16,
    matrix: Vec<Libcurl>,
}

fn source_dir() -> PathBuf {
    common::repo().join("ctests")
}

fn build_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ctests");
    std::fs::create_dir_all(&dir).expect("create build dir");
    dir
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| Setup {
        lib_dir: common::lib_dir(),
        server: common::start_server(None),
        closed_port: common::closed_port(),
        matrix: common::matrix(),
    })
}

/// The libcurls of the matrix whose label is in `only` (all for None).
fn libcurls(only: Option<&[&str]>) -> impl Iterator<Item = &'static Libcurl> {
    setup().matrix.iter().filter(move |l| only.is_none_or(|o| o.contains(&l.label.as_str())))
}

/// How the stock run of a test is judged, from the test's first line.
#[derive(PartialEq, Debug)]
enum Stock {
    Same,
    MustFail,
    Skip,
    /// "stock: needs curl_multi_x": the same answers where libcurl defines
    /// that function, a failure where it lacks it (which proves the test
    /// can fail there).
    Needs(String),
}

fn stock_policy(source: &str) -> Stock {
    let first = source.lines().next().unwrap_or("");
    if first.contains("stock: must-fail") {
        Stock::MustFail
    } else if first.contains("stock: skip") {
        Stock::Skip
    } else if let Some(rest) = first.split("stock: needs ").nth(1) {
        Stock::Needs(rest.split_whitespace().next().unwrap_or_default().to_string())
    } else {
        Stock::Same
    }
}

/// Compiles `name.c` for libcurls linked with `link`, with curlmux or not.
fn cc(name: &str, suffix: &str, link: &str, curlmux: bool) -> PathBuf {
    cc_with(name, suffix, link, curlmux.then(|| setup().lib_dir.as_path()))
}

/// Compiles `name.c` for libcurls linked with `link`, linked to the
/// libcurlmux.so in `curlmux` if given.
fn cc_with(name: &str, suffix: &str, link: &str, curlmux: Option<&Path>) -> PathBuf {
    let source = source_dir().join(format!("{name}.c"));
    let out = build_dir().join(format!("{name}.{}.{suffix}", common::flavour(link)));
    let mut cmd = Command::new("cc");
    cmd.args(["-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pthread"])
        .arg("-I")
        .arg(source_dir())
        .arg("-I")
        .arg(common::repo().join("include"))
        .arg("-o")
        .arg(&out)
        .arg(&source);
    if let Some(lib_dir) = curlmux {
        cmd.arg(format!("-L{}", lib_dir.display())).arg(format!("-Wl,-rpath,{}", lib_dir.display())).arg("-lcurlmux");
    }
    cmd.args(link.split_whitespace()).arg("-ldl");
    let status = cmd.status().expect("run cc");
    assert!(status.success(), "cc failed for {} (is libcurl4-openssl-dev installed?)", source.display());
    out
}

/// Runs `bin` on `libcurl`, as `curlmux` says: against curlmux (linked or
/// preloaded) or not.
fn run(bin: &Path, libcurl: &Libcurl, curlmux: bool, preload: bool) -> Output {
    let mut cmd = Command::new(bin);
    test_env(&mut cmd, libcurl, curlmux);
    if preload {
        cmd.env("LD_PRELOAD", setup().lib_dir.join("libcurlmux.so"));
    }
    common::run_limited(cmd, RUN_LIMIT)
}

/// What every C test reads from its environment, and the libcurl it loads.
fn test_env(cmd: &mut Command, libcurl: &Libcurl, curlmux: bool) {
    let setup = setup();
    cmd.env("CURLMUX_TEST_URL", &setup.server.url)
        .env("CURLMUX_TEST_TLS_URL", &setup.server.tls_url)
        .env("CURLMUX_TEST_PUSH_URL", &setup.server.push_url)
        .env("CURLMUX_TEST_H3_URL", &setup.server.h3_url)
        .env("CURLMUX_TEST_QUIET_URL", &setup.server.quiet_url)
        .env("CURLMUX_TEST_CA", &setup.server.ca)
        .env("CURLMUX_TEST_CLOSED_PORT", setup.closed_port.to_string())
        .env("EXPECT_CURLMUX", if curlmux { "1" } else { "0" })
        .env("LD_LIBRARY_PATH", &libcurl.lib)
        .env_remove("LD_PRELOAD")
        .env_remove("CURLMUX_LIBCURL")
        .env_remove("CURLMUX_DEBUG")
        .env_remove("CURLMUX_TEST_VALGRIND");
}

/// A test's two programs for libcurls linked one way.
struct Programs {
    stock: PathBuf,
    linked: PathBuf,
}

/// Compiles `name` once per way of linking among `libcurls`.
fn programs(name: &str, libcurls: &[&Libcurl]) -> std::collections::HashMap<String, Programs> {
    let mut built = std::collections::HashMap::new();
    for l in libcurls {
        built.entry(l.link.clone()).or_insert_with(|| Programs {
            stock: cc(name, "stock", &l.link, false),
            linked: cc(name, "linked", &l.link, true),
        });
    }
    built
}

/// Runs one test three ways on one libcurl; Err says how it failed, its
/// first line naming the test, the libcurl, the way and what failed.
fn ctest_on(name: &str, bins: &Programs, policy: &Stock, libcurl: &Libcurl) -> Result<(), String> {
    let (stock_bin, linked_bin) = (&bins.stock, &bins.linked);
    let way = |w: &str| format!("{name} on libcurl {}, {w}", libcurl.label);
    let linked = run(linked_bin, libcurl, true, false);
    if !linked.status.success() {
        return Err(describe(&way("linked"), &linked));
    }
    let preloaded = run(stock_bin, libcurl, true, true);
    if !preloaded.status.success() {
        return Err(describe(&way("preloaded"), &preloaded));
    }
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let disagree = |a: (&str, &Output), b: (&str, &Output), what: String| {
        format!(
            "FAILED {name} on libcurl {}: {what}, at {}\n{}\n{}",
            libcurl.label,
            common::first_difference(&text(a.1), &text(b.1)),
            describe(a.0, a.1),
            describe(b.0, b.1)
        )
    };
    if text(&linked) != text(&preloaded) {
        return Err(disagree(("linked", &linked), ("preloaded", &preloaded), "linked and preloaded disagree".into()));
    }
    let stock = run(stock_bin, libcurl, false, false);
    // What curlmux provides beyond this libcurl has no stock answer.
    let comparable = |o: &Output| -> String {
        text(o).lines().filter(|l| libcurl.has_newer || !l.starts_with("newer: ")).map(|l| format!("{l}\n")).collect()
    };
    if let Some(why) = no_oracle(name, libcurl) {
        return if stock.status.success() && text(&stock) == comparable(&linked) {
            Err(format!(
                "FAILED {name} on libcurl {}: stock now agrees with curlmux ({why}): drop it from NO_ORACLE",
                libcurl.label
            ))
        } else {
            Ok(())
        };
    }
    let policy = match policy {
        Stock::Needs(f) if common::defines(&libcurl.lib.join("libcurl.so.4"), &[f]) => &Stock::Same,
        Stock::Needs(_) => &Stock::MustFail,
        other => other,
    };
    match policy {
        Stock::Skip => Ok(()),
        Stock::MustFail if stock.status.success() => Err(format!(
            "FAILED {name} on libcurl {}, stock: it was expected to fail (the test can fail)\n{}",
            libcurl.label,
            describe("stock", &stock)
        )),
        Stock::MustFail => Ok(()),
        Stock::Same if !stock.status.success() => Err(describe(&way("stock"), &stock)),
        Stock::Same if text(&stock) != comparable(&linked) => {
            let stock_text = Output { stdout: text(&stock).into_bytes(), ..stock.clone() };
            let linked_text = Output { stdout: comparable(&linked).into_bytes(), ..linked.clone() };
            Err(disagree(("stock", &stock_text), ("linked", &linked_text), "curlmux and stock libcurl disagree".into()))
        }
        Stock::Same => Ok(()),
        Stock::Needs(_) => unreachable!("settled above"),
    }
}

/// `f` on each item, two at a time, results in order: a C test waits on
/// the server and on timers far more than it computes (the suite used 60%
/// of one core of two when each test ran its programs one by one).
fn two_at_a_time<I: Sync, T: Send>(items: &[I], f: impl Fn(&I) -> T + Sync) -> Vec<T> {
    std::thread::scope(|s| {
        let f = &f;
        let mut out = Vec::with_capacity(items.len());
        for pair in items.chunks(2) {
            let running: Vec<_> = pair.iter().map(|i| s.spawn(move || f(i))).collect();
            out.extend(running.into_iter().map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p))));
        }
        out
    })
}

/// Runs `name` on every libcurl of `only` (all for None); reports every
/// libcurl it failed on.
fn ctest(name: &str, only: Option<&[&str]>) {
    let source = std::fs::read_to_string(source_dir().join(format!("{name}.c"))).expect("read test source");
    let policy = stock_policy(&source);
    let on: Vec<&Libcurl> = libcurls(only).collect();
    assert!(!on.is_empty(), "{name}: no libcurl of the matrix to run on");
    let bins = programs(name, &on);
    let failures: Vec<String> =
        two_at_a_time(&on, |l| ctest_on(name, &bins[&l.link], &policy, l).err()).into_iter().flatten().collect();
    let labels: Vec<&str> = on.iter().map(|l| l.label.as_str()).collect();
    assert!(
        failures.is_empty(),
        "{name} failed on {} of {labels:?}:\n{}\n\n{}",
        failures.len(),
        failures.iter().filter_map(|f| f.lines().next()).collect::<Vec<_>>().join("\n"),
        failures.join("\n")
    );
}

macro_rules! ctests {
    (matrix: [$($all:ident),* $(,)?], subset: [$($some:ident),* $(,)?], http3: [$($quic:ident),* $(,)?] $(,)?) => {
        $( #[test] fn $all() { ctest(stringify!($all), None); } )*
        $( #[test] fn $some() { ctest(stringify!($some), Some(&SUBSET)); } )*
        $( #[test] fn $quic() { ctest(stringify!($quic), Some(&HTTP3)); } )*

        /// The tests that run only where libcurl has HTTP/3.
        const HTTP3_ONLY: &[&str] = &[$(stringify!($quic)),*];

        /// Every .c file of ctests/ is a test listed above (but the two the
        /// header tests build).
        #[test]
        fn every_c_file_is_run() {
            let listed = [$(stringify!($all)),*, $(stringify!($some)),*, $(stringify!($quic)),*];
            for entry in std::fs::read_dir(source_dir()).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() && path.extension().is_some_and(|e| e == "c") {
                    let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
                    let header_test = ["header_compat", "newer_constants"].contains(&stem.as_str());
                    assert!(header_test || listed.contains(&stem.as_str()), "{stem}.c is not run");
                }
            }
        }
    };
}

ctests!(
    matrix: [
        seed_fdset_select,
        seed_curlmux_select,
        wait_loop,
        poll_wakeup,
        wakeup_through_perform,
        handles_in_callbacks,
        freed_in_callback,
        freed_in_notify,
        misuse,
        stale_handle,
        info_read_lifetime,
        easy_api,
        options,
        bind_failure,
        push,
        newer_api,
        panic_boundary,
        callback_misuse,
        fdset_runs_nothing,
        resolver,
        notify,
        tool_parallel,
        nothing_to_wait,
        fork,
        fork_inherited,
        freed_mid_response,
        pause_progress,
        switch_loops,
        threads_churn,
        threads_feed,
        threads_race,
        http3,
    ],
    subset: [
        select_deadline,
        https_loops,
        http2,
        limits_timeouts,
        faults,
        many_transfers,
        fdset_3000,
        fdset_few_high,
        event_loop_1000,
        threads_shared,
        threads_per_thread,
        busy_then_crowd,
        running_out,
        near_timers,
        doh_after_walk,
    ],
    http3: [h3_deadlines],
);

/// busy_then_crowd does what it is there for under curlmux: each loop is
/// driven by libcurl's walk while the window is busy, and by socket_action
/// again when the crowd arrives (CURLMUX_DEBUG traces each switch) — except
/// where the walk is not allowed (`LibCurl::can_walk`): without
/// curl_multi_poll to wait in (7.61), and where libcurl's waits break the
/// socket bookkeeping socket_action needs afterwards (8.10 to 8.12).
#[test]
fn walk_engages_and_leaves_where_libcurl_allows() {
    for libcurl in libcurls(Some(&SUBSET)) {
        let walks = libcurl.has_newer && !libcurl.has(&versions::MISREADS_LAST_POLL);
        let bin = cc("busy_then_crowd", "traced", &libcurl.link, true);
        let mut cmd = Command::new(&bin);
        test_env(&mut cmd, libcurl, true);
        cmd.env("CURLMUX_DEBUG", "1");
        let out = common::run_limited(cmd, RUN_LIMIT);
        assert!(out.status.success(), "{}", describe(&format!("traced on {}", libcurl.label), &out));
        let trace = String::from_utf8_lossy(&out.stderr);
        let on = trace.matches("curlmux: walk: on").count();
        let off = trace.matches("curlmux: walk: off").count();
        // Timing decides how often; twice in three loops each way leaves room for a slow machine.
        let as_expected = if walks { on >= 2 && off >= 2 } else { on == 0 && off == 0 };
        assert!(
            as_expected,
            "{}: walk switched on {on} and off {off} times in three loops (expected: {}):\n{trace}",
            libcurl.label,
            if walks { "at least twice each" } else { "never" }
        );
    }
}

/// The header agrees with <curl/curl.h> on every prototype, in C and in C++.
#[test]
fn header_compiles_with_curl_h_as_c_and_cxx() {
    let include = common::repo().join("include");
    let source = source_dir().join("header_compat.c");
    let out = build_dir().join("header_compat.o");
    let newer = newer_curl_headers();
    for curl_h in [None, Some(&newer)] {
        for (compiler, args) in [
            ("cc", &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wno-deprecated-declarations", "-c"][..]),
            ("c++", &["-x", "c++", "-Wall", "-Werror", "-Wno-deprecated-declarations", "-c"][..]),
        ] {
            let mut cmd = Command::new(compiler);
            cmd.args(args);
            if let Some(dir) = curl_h {
                cmd.arg("-I").arg(dir);
            }
            let status = cmd.arg("-I").arg(&include).arg(&source).arg("-o").arg(&out).status().expect("run compiler");
            let which = curl_h.map_or("Debian's".to_string(), |d| d.display().to_string());
            assert!(status.success(), "{compiler} rejects include/curlmux.h next to {which} <curl/curl.h>");
        }
    }
}

/// The constants curlmux.h supplies for an older <curl/curl.h> have the
/// values a newer one gives them.
#[test]
fn header_supplies_newer_constants_with_libcurls_values() {
    let include = common::repo().join("include");
    let newer = newer_curl_headers();
    let printed: Vec<String> = [None, Some(&newer)]
        .into_iter()
        .enumerate()
        .map(|(i, curl_h)| {
            let program = build_dir().join(format!("newer_constants_{i}"));
            let mut cc = Command::new("cc");
            if let Some(dir) = curl_h {
                cc.arg("-I").arg(dir);
            }
            cc.arg("-I").arg(&include).arg(source_dir().join("newer_constants.c")).arg("-o").arg(&program);
            assert!(cc.status().expect("run cc").success(), "newer_constants.c does not build ({i})");
            let out = Command::new(&program).output().expect("run newer_constants");
            assert!(out.status.success());
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .collect();
    assert_eq!(printed[0].lines().count(), 15, "{}", printed[0]);
    assert_eq!(printed[0], printed[1], "curlmux.h's constants (left) differ from newer libcurl's (right)");
}

/// The <curl/*.h> of the libcurl that curl-sys (a dependency already)
/// bundles, newer than Debian's (8.22's with curl-sys 0.4.91): one that
/// declares all that curlmux provides, up to 8.20's CURLMOPT_QUICK_EXIT.
fn newer_curl_headers() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(common::repo().join("Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    let meta = String::from_utf8_lossy(&out.stdout);
    let manifest = meta
        .split("\"manifest_path\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|p| p.contains("/curl-sys-"))
        .expect("curl-sys among the packages");
    let include = Path::new(manifest).parent().unwrap().join("curl/include");
    let multi_h = std::fs::read_to_string(include.join("curl/multi.h")).expect("curl-sys bundles curl's headers");
    assert!(multi_h.contains("CURLMOPT_QUICK_EXIT"), "curl-sys's <curl/multi.h> is older than 8.20");
    include
}

/// Every exported symbol is declared in the header and the reverse
/// (curl_multi_setopt is declared by <curl/multi.h>): the multi API,
/// curlmux_*, curl_easy_cleanup and curl_easy_pause, each unversioned, and
/// nothing else. The library has its soname and links no libcurl.
#[test]
fn header_matches_exports_and_no_libcurl_is_linked() {
    let lib = setup().lib_dir.join("libcurlmux.so");
    let nm = Command::new("nm").args(["-D", "--defined-only"]).arg(&lib).output().expect("run nm");
    let mut exported: Vec<String> = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect();
    exported.sort();
    // An unversioned name interposes either libcurl flavour's versioned one (CURL_OPENSSL_4, CURL_GNUTLS_3).
    assert!(exported.iter().all(|s| !s.contains('@')), "curlmux's exports carry a version node: {exported:?}");
    let header = std::fs::read_to_string(common::repo().join("include/curlmux.h")).unwrap();
    let mut declared: Vec<String> = header
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('*') && !l.starts_with("/*"))
        .filter_map(|l| {
            let name_end = l.find('(')?;
            let name = l[..name_end].rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).next()?;
            let name = if name.is_empty() { l[name_end + 1..].split(')').next()? } else { name };
            let ours = name.starts_with("curl_multi_")
                || name.starts_with("curlmux_")
                || ["curl_easy_cleanup", "curl_easy_pause"].contains(&name);
            ours.then(|| name.to_string())
        })
        .collect();
    declared.push("curl_multi_setopt".into());
    declared.sort();
    declared.dedup();
    assert_eq!(exported, declared);
    let readelf = Command::new("readelf").arg("-d").arg(&lib).output().expect("run readelf");
    let dynamic = String::from_utf8_lossy(&readelf.stdout);
    let needs_libcurl = dynamic.lines().any(|l| l.contains("(NEEDED)") && l.contains("libcurl"));
    assert!(!needs_libcurl, "libcurlmux.so must not need libcurl:\n{dynamic}");
    assert!(dynamic.contains("Library soname: [libcurlmux.so.0]"), "no SONAME libcurlmux.so.0:\n{dynamic}");
}

/// Every C test but the two about scale (thousands of sockets), linked and
/// run under valgrind on one libcurl: no invalid reads or writes, no memory
/// lost or possibly lost (counted as errors, as libcurl's own suite does).
fn valgrind_on(label: &str) {
    let Some(libcurl) = libcurls(Some(&[label])).next() else {
        // Only a run narrowed on purpose may lack it.
        assert!(std::env::var_os("CURLMUX_TEST_LIBCURL").is_some(), "libcurl {label} is missing from the matrix");
        eprintln!("valgrind on {label}: not in CURLMUX_TEST_LIBCURL, not run");
        return;
    };
    let mut names: Vec<String> = std::fs::read_dir(source_dir())
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let stem = p.file_stem()?.to_str()?.to_string();
            let skip = ["header_compat", "fdset_3000", "event_loop_1000"].contains(&stem.as_str())
                || (HTTP3_ONLY.contains(&stem.as_str()) && !HTTP3.contains(&label));
            (p.extension()? == "c" && !skip).then_some(stem)
        })
        .collect();
    names.sort();
    let failures: Vec<String> = two_at_a_time(&names, |name| {
        // Per label: every libcurl of the matrix but one links as -lcurl, and
        // the four valgrind tests run at once.
        let bin = cc(name, &format!("valgrind-{label}"), &libcurl.link, true);
        let mut cmd = Command::new("valgrind");
        cmd.args([
            "--quiet",
            "--error-exitcode=99",
            "--leak-check=full",
            "--show-leak-kinds=definite,possible",
            "--errors-for-leak-kinds=definite,possible",
            "--child-silent-after-fork=yes",
            // Threads take valgrind's one lock in turn: without it, threads
            // that loop (threads_churn's) starve the one under test.
            "--fair-sched=yes",
        ])
        .arg(&bin);
        test_env(&mut cmd, libcurl, true);
        // The threaded tests make fewer rounds (threads.h).
        cmd.env("CURLMUX_TEST_VALGRIND", "1");
        let out = common::run_limited(cmd, RUN_LIMIT);
        (!out.status.success()).then(|| describe(&format!("valgrind {name} on {label}"), &out))
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(
        failures.is_empty(),
        "{} of {} tests failed under valgrind on {label}:\n{}\n\n{}",
        failures.len(),
        names.len(),
        failures.iter().filter_map(|f| f.lines().next()).collect::<Vec<_>>().join("\n"),
        failures.join("\n")
    );
}

/// The tests with threads of their own, run under helgrind.
const THREADED: [&str; 6] =
    ["threads_feed", "threads_race", "threads_per_thread", "threads_churn", "threads_shared", "poll_wakeup"];

/// The threaded C tests under valgrind's helgrind on one libcurl, linked to
/// the library built with the race-check feature (its locks are pthread's,
/// which helgrind sees, and its atomics are marked: src/sync.rs): no data
/// race and no lock-order violation. ctests/helgrind.supp suppresses what
/// is not curlmux's (libcurl's global-init spinlock, p11-kit at exit), each
/// entry saying why.
fn helgrind_on(label: &str) {
    let Some(libcurl) = libcurls(Some(&[label])).next() else {
        assert!(std::env::var_os("CURLMUX_TEST_LIBCURL").is_some(), "libcurl {label} is missing from the matrix");
        eprintln!("helgrind on {label}: not in CURLMUX_TEST_LIBCURL, not run");
        return;
    };
    let race_check = common::repo().join("target/race/release");
    assert!(
        race_check.join("libcurlmux.so").exists(),
        "no {}/libcurlmux.so: cargo build --release -p curlmux --features race-check --target-dir target/race \
         (bash .ci/test does)",
        race_check.display()
    );
    let failures: Vec<String> = two_at_a_time(&THREADED, |name| {
        let bin = cc_with(name, &format!("helgrind-{label}"), &libcurl.link, Some(&race_check));
        let mut cmd = Command::new("valgrind");
        cmd.args(["--tool=helgrind", "--quiet", "--error-exitcode=99", "--fair-sched=yes"])
            .arg(format!("--suppressions={}", source_dir().join("helgrind.supp").display()))
            .arg(&bin);
        test_env(&mut cmd, libcurl, true);
        cmd.env("CURLMUX_TEST_VALGRIND", "1").env("CURLMUX_TEST_HELGRIND", "1");
        let out = common::run_limited(cmd, RUN_LIMIT);
        (!out.status.success()).then(|| describe(&format!("helgrind {name} on {label}"), &out))
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(
        failures.is_empty(),
        "{} of {} threaded tests failed under helgrind on {label}:\n{}\n\n{}",
        failures.len(),
        THREADED.len(),
        failures.iter().filter_map(|f| f.lines().next()).collect::<Vec<_>>().join("\n"),
        failures.join("\n")
    );
}

#[test]
fn helgrind_7_88_1() {
    helgrind_on("7.88.1");
}

#[test]
fn helgrind_8_23_0() {
    helgrind_on("8.23.0");
}

macro_rules! valgrind {
    ($($name:ident = $label:literal),* $(,)?) => {
        $( #[test] fn $name() { valgrind_on($label); } )*
    };
}

valgrind!(
    valgrind_7_61_1 = "7.61.1",
    valgrind_7_88_1 = "7.88.1",
    valgrind_8_12_1 = "8.12.1",
    valgrind_8_23_0 = "8.23.0",
);
