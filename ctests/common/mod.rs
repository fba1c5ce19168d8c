//! What the test programs share: the local server (`curlmux serve`, started
//! once per test process and stopped when it exits), where libcurlmux.so is,
//! and running a program with a time limit.

#![allow(dead_code)] // each test crate uses its own part

/// What each libcurl does differently: the table the library itself asks.
#[path = "../../src/versions.rs"]
pub mod versions;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Server {
    /// http://127.0.0.1:PORT: HTTP/1.1 and h2c.
    pub url: String,
    /// https://127.0.0.1:PORT: TLS, ALPN h2 or http/1.1.
    pub tls_url: String,
    /// http://127.0.0.1:PORT: h2c with server push.
    pub push_url: String,
    /// https://127.0.0.1:PORT: HTTP/3 over QUIC (UDP).
    pub h3_url: String,
    /// https://127.0.0.1:PORT: TLS over TCP whose UDP port never answers.
    pub quiet_url: String,
    /// The TLS server's certificate, PEM (for CURLOPT_CAINFO).
    pub ca: PathBuf,
    _child: Mutex<Child>,
}

/// The repository: the C tests' sources, include/ and Cargo.toml.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("cli/ sits in the repository").to_path_buf()
}

/// The `curlmux` executable; libcurlmux.so is built next to it.
pub fn curlmux_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_curlmux"))
}

pub fn lib_dir() -> PathBuf {
    let dir = curlmux_exe().parent().expect("bin dir").to_path_buf();
    assert!(
        dir.join("libcurlmux.so").exists(),
        "no libcurlmux.so in {}: run `cargo build --release` before `cargo test --release` (bash .ci/test does)",
        dir.display()
    );
    dir
}

/// A fresh, empty folder `group/name` in cargo's scratch space for tests.
pub fn scratch(group: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(group).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Where `.ci/libcurls` set up the libcurl matrix (one folder per version).
pub fn libcurl_matrix() -> PathBuf {
    if let Some(dir) = std::env::var_os("CURLMUX_LIBCURLS") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache"));
    cache.join("curlmux/libcurls")
}

/// One libcurl of the matrix.
pub struct Libcurl {
    /// Its version, with a suffix for a second flavour ("7.88.1-gnutls").
    pub label: String,
    /// Its version number, as `curl_version_info()->version_num` gives it.
    pub version: u32,
    /// libcurl.so.4 and its sibling libraries: first on LD_LIBRARY_PATH.
    pub lib: PathBuf,
    /// How a test program links against it.
    pub link: String,
    /// It has curl_multi_poll and curl_multi_wakeup (7.68 and later): the
    /// tests' "newer: " lines have a stock answer to compare with.
    pub has_newer: bool,
}

/// A file-name part for programs linked with `link` ("curl" for -lcurl).
pub fn flavour(link: &str) -> String {
    link.trim_start_matches("-l").replace([':', '.'], "_")
}

impl Libcurl {
    /// Its version's numbers, then the flavour's (u32::MAX, sorting last).
    /// Whether a fact of src/versions.rs holds for it.
    pub fn has(&self, fact: &versions::Fact) -> bool {
        fact.holds(self.version)
    }
}

/// Whether the shared library `lib` defines every one of `symbols`.
pub fn defines(lib: &Path, symbols: &[&str]) -> bool {
    let nm = Command::new("nm").args(["-D", "--defined-only"]).arg(lib).output().expect("run nm");
    let text = String::from_utf8_lossy(&nm.stdout);
    // A versioned name reads `curl_multi_poll@@CURL_OPENSSL_4`.
    let names: Vec<&str> = text.lines().filter_map(|l| l.split_whitespace().nth(2)?.split('@').next()).collect();
    symbols.iter().all(|s| names.contains(s))
}

/// The libcurls `.ci/libcurls` set up, oldest first; CURLMUX_TEST_LIBCURL
/// (labels, comma-separated) narrows them.
pub fn matrix() -> Vec<Libcurl> {
    let root = libcurl_matrix();
    let wanted: Option<Vec<String>> =
        std::env::var("CURLMUX_TEST_LIBCURL").ok().map(|v| v.split(',').map(str::to_string).collect());
    let entries = std::fs::read_dir(&root).unwrap_or_else(|e| {
        panic!("no libcurl matrix in {}: {e}; run `bash .ci/libcurls` (bash .ci/test does)", root.display())
    });
    let mut matrix: Vec<Libcurl> = entries
        .filter_map(|e| {
            let dir = e.ok()?.path();
            let link = std::fs::read_to_string(dir.join("link")).ok()?.trim().to_string();
            let label = dir.file_name()?.to_str()?.to_string();
            if wanted.as_ref().is_some_and(|w| !w.contains(&label)) {
                return None;
            }
            let has_newer = defines(&dir.join("lib/libcurl.so.4"), &["curl_multi_poll", "curl_multi_wakeup"]);
            let version = versions::parse(&label)?;
            Some(Libcurl { label, version, lib: dir.join("lib"), link, has_newer })
        })
        .collect();
    matrix.sort_by_key(|l| (l.version, l.label.clone()));
    assert!(!matrix.is_empty(), "no libcurl of the matrix in {} matches CURLMUX_TEST_LIBCURL", root.display());
    matrix
}

pub fn library() -> PathBuf {
    lib_dir().join("libcurlmux.so")
}

/// Starts `curlmux serve`, serving `root` under /files/ when given.
pub fn start_server(root: Option<&Path>) -> Server {
    let mut cmd = Command::new(curlmux_exe());
    cmd.arg("serve");
    if let Some(root) = root {
        cmd.arg("--root").arg(root);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("start curlmux serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("server banner");
    let field = |key: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in the server banner: {line}"))
            .to_string()
    };
    Server {
        url: format!("http://{}", line.split_whitespace().nth(1).expect("listening ADDR")),
        tls_url: format!("https://{}", field("tls=")),
        push_url: format!("http://{}", field("push=")),
        h3_url: format!("https://{}", field("h3=")),
        quiet_url: format!("https://{}", field("quiet=")),
        ca: PathBuf::from(field("ca=")),
        _child: Mutex::new(child),
    }
}

/// A port that refuses connections: bound once, then released.
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs `cmd` to completion, killing it after `limit`.
pub fn run_limited(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).map(|_| s)
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        err.read_to_end(&mut s).map(|_| s)
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            break child.wait().expect("wait after kill");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap().unwrap_or_default(),
        stderr: err_reader.join().unwrap().unwrap_or_default(),
    }
}

