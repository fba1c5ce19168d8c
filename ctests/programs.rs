//! Real, unmodified programs with libcurlmux.so preloaded (`curlmux run`):
//! the curl command line, `git clone` over dumb HTTP, Python with Debian's
//! pycurl and pip's running the seed's own examples, and pycurl's own tests
//! of its multi interface. Each also runs without curlmux, so a failure
//! points at curlmux; each checks what it got (every byte, or the suite's
//! own verdicts) and that curlmux really answered (its CURLMUX_DEBUG trace).

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::{describe, pattern, run_limited};

const LIMIT: Duration = Duration::from_secs(180);

/// `program args` as is, or through `curlmux run` with tracing on.
fn command(preloaded: bool, program: &str) -> Command {
    if preloaded {
        let mut cmd = Command::new(common::curlmux_exe());
        cmd.args(["run", "--", program]).env("CURLMUX_DEBUG", "1");
        cmd
    } else {
        let mut cmd = Command::new(program);
        cmd.env_remove("LD_PRELOAD");
        cmd
    }
}

fn require(program: &str, package: &str) {
    assert!(
        Path::new(program).exists(),
        "{program} is missing: install the Debian package {package} (bash .ci/test does)"
    );
}

fn succeeded(what: &str, out: Output) -> Output {
    assert!(out.status.success(), "{}", describe(what, &out));
    out
}

