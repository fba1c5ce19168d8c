//! What `curlmux bench` and `curlmux soak` share: their C client built
//! against the system's libcurl headers, the local server they run it
//! against, and the choice of libcurl the client loads.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// What one run of `bench` or `soak` works with: libcurlmux.so, the client
/// built in a scratch folder (removed when dropped) and the server.
pub struct Rig {
    pub lib: PathBuf,
    pub client: PathBuf,
    pub server: Server,
    dir: PathBuf,
    /// The local port range as it was, when the rig widened it.
    ports: Option<String>,
}

const PORT_RANGE: &str = "/proc/sys/net/ipv4/ip_local_port_range";

/// Descriptors a client needs besides its connections: libraries, pipes,
/// epoll and timer descriptors, the server's listeners.
pub const ROOM: u64 = 1024;

impl Rig {
    /// Applies `--libcurl DIR` (when given), raises the descriptor limit
    /// (to at least `connections` plus room), widens the local port range
    /// when `connections` would not fit in it (both as root only; the
    /// range is put back when dropped), builds the client `name` from
    /// `source` and starts the server.
    pub fn prepare(
        libcurl: Option<&Path>,
        command: &str,
        name: &str,
        source: &str,
        connections: u64,
    ) -> Result<Rig, String> {
        if let Some(dir) = libcurl {
            use_libcurl(dir, command)?;
        }
        raise_fd_limit(connections + ROOM);
        let ports = widen_port_range(connections + 1024)?;
        let lib = crate::preload::library()?;
        let dir = std::env::temp_dir().join(format!("curlmux-{command}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let client = build_client(&dir, name, source)?;
        let server = Server::start(&dir)?;
        Ok(Rig { lib, client, server, dir, ports })
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(range) = &self.ports {
            let _ = std::fs::write(PORT_RANGE, range);
        }
    }
}

/// Compiles `source` into `dir/name`, linked to libcurl.
fn build_client(dir: &Path, name: &str, source: &str) -> Result<PathBuf, String> {
    let file = dir.join(format!("{name}.c"));
    let binary = dir.join(name);
    std::fs::write(&file, source).map_err(|e| e.to_string())?;
    let status = Command::new("cc")
        .args(["-O2", "-pthread", "-o"])
        .arg(&binary)
        .arg(&file)
        .args(["-lcurl", "-ldl"])
        .status()
        .map_err(|e| format!("cc: {e}"))?;
    if !status.success() {
        return Err(format!("cannot build {name}: it needs cc and libcurl4-openssl-dev"));
    }
    Ok(binary)
}

/// `curlmux serve` as a child process; stops when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `https://127.0.0.1:PORT`: HTTP/3 over QUIC.
    pub h3: String,
    /// The certificate HTTP/3 clients trust (PEM).
    pub ca: PathBuf,
}

impl Server {
    /// Starts it, with its certificate in `dir`.
    pub fn start(dir: &Path) -> Result<Server, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .args(["serve", "--ca"])
            .arg(dir.join("ca.pem"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut banner = String::new();
        BufReader::new(child.stdout.take().ok_or("server stdout")?)
            .read_line(&mut banner)
            .map_err(|e| e.to_string())?;
        let base = format!("http://{}", banner.split_whitespace().nth(1).ok_or("server banner")?);
        let h3 = banner.split_whitespace().find_map(|w| w.strip_prefix("h3=")).ok_or("no h3= in the server banner")?;
        Ok(Server { child, base, h3: format!("https://{h3}"), ca: dir.join("ca.pem") })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// `--libcurl DIR`: every client, stock and with curlmux, loads
/// DIR/libcurl.so.4 (e.g. a folder of the test matrix,
/// ~/.cache/curlmux/libcurls/8.23.0/lib).
fn use_libcurl(dir: &Path, command: &str) -> Result<(), String> {
    let lib = dir.join("libcurl.so.4");
    if !lib.exists() {
        return Err(format!("--libcurl: no libcurl.so.4 in {}", dir.display()));
    }
    eprintln!("{command}: every client loads {}", lib.display());
    // SAFETY: no other thread runs yet; every child inherits the variable.
    unsafe { std::env::set_var("LD_LIBRARY_PATH", dir) };
    Ok(())
}

/// Raises this process's descriptor limit to its hard limit, and that to
/// `need` (with `fs.nr_open`) where it is lower, which takes root with
/// CAP_SYS_RESOURCE. Children, the server among them, inherit it. Returns
/// the limit now in force, and says so when it stays below `need`.
pub fn raise_fd_limit(need: u64) -> u64 {
    let get = || {
        // SAFETY: a zeroed rlimit is a valid value to fill in.
        let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
        // SAFETY: getrlimit writes into the struct we own.
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
        lim
    };
    // SAFETY: setrlimit reads the struct we own.
    let set = |lim: &libc::rlimit| unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, lim) } == 0;
    let mut lim = get();
    if lim.rlim_max < need {
        let nr_open = "/proc/sys/fs/nr_open";
        let max: u64 = std::fs::read_to_string(nr_open).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(0);
        if max < need {
            let _ = std::fs::write(nr_open, need.to_string());
        }
        let raised = libc::rlimit { rlim_cur: need, rlim_max: need };
        if !set(&raised) {
            eprintln!(
                "descriptor limit: {need} wanted, the hard limit {} stays ({}; raising it takes CAP_SYS_RESOURCE)",
                lim.rlim_max,
                std::io::Error::last_os_error()
            );
        }
        lim = get();
    }
    lim.rlim_cur = lim.rlim_max;
    set(&lim);
    get().rlim_cur
}

/// Makes room for `need` connections from 127.0.0.1 to one server port by
/// lowering the local port range's start (root only). Returns the range as
/// it was when it changed it.
fn widen_port_range(need: u64) -> Result<Option<String>, String> {
    let was = std::fs::read_to_string(PORT_RANGE).map_err(|e| format!("{PORT_RANGE}: {e}"))?;
    let mut bounds = was.split_whitespace().filter_map(|v| v.parse::<u64>().ok());
    let (Some(low), Some(high)) = (bounds.next(), bounds.next()) else {
        return Err(format!("{PORT_RANGE}: cannot read {was:?}"));
    };
    if high + 1 - low >= need {
        return Ok(None);
    }
    let start = (high + 1).saturating_sub(need).max(1024);
    if high + 1 - start < need {
        return Err(format!("{need} connections to one port do not fit in local ports 1024–{high}"));
    }
    std::fs::write(PORT_RANGE, format!("{start} {high}"))
        .map_err(|e| format!("{need} connections need local ports {start}–{high}: {PORT_RANGE}: {e}"))?;
    eprintln!("local port range {low}–{high} widened to {start}–{high} for this run");
    Ok(Some(was))
}

/// A progress bar on standard error over `len` steps of `unit`; hidden when
/// standard error is not a terminal.
pub fn progress(len: u64, unit: &str) -> indicatif::ProgressBar {
    let style = indicatif::ProgressStyle::with_template(&format!(
        "{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {unit} (eta {{eta}}) {{msg}}"
    ))
    .expect("a valid template")
    .progress_chars("=> ");
    indicatif::ProgressBar::new(len).with_style(style)
}