/// A failed run: one line first, `FAILED what: status; the line that says
/// what failed` (the test's own CHECK, a transfer and how far it got, a
/// stall, valgrind's first report), then all it printed.
pub fn describe(what: &str, out: &Output) -> String {
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    format!("FAILED {what}: {}; {}\n--- stdout\n{stdout}--- stderr\n{stderr}", out.status, headline(&stderr, &stdout))
}

/// The line of a failed run's output that says what failed.
fn headline(stderr: &str, stdout: &str) -> String {
    const MARKS: [&str; 10] = [
        "CHECK",
        "transfer failed",
        "stall",
        "hung",
        "panicked",
        "Invalid",
        "lost in loss record",
        "data race",
        "lock order",
        "failed",
    ];
    let lines = || stderr.lines().chain(stdout.lines()).map(str::trim).filter(|l| !l.is_empty());
    lines()
        .find(|l| MARKS.iter().any(|m| l.contains(m)))
        .or_else(|| stderr.lines().rev().map(str::trim).find(|l| !l.is_empty()))
        .or_else(|| lines().next_back())
        .unwrap_or("no output")
        .to_string()
}

/// Where two outputs first differ, in one line.
pub fn first_difference(a: &str, b: &str) -> String {
    let (mut left, mut right) = (a.lines(), b.lines());
    for n in 1.. {
        match (left.next(), right.next()) {
            (None, None) => return "they are the same".into(),
            (l, r) if l == r => continue,
            (l, r) => return format!("line {n}: {:?} against {:?}", l.unwrap_or("(none)"), r.unwrap_or("(none)")),
        }
    }
    unreachable!()
}

/// The server's body byte at offset i (src/bin/curlmux/server.rs).
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]).collect()
}
