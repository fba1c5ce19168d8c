//! Differential fuzzing of the multi API: random sequences of calls (add,
//! remove, perform, wait, poll, wakeup, socket_action, timeout, fdset,
//! info_read, setopt, cleanup, with valid and invalid handles) run through
//! ctests/fuzz/driver.c against stock libcurl and against curlmux, on every
//! libcurl of the matrix; return codes, completion messages and final states
//! must be identical.
//!
//! CI runs CURLMUX_FUZZ_CASES (default 16) sequences, each on every libcurl;
//! run it long with e.g. `CURLMUX_FUZZ_CASES=2000 cargo test --release --test
//! fuzz`, or on one libcurl with CURLMUX_TEST_LIBCURL=8.23.0.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use proptest::prelude::*;

/// The driver built for one libcurl of the matrix.
struct Driver {
    libcurl: common::Libcurl,
    stock: PathBuf,
    linked: PathBuf,
}

struct Setup {
    drivers: Vec<Driver>,
    server: common::Server,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let lib_dir = common::lib_dir();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz");
        std::fs::create_dir_all(&dir).unwrap();
        let source = common::repo().join("ctests/fuzz/driver.c");
        // Per link flavour: a program linked with -lcurl needs the symbol
        // versions of the libcurl it was linked against (CURL_OPENSSL_4).
        let build = |link: &str, linked: bool| {
            let out = dir.join(format!("driver.{}.{}", common::flavour(link), if linked { "linked" } else { "stock" }));
            let mut cmd = Command::new("cc");
            cmd.args(["-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", "-pthread", "-o"]).arg(&out).arg(&source);
            if linked {
                cmd.arg(format!("-L{}", lib_dir.display()))
                    .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
                    .arg("-lcurlmux");
            }
            assert!(cmd.args(link.split_whitespace()).arg("-ldl").status().unwrap().success(), "cc failed");
            out
        };
        let mut built: HashMap<String, (PathBuf, PathBuf)> = HashMap::new();
        let drivers = common::matrix()
            .into_iter()
            .map(|libcurl| {
                let (stock, linked) = built
                    .entry(libcurl.link.clone())
                    .or_insert_with(|| (build(&libcurl.link, false), build(&libcurl.link, true)))
                    .clone();
                Driver { libcurl, stock, linked }
            })
            .collect();
        Setup { drivers, server: common::start_server(None) }
    })
}

/// The driver's output for `script` on `libcurl`; a run that does not end
/// within 60 s (every transfer ends within 3 s) reports itself as a hang.
fn run(bin: &Path, libcurl: &common::Libcurl, curlmux: bool, script: &str) -> String {
    let mut child = Command::new(bin)
        .env("CURLMUX_TEST_URL", &setup().server.url)
        .env("EXPECT_CURLMUX", if curlmux { "1" } else { "0" })
        .env("LD_LIBRARY_PATH", &libcurl.lib)
        .env_remove("LD_PRELOAD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            return "HANG".into();
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", common::describe(&format!("fuzz driver on {}", libcurl.label), &out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn op() -> impl Strategy<Value = String> {
    let k = 0..3u8;
    let e = 0..6u8;
    prop_oneof![
        1 => k.clone().prop_map(|k| format!("init {k}")),
        1 => k.clone().prop_map(|k| format!("cleanup {k}")),
        5 => (k.clone(), e.clone()).prop_map(|(k, e)| format!("add {k} {e}")),
        3 => (k.clone(), e).prop_map(|(k, e)| format!("remove {k} {e}")),
        2 => k.clone().prop_map(|k| format!("perform {k}")),
        1 => k.clone().prop_map(|k| format!("wait {k}")),
        2 => k.clone().prop_map(|k| format!("info {k}")),
        1 => k.clone().prop_map(|k| format!("setopt {k}")),
        1 => k.clone().prop_map(|k| format!("badopt {k}")),
        1 => k.clone().prop_map(|k| format!("addnull {k}")),
        1 => k.clone().prop_map(|k| format!("removenull {k}")),
        1 => k.clone().prop_map(|k| format!("drain {k}")),
        1 => k.clone().prop_map(|k| format!("timeout {k}")),
        1 => k.clone().prop_map(|k| format!("fdset {k}")),
        1 => k.clone().prop_map(|k| format!("socket {k}")),
        1 => k.clone().prop_map(|k| format!("poll {k}")),
        1 => k.prop_map(|k| format!("wakeup {k}")),
    ]
}

/// Sequences the fuzzer once found (ctests/fuzz/regressions/*.txt, `#`
/// lines are comments), replayed on every run.
#[test]
fn known_sequences_answer_as_stock_libcurl() {
    let dir = common::repo().join("ctests/fuzz/regressions");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let script: String = text.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
        for d in &setup().drivers {
            let stock = run(&d.stock, &d.libcurl, false, &script);
            let curlmux = run(&d.linked, &d.libcurl, true, &script);
            assert_eq!(stock, curlmux, "{} on {}", path.display(), d.libcurl.label);
        }
    }
}

fn cases() -> u32 {
    std::env::var("CURLMUX_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(16)
}

/// `output` without the lines of calls the bound libcurl lacks (driver.c).
fn without_newer(output: &str) -> String {
    output.lines().filter(|l| !l.starts_with("newer: ")).map(|l| format!("{l}\n")).collect()
}

/// Whether `ops` removes an easy from a multi other than one it was added
/// to. libcurl before 7.70 answers OK there and unlinks the easy from the
/// wrong multi's list, which later crashes or hangs; curlmux answers OK and
/// leaves the easy where it is (ctests/misuse.c), so on such a libcurl these
/// scripts have no stock answer to compare with.
fn removes_from_another_multi(ops: &[String]) -> bool {
    let mut added: Vec<(&str, &str)> = Vec::new();
    ops.iter().any(|op| match op.split_whitespace().collect::<Vec<_>>()[..] {
        ["add", k, e] => {
            added.push((k, e));
            false
        }
        ["remove", k, e] => added.iter().any(|&(k2, e2)| e2 == e && k2 != k),
        _ => false,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn curlmux_answers_as_stock_libcurl(ops in proptest::collection::vec(op(), 1..30)) {
        let script = format!("init 0\ninit 1\n{}\ndrain 0\ndrain 1\ndrain 2\n", ops.join("\n"));
        for d in &setup().drivers {
            if !d.libcurl.has(&common::versions::CHECKS_REMOVE_OWNER) && removes_from_another_multi(&ops) {
                continue;
            }
            let (stock, curlmux) = std::thread::scope(|scope| {
                let stock = scope.spawn(|| run(&d.stock, &d.libcurl, false, &script));
                let curlmux = run(&d.linked, &d.libcurl, true, &script);
                (stock.join().unwrap(), curlmux)
            });
            // curl_multi_poll and _wakeup (7.66, 7.68): curlmux's own below that.
            let (stock, curlmux) = if !d.libcurl.has_newer {
                (without_newer(&stock), without_newer(&curlmux))
            } else {
                (stock, curlmux)
            };
            let label = &d.libcurl.label;
            prop_assert!(!stock.contains("DUPLICATE") && !curlmux.contains("DUPLICATE"), "on {}: {}", label, curlmux);
            prop_assert_eq!(stock, curlmux, "on {}, script:\n{}", label, script);
        }
    }
}