fn trace(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn curl_plain_download() {
    require("/usr/bin/curl", "curl");
    let server = common::start_server(None);
    for preloaded in [false, true] {
        let dir = common::scratch("programs", &format!("plain-{preloaded}"));
        let file = dir.join("out");
        let mut cmd = command(preloaded, "/usr/bin/curl");
        cmd.args(["--silent", "--show-error", "--fail", "-o"]).arg(&file).arg(format!("{}/bytes/3000000", server.url));
        let out = succeeded("curl", run_limited(cmd, LIMIT));
        assert!(std::fs::read(&file).unwrap() == pattern(3_000_000), "body differs (preloaded: {preloaded})");
        // curl_easy_perform's private multi went through curlmux, untouched.
        assert_eq!(trace(&out).contains("curlmux: bound to"), preloaded, "{}", trace(&out));
    }
}

#[test]
fn curl_parallel_200_urls() {
    require("/usr/bin/curl", "curl");
    let server = common::start_server(None);
    let plan: Vec<(String, Vec<u8>)> = (0..200)
        .map(|i| {
            let size = [0, 10, 2_000, 50_000, 400_000][i % 5];
            match i % 8 {
                3 => (format!("/status/404?{i}"), b"status 404\n".to_vec()),
                5 => (format!("/trickle/{size}/5/1000"), pattern(size)),
                6 => (format!("/delay/{}/{size}", 100 + 10 * (i % 50)), pattern(size)),
                _ => (format!("/bytes/{size}"), pattern(size)),
            }
        })
        .collect();
    for preloaded in [false, true] {
        let dir = common::scratch("programs", &format!("parallel-{preloaded}"));
        let config: String = plan
            .iter()
            .enumerate()
            .map(|(i, (path, _))| {
                format!("url = \"{}{path}\"\noutput = \"{}\"\n", server.url, dir.join(i.to_string()).display())
            })
            .collect();
        std::fs::write(dir.join("urls"), config).unwrap();
        let mut cmd = command(preloaded, "/usr/bin/curl");
        cmd.args(["--silent", "--show-error", "--parallel", "--parallel-max", "50", "--config"]).arg(dir.join("urls"));
        let out = succeeded("curl --parallel", run_limited(cmd, LIMIT));
        for (i, (path, body)) in plan.iter().enumerate() {
            let got = std::fs::read(dir.join(i.to_string())).unwrap_or_default();
            assert!(&got == body, "{path}: {} bytes, expected {} (preloaded: {preloaded})", got.len(), body.len());
        }
        assert_eq!(trace(&out).contains("curlmux: multi handle created"), preloaded, "{}", trace(&out));
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("/usr/bin/git")
        .args(["-c", "user.name=curlmux", "-c", "user.email=curlmux@localhost", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(out.status.success(), "{}", describe(&format!("git {args:?}"), &out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// git's dumb HTTP walker fetches loose objects with curl_multi_fdset + select.
#[test]
fn git_clone_over_dumb_http() {
    require("/usr/bin/git", "git");
    let root = common::scratch("programs", "git");
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q"]);
    for i in 0..100 {
        let text: String = (0..50).map(|j| format!("line {j} of file {i}: {}\n", i * 7919 + j * 104729)).collect();
        std::fs::write(work.join(format!("f{}.txt", i % 40)), text).unwrap();
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", &format!("commit {i}")]);
    }
    git(&root, &["clone", "-q", "--bare", "work", "repo.git"]);
    git(&root.join("repo.git"), &["update-server-info"]);
    let objects = git(&root.join("repo.git"), &["count-objects"]);
    let expected_log = git(&work, &["log", "--format=%H %T %s"]);
    let server = common::start_server(Some(&root));
    for preloaded in [false, true] {
        let dest = root.join(format!("clone-{preloaded}"));
        let mut cmd = command(preloaded, "/usr/bin/git");
        cmd.args(["clone", "-q", &format!("{}/files/repo.git", server.url)]).arg(&dest);
        let out = succeeded("git clone", run_limited(cmd, LIMIT));
        git(&dest, &["fsck", "--strict"]);
        assert_eq!(git(&dest, &["log", "--format=%H %T %s"]), expected_log, "history differs (preloaded: {preloaded})");
        let t = trace(&out);
        assert_eq!(t.contains("curlmux: multi handle created"), preloaded, "{t}");
        if preloaded {
            assert!(t.contains("libcurl-gnutls.so.4"), "git uses the GnuTLS flavour: {t}");
        }
    }
    assert!(
        objects.starts_with("300 objects") || objects.split_whitespace().next().unwrap().parse::<u32>().unwrap() >= 250,
        "{objects}"
    );
}

/// Runs the seed script with `python`, stock and preloaded; both must agree.
/// `bound` is what curlmux's trace must say it bound to.
fn seed_examples(python: &Path, bound: &str) {
    let server = common::start_server(None);
    let script = common::repo().join("ctests/programs/pycurl_seed.py");
    let port = common::closed_port().to_string();
    let mut results = Vec::new();
    for preloaded in [false, true] {
        let mut cmd = command(preloaded, python.to_str().unwrap());
        cmd.arg(&script).args([&server.url, &port, "50"]);
        let out = succeeded("python3 pycurl_seed.py", run_limited(cmd, LIMIT));
        let t = trace(&out);
        assert!(t.contains(if preloaded { "USING_CURLMUX" } else { "USING_STOCK" }), "{t}");
        if preloaded {
            assert!(t.contains(bound), "curlmux bound elsewhere than {bound}: {t}");
            assert!(t.contains("curlmux: multi handle created"), "{t}");
        }
        results.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    assert_eq!(results[0], results[1], "pycurl saw different results with curlmux");
    assert_eq!(results[0].lines().count(), 5, "{}", results[0]);
}

/// pycurl loads libcurl-gnutls RTLD_LOCAL: curlmux finds it among the loaded objects.
#[test]
fn pycurl_runs_the_seed_examples() {
    require("/usr/bin/python3", "python3");
    let has_pycurl = Command::new("/usr/bin/python3").args(["-c", "import pycurl"]).status().unwrap().success();
    assert!(has_pycurl, "Debian's python3-pycurl is missing (bash .ci/test installs it)");
    seed_examples(Path::new("/usr/bin/python3"), "libcurl-gnutls.so.4 (already loaded)");
}

/// pip's pycurl wheels bundle their own libcurl under a hashed name, loaded
/// privately: the oldest (7.61.1) and the newest (8.23.0), each in a venv.
#[test]
fn pip_pycurl_runs_the_seed_examples_on_its_own_libcurl() {
    let wheels = common::libcurl_matrix().join("wheels");
    for (pycurl, libcurl) in [("7.45.3", "libcurl/7.61.1"), ("7.49.0", "libcurl/8.23.0")] {
        let wheel = std::fs::read_dir(wheels.join(pycurl))
            .unwrap_or_else(|e| panic!("no pycurl {pycurl} wheel ({e}): run bash .ci/libcurls"))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .expect("a .whl file");
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("venv-pycurl-{pycurl}"));
        let python = venv.join("bin/python");
        if !python.exists() {
            let ok = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().unwrap().success();
            assert!(ok, "python3 -m venv failed");
        }
        let pip = Command::new(&python)
            .args(["-m", "pip", "install", "-q", "--no-index", "--no-deps", "--force-reinstall"])
            .arg(&wheel)
            .status()
            .unwrap();
        assert!(pip.success(), "pip install {} failed", wheel.display());
        let version = Command::new(&python).args(["-c", "import pycurl; print(pycurl.version)"]).output().unwrap();
        let version = String::from_utf8_lossy(&version.stdout);
        assert!(version.contains(libcurl), "pycurl {pycurl} reports {version}");
        // The wheel's libcurl is pycurl.libs/libcurl-<hash>.so…, found among the loaded objects.
        seed_examples(&python, "pycurl.libs/libcurl-");
    }
}

#[test]
fn doctor_names_the_libcurl_its_flavour_and_what_curlmux_provides() {
    let matrix = common::libcurl_matrix();
    let wheel = |v: &str| Some(matrix.join(v).join("lib/libcurl.so.4").display().to_string());
    const SINCE_8_16: &str = "curl_multi_get_offt, curl_multi_notify_enable, curl_multi_notify_disable";
    let since_8_4 = format!("curl_multi_get_handles, curl_multi_waitfds, {SINCE_8_16}");
    for (env, version, flavour, provides) in [
        (None, "7.88.1", "OpenSSL", since_8_4.clone()),
        (Some("libcurl-gnutls.so.4".to_string()), "7.88.1", "GnuTLS", since_8_4.clone()),
        (wheel("7.61.1"), "7.61.1", "OpenSSL", format!("curl_multi_poll, curl_multi_wakeup, {since_8_4}")),
        (wheel("8.16.0"), "8.16.0", "OpenSSL", "curl_multi_notify_enable, curl_multi_notify_disable".to_string()),
        (wheel("8.23.0"), "8.23.0", "OpenSSL", "none".to_string()),
    ] {
        let mut cmd = Command::new(common::curlmux_exe());
        cmd.arg("doctor").env_remove("CURLMUX_LIBCURL");
        if let Some(lib) = &env {
            cmd.env("CURLMUX_LIBCURL", lib);
            // The wheels' libcurls find their sibling libraries beside them.
            if lib.contains('/') {
                cmd.env("LD_LIBRARY_PATH", std::path::Path::new(lib).parent().unwrap());
            }
        }
        let out = succeeded("curlmux doctor", run_limited(cmd, LIMIT));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("libcurl/{version}")), "{text}");
        assert!(text.contains(&format!("flavour:  {flavour}")), "{text}");
        assert!(text.contains(&format!("provides: {provides} (")), "{text}");
    }
}

/// `curlmux soak`, short: 20,000 mixed transfers through every loop style
/// over Debian's libcurl, the oldest and the newest of the matrix; each
/// must end exactly once, as its kind expects, with memory and descriptors
/// flat (the command's own verdict, its exit status).
#[test]
fn soak_short_on_the_oldest_system_and_newest_libcurl() {
    let matrix = common::libcurl_matrix();
    for libcurl in [None, Some("7.61.1"), Some("8.23.0")] {
        let mut cmd = Command::new(common::curlmux_exe());
        cmd.args(["soak", "--transfers", "20000"]);
        if let Some(version) = libcurl {
            cmd.arg("--libcurl").arg(matrix.join(version).join("lib"));
        }
        let out = run_limited(cmd, LIMIT);
        let what = format!("soak over {}", libcurl.unwrap_or("Debian's libcurl"));
        let out = succeeded(&what, out);
        let verdict = String::from_utf8_lossy(&out.stdout);
        assert!(verdict.contains("every transfer ended exactly once"), "{}", describe(&what, &out));
    }
}

/// Every subcommand's `--help` prints its usage and starts nothing; a
/// mistyped flag is named and starts nothing either (a benchmark runs for 17
/// minutes); the man page and the completions come from the same definition
/// and name every subcommand.
#[test]
fn help_man_page_and_completions_name_every_subcommand() {
    const SUBCOMMANDS: [&str; 10] =
        ["run", "doctor", "demo", "bench", "soak", "serve", "install", "uninstall", "completions", "man"];
    let curlmux = |args: &[&str]| {
        let mut cmd = Command::new(common::curlmux_exe());
        cmd.args(args);
        run_limited(cmd, Duration::from_secs(5))
    };
    for sub in SUBCOMMANDS {
        let out = succeeded(&format!("curlmux {sub} --help"), curlmux(&[sub, "--help"]));
        let usage = format!("Usage: curlmux {sub}");
        assert!(String::from_utf8_lossy(&out.stdout).contains(&usage), "{}", describe(sub, &out));
    }
    for sub in ["bench", "soak", "install"] {
        let out = curlmux(&[sub, "--rep", "3"]);
        assert!(!out.status.success(), "{}", describe(&format!("curlmux {sub} --rep 3"), &out));
        let named = String::from_utf8_lossy(&out.stderr).contains("unexpected argument '--rep'");
        assert!(named, "{}", describe(sub, &out));
    }
    let man = String::from_utf8_lossy(&succeeded("curlmux man", curlmux(&["man"])).stdout).into_owned();
    assert!(man.starts_with(".ie") && man.contains(".TH curlmux 1"), "{man}");
    for shell in ["bash", "zsh", "fish"] {
        let out = succeeded(&format!("curlmux completions {shell}"), curlmux(&["completions", shell]));
        let script = String::from_utf8_lossy(&out.stdout);
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub) && man.contains(sub), "{shell} completions or the man page lack {sub}");
        }
    }
}

/// `curlmux bench --plot` draws what it measured: a short slow-crowd run
/// gives an SVG with a line per loop (the epoll one too) through stock and
/// curlmux, and the epoll reference's limit, against concurrency.
#[test]
fn bench_plots_every_loop_against_concurrency() {
    let file = common::scratch("programs", "plot").join("bench.svg");
    let mut cmd = Command::new(common::curlmux_exe());
    cmd.args(["bench", "--quick", "--only", "slow crowd", "--plot"]).arg(&file);
    let out = succeeded("curlmux bench --quick --only 'slow crowd' --plot", run_limited(cmd, LIMIT));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("plot: {}", file.display())));
    let svg = std::fs::read_to_string(&file).expect("the plot");
    assert!(svg.starts_with("<svg") && svg.contains("concurrent transfers"), "{svg}");
    for lp in ["classic", "classic-tf", "wait", "poll"] {
        for imp in ["stock", "curlmux"] {
            assert!(svg.contains(&format!("{lp}, {imp}")), "no {lp}, {imp} line in the plot");
        }
    }
    assert!(svg.contains("epoll, stock (reference)") && svg.contains("limit: target × epoll"), "{svg}");
    assert!(svg.contains("epoll, curlmux (socket_action relay)"), "{svg}");
    // Eleven lines through the four cells' points (axes and legend marks have two).
    let through_four = svg
        .split("<polyline")
        .filter_map(|p| p.split("points=\"").nth(1)?.split('"').next())
        .filter(|points| points.split_whitespace().count() == 4)
        .count();
    assert_eq!(through_four, 11, "{svg}");
}

