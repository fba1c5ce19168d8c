//! Runs the C tests of this folder against stock libcurl and against curlmux.
//!
//! Each `ctests/NAME.c` is compiled with `cc` twice: against libcurl alone,
//! and linked `-lcurlmux -lcurl`. It then runs three ways: stock, linked,
//! and the stock binary with libcurlmux.so in `LD_PRELOAD`. All three must
//! pass and print the same stdout (stock libcurl is the oracle). A test whose
//! first line says `stock: must-fail` tests a curlmux-only capability: its
//! stock run must fail, which proves the test can fail. `stock: skip` marks
//! tests of what libcurl leaves undefined. The local server (`curlmux serve`)
//! is started once and stops when this process exits.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use common::{Server, describe};

const RUN_LIMIT: Duration = Duration::from_secs(240);

struct Setup {
    /// target/<profile>/, where libcurlmux.so is.
    lib_dir: PathBuf,
    server: Server,
    closed_port: u16,
}

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ctests")
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
    })
}

/// How the stock run of a test is judged, from the test's first line.
#[derive(PartialEq, Debug)]
enum Stock {
    Same,
    MustFail,
    Skip,
}

fn stock_policy(source: &str) -> Stock {
    let first = source.lines().next().unwrap_or("");
    if first.contains("stock: must-fail") {
        Stock::MustFail
    } else if first.contains("stock: skip") {
        Stock::Skip
    } else {
        Stock::Same
    }
}

fn cc(source: &Path, out: &Path, linked: bool) {
    let setup = setup();
    let mut cmd = Command::new("cc");
    cmd.args(["-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pthread"])
        .arg("-I")
        .arg(source_dir())
        .arg("-o")
        .arg(out)
        .arg(source);
    if linked {
        cmd.arg(format!("-L{}", setup.lib_dir.display()))
            .arg(format!("-Wl,-rpath,{}", setup.lib_dir.display()))
            .arg("-lcurlmux");
    }
    cmd.args(["-lcurl", "-ldl"]);
    let status = cmd.status().expect("run cc");
    assert!(status.success(), "cc failed for {} (is libcurl4-openssl-dev installed?)", source.display());
}

/// Runs `bin` as `curlmux` says: against curlmux (linked or preloaded) or not.
fn run(bin: &Path, curlmux: bool, preload: bool) -> Output {
    let mut cmd = Command::new(bin);
    test_env(&mut cmd, curlmux);
    if preload {
        cmd.env("LD_PRELOAD", setup().lib_dir.join("libcurlmux.so"));
    }
    common::run_limited(cmd, RUN_LIMIT)
}

/// What every C test reads from its environment.
fn test_env(cmd: &mut Command, curlmux: bool) {
    let setup = setup();
    cmd.env("CURLMUX_TEST_URL", &setup.server.url)
        .env("CURLMUX_TEST_TLS_URL", &setup.server.tls_url)
        .env("CURLMUX_TEST_PUSH_URL", &setup.server.push_url)
        .env("CURLMUX_TEST_CA", &setup.server.ca)
        .env("CURLMUX_TEST_CLOSED_PORT", setup.closed_port.to_string())
        .env("EXPECT_CURLMUX", if curlmux { "1" } else { "0" })
        .env_remove("LD_PRELOAD")
        .env_remove("CURLMUX_DEBUG");
}

fn ctest(name: &str) {
    let source = source_dir().join(format!("{name}.c"));
    let policy = stock_policy(&std::fs::read_to_string(&source).expect("read test source"));
    let stock_bin = build_dir().join(format!("{name}.stock"));
    let linked_bin = build_dir().join(format!("{name}.linked"));
    cc(&source, &stock_bin, false);
    cc(&source, &linked_bin, true);

    let linked = run(&linked_bin, true, false);
    assert!(linked.status.success(), "{}", describe("linked", &linked));
    let preloaded = run(&stock_bin, true, true);
    assert!(preloaded.status.success(), "{}", describe("preloaded", &preloaded));
    assert_eq!(
        String::from_utf8_lossy(&linked.stdout),
        String::from_utf8_lossy(&preloaded.stdout),
        "linked and preloaded runs disagree"
    );
    match policy {
        Stock::Skip => {}
        Stock::MustFail => {
            let stock = run(&stock_bin, false, false);
            assert!(!stock.status.success(), "stock libcurl was expected to fail:\n{}", describe("stock", &stock));
        }
        Stock::Same => {
            let stock = run(&stock_bin, false, false);
            assert!(stock.status.success(), "{}", describe("stock", &stock));
            assert_eq!(
                String::from_utf8_lossy(&stock.stdout),
                String::from_utf8_lossy(&linked.stdout),
                "curlmux and stock libcurl disagree"
            );
        }
    }
}

macro_rules! ctests {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { ctest(stringify!($name)); } )*

        /// Every .c file of ctests/ is a test listed above (header_compat aside).
        #[test]
        fn every_c_file_is_run() {
            let listed = [$(stringify!($name)),*];
            for entry in std::fs::read_dir(source_dir()).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() && path.extension().is_some_and(|e| e == "c") {
                    let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
                    assert!(stem == "header_compat" || listed.contains(&stem.as_str()), "{stem}.c is not run");
                }
            }
        }
    };
}