/// pycurl 7.47.0's own tests of its multi interface (libcurl 8.21.0, the
/// wheel's): every one that passes on stock libcurl passes with curlmux
/// preloaded (pause, socket, timer, callback, notify, async and websocket
/// tests; the suite starts its own servers on 127.0.0.1). A test may fail on
/// both: that is libcurl's or the machine's answer, not curlmux's.
#[test]
fn pycurls_own_multi_tests_pass_with_curlmux_where_they_pass_stock() {
    const FILES: &[&str] = &[
        "multi_callback_test.py",
        "multi_memory_mgmt_test.py",
        "multi_option_constants_test.py",
        "multi_socket_select_test.py",
        "multi_socket_test.py",
        "multi_test.py",
        "multi_timer_test.py",
        "pause_test.py",
        "test_async_multi.py",
        "test_multi_notify.py",
        "test_websocket_callback.py",
    ];
    let dir = common::libcurl_matrix().join("pycurl-tests");
    assert!(
        dir.join(".done").exists(),
        "pycurl's tests are not set up in {}: run bash .ci/pycurl-tests",
        dir.display()
    );
    let python = dir.join("venv/bin/python");
    let outcomes = |preloaded: bool| -> (Vec<String>, Vec<String>, String) {
        let mut cmd = command(preloaded, python.to_str().unwrap());
        // fd 2 is not captured, so curlmux's trace reaches this test.
        cmd.args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "--capture=sys", "--timeout", "60", "-rA"])
            .args(FILES.iter().map(|f| format!("tests/{f}")))
            .current_dir(dir.join("src"));
        let out = run_limited(cmd, Duration::from_secs(600));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let with = |outcome: &str| -> Vec<String> {
            let mut v: Vec<String> = text
                .lines()
                .filter_map(|l| l.strip_prefix(outcome))
                .map(|l| l.split(" - ").next().unwrap_or(l).trim().to_string())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        (with("PASSED "), [with("FAILED "), with("ERROR ")].concat(), trace(&out))
    };
    let (stock_passed, stock_failed, _) = outcomes(false);
    let (passed, failed, trace) = outcomes(true);
    assert!(trace.contains("curlmux: multi handle created"), "curlmux made no multi handle:\n{trace}");
    // 143 of them pass on stock here; far fewer means the suite did not really run.
    assert!(
        stock_passed.len() >= 130,
        "only {} of pycurl's tests passed on stock: {stock_failed:?}",
        stock_passed.len()
    );
    let lost: Vec<&String> = failed.iter().filter(|t| stock_passed.contains(t)).collect();
    assert!(lost.is_empty(), "pass on stock, fail with curlmux: {lost:?}");
    let missing: Vec<&String> = stock_passed.iter().filter(|t| !passed.contains(t) && !failed.contains(t)).collect();
    assert!(missing.is_empty(), "pass on stock, not run with curlmux: {missing:?}");
}