ctests!(
    seed_fdset_select,
    seed_curlmux_select,
    wait_loop,
    poll_wakeup,
    many_transfers,
    misuse,
    stale_handle,
    info_read_lifetime,
    fdset_3000,
    easy_api,
    select_deadline,
    options,
    bind_failure,
    event_loop_1000,
    https_loops,
    http2,
    push,
    limits_timeouts,
    newer_api,
    faults,
    panic_boundary,
    callback_misuse,
    threads_shared,
    threads_per_thread,
    busy_then_crowd,
    fdset_runs_nothing,
);

/// busy_then_crowd does what it is there for under curlmux: each loop is
/// driven by libcurl's walk while the window is busy, and by socket_action
/// again when the crowd arrives (CURLMUX_DEBUG traces each switch).
#[test]
fn walk_engages_and_leaves_in_every_loop() {
    let source = source_dir().join("busy_then_crowd.c");
    let bin = build_dir().join("busy_then_crowd.traced");
    cc(&source, &bin, true);
    let mut cmd = Command::new(&bin);
    test_env(&mut cmd, true);
    cmd.env("CURLMUX_DEBUG", "1");
    let out = common::run_limited(cmd, RUN_LIMIT);
    assert!(out.status.success(), "{}", describe("traced", &out));
    let trace = String::from_utf8_lossy(&out.stderr);
    let on = trace.matches("curlmux: walk: on").count();
    let off = trace.matches("curlmux: walk: off").count();
    // Timing decides how often; twice in three loops each way leaves room for a slow machine.
    assert!(on >= 2 && off >= 2, "walk switched on {on} and off {off} times in three loops:\n{trace}");
}

/// The header agrees with <curl/curl.h> on every prototype, in C and in C++.
#[test]
fn header_compiles_with_curl_h_as_c_and_cxx() {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let source = source_dir().join("header_compat.c");
    let out = build_dir().join("header_compat.o");
    for (compiler, args) in [
        ("cc", &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wno-deprecated-declarations", "-c"][..]),
        ("c++", &["-x", "c++", "-Wall", "-Werror", "-Wno-deprecated-declarations", "-c"][..]),
    ] {
        let status = Command::new(compiler)
            .args(args)
            .arg("-I")
            .arg(&include)
            .arg(&source)
            .arg("-o")
            .arg(&out)
            .status()
            .expect("run compiler");
        assert!(status.success(), "{compiler} rejects include/curlmux.h next to <curl/curl.h>");
    }
}

/// Every exported function is declared in the header and the reverse
/// (curl_multi_setopt is declared by <curl/multi.h>), curlmux exports no
/// other curl_* name than the multi API and curl_easy_cleanup, and the
/// library does not link any libcurl.
#[test]
fn header_matches_exports_and_no_libcurl_is_linked() {
    let lib = setup().lib_dir.join("libcurlmux.so");
    let nm = Command::new("nm").args(["-D", "--defined-only"]).arg(&lib).output().expect("run nm");
    let mut exported: Vec<String> = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .filter(|s| s.starts_with("curl_") || s.starts_with("curlmux_"))
        .collect();
    exported.sort();
    let header = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/curlmux.h")).unwrap();
    let mut declared: Vec<String> = header
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('*') && !l.starts_with("/*"))
        .filter_map(|l| {
            let name_end = l.find('(')?;
            let name = l[..name_end].rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).next()?;
            let name = if name.is_empty() { l[name_end + 1..].split(')').next()? } else { name };
            let ours = name.starts_with("curl_multi_") || name.starts_with("curlmux_") || name == "curl_easy_cleanup";
            ours.then(|| name.to_string())
        })
        .collect();
    declared.push("curl_multi_setopt".into());
    declared.sort();
    declared.dedup();
    assert_eq!(exported, declared);
    let readelf = Command::new("readelf").arg("-d").arg(&lib).output().expect("run readelf");
    let dynamic = String::from_utf8_lossy(&readelf.stdout);
    assert!(!dynamic.contains("libcurl"), "libcurlmux.so must not need libcurl:\n{dynamic}");
}

/// The committed header is what build.rs generates (it regenerates on every
/// build, so a difference from git's copy is drift).
#[test]
fn committed_header_is_current() {
    let root = env!("CARGO_MANIFEST_DIR");
    let Ok(out) = Command::new("git").args(["-C", root, "diff", "--exit-code", "--", "include/curlmux.h"]).output()
    else {
        panic!("git is needed for the header drift check");
    };
    assert!(
        out.status.success(),
        "include/curlmux.h differs from the committed one; commit it:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Every C test but the two about scale (thousands of sockets), linked and
/// run under valgrind: no invalid reads or writes, no memory curlmux loses.
#[test]
fn valgrind_finds_no_errors_or_leaks() {
    let names: Vec<String> = std::fs::read_dir(source_dir())
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let stem = p.file_stem()?.to_str()?.to_string();
            let skip = ["header_compat", "fdset_3000", "event_loop_1000"].contains(&stem.as_str());
            (p.extension()? == "c" && !skip).then_some(stem)
        })
        .collect();
    for name in names {
        let source = source_dir().join(format!("{name}.c"));
        let bin = build_dir().join(format!("{name}.valgrind"));
        cc(&source, &bin, true);
        let mut cmd = Command::new("valgrind");
        cmd.args([
            "--quiet",
            "--error-exitcode=99",
            "--leak-check=full",
            "--show-leak-kinds=definite",
            "--errors-for-leak-kinds=definite",
            "--child-silent-after-fork=yes",
        ])
        .arg(&bin);
        test_env(&mut cmd, true);
        let out = common::run_limited(cmd, RUN_LIMIT);
        assert!(out.status.success(), "{}", describe(&format!("valgrind {name}"), &out));
    }
}
