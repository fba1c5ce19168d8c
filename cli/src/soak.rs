//! `curlmux soak`: a long mixed workload through every loop style (the C
//! client in soak_client.c, with curlmux preloaded, or stock libcurl with
//! `--stock`), checked for what must hold however long it runs: every added
//! transfer ends exactly once, with the result its kind expects, and the
//! client's memory and descriptors stay flat. Through curlmux, threads feed
//! and churn too: a producer thread adds a quarter of each round's transfers
//! to the multi another thread drives, and one thread all along makes a
//! multi, runs a transfer through it and cleans it up.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const CLIENT_SOURCE: &str = include_str!("soak_client.c");
/// Samples before this share of the run are warm-up (allocator arenas,
/// libcurl's first connections), left out of the slopes.
const WARM_UP: f64 = 0.1;
/// Flat: the fitted growth over the measured span is at most this much, or
/// at most one byte per transfer (a leak of one allocation per transfer
/// shows as at least 16).
const RSS_ALLOWANCE_KB: f64 = 1024.0;

/// One round's sample: transfers added so far, resident KiB, open descriptors.
#[derive(Debug, Clone, Copy)]
struct Sample {
    transfers: f64,
    rss_kb: f64,
    fds: f64,
}

/// `curlmux soak`'s arguments.
#[derive(clap::Args)]
pub struct Options {
    /// Transfers in all.
    #[arg(long, default_value_t = 100_000)]
    transfers: u64,
    /// Transfers at a time.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=512))]
    concurrency: u32,
    /// The seed of the workload's mix.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stock libcurl, without curlmux.
    #[arg(long)]
    stock: bool,
    /// Every client loads DIR/libcurl.so.4 (e.g. ~/.cache/curlmux/libcurls/8.23.0/lib).
    #[arg(long, value_name = "DIR")]
    libcurl: Option<PathBuf>,
}

pub fn run(options: &Options) -> Result<(), String> {
    let &Options { transfers, concurrency, seed, stock, .. } = options;
    let rig = crate::local::Rig::prepare(options.libcurl.as_deref(), "soak", "soak_client", CLIENT_SOURCE, 0)?;
    let (lib, server) = (&rig.lib, &rig.server);
    // Bound, never listening: connections to it are refused at once.
    let closed = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let closed_port = closed.local_addr().map_err(|e| e.to_string())?.port();
    drop(closed);
    let refusing = std::net::TcpStream::connect(("127.0.0.1", closed_port)).is_err();
    if !refusing {
        return Err(format!("port {closed_port} accepts connections; try again"));
    }

    let mut cmd = Command::new(&rig.client);
    cmd.arg(&server.base)
        .arg(closed_port.to_string())
        .arg(transfers.to_string())
        .arg(concurrency.to_string())
        .arg(seed.to_string())
        .env_remove("LD_PRELOAD")
        .env_remove("CURLMUX_DEBUG")
        .stdout(Stdio::piped());
    if !stock {
        cmd.env("LD_PRELOAD", lib);
    }
    let who = if stock { "stock libcurl".to_string() } else { format!("curlmux ({})", lib.display()) };
    eprintln!("soak: {transfers} transfers, {concurrency} at a time, through {who}");
    let started = std::time::Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("soak client: {e}"))?;
    let out = BufReader::new(child.stdout.take().ok_or("client stdout")?);
    let (mut samples, mut summary) = (Vec::new(), None);
    let progress = crate::local::progress(transfers, "transfers");
    for line in out.lines() {
        let line = line.map_err(|e| e.to_string())?;
        let field = fields(&line);
        if let (Some(t), Some(r), Some(f)) = (field("transfers"), field("rss_kb"), field("fds")) {
            samples.push(Sample { transfers: t, rss_kb: r, fds: f });
            progress.set_position(t as u64);
            progress.set_message(format!("rss {:.1} MB, {f:.0} descriptors", r / 1024.0));
        } else if field("added").is_some() {
            summary = Some(line.clone());
        }
    }
    progress.finish_and_clear();
    let status = child.wait().map_err(|e| e.to_string())?;
    drop(rig);
    let summary = summary.ok_or_else(|| format!("the soak client ended without its summary ({status})"))?;
    report(&summary, &samples, started.elapsed().as_secs_f64(), !stock)
}

/// `key=value` fields of a line, as numbers.
fn fields(line: &str) -> impl Fn(&str) -> Option<f64> + '_ {
    move |key| {
        line.split_whitespace()
            .find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key))
            .and_then(|(_, v)| v.parse().ok())
    }
}

/// Least-squares slope of y over x.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (sxy, sxx) =
        points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + (x - mx) * (y - my), b + (x - mx) * (x - mx)));
    if sxx == 0.0 { 0.0 } else { sxy / sxx }
}

/// `threads`: the client ran its producer and churning threads (curlmux).
fn report(summary: &str, samples: &[Sample], seconds: f64, threads: bool) -> Result<(), String> {
    let get = fields(summary);
    let n = |key: &str| get(key).unwrap_or(f64::NAN);
    let (added, by_message, removed, freed, abandoned) =
        (n("added"), n("ended_by_message"), n("removed"), n("freed"), n("abandoned"));
    let ended = by_message + removed + freed + abandoned;
    println!(
        "soak: {added:.0} transfers in {seconds:.0} s ({:.0}/s), {} rounds: {by_message:.0} ended by their message, \
         {removed:.0} removed and {freed:.0} freed mid-transfer, {abandoned:.0} abandoned with their multi; \
         {:.0} wakeups from another thread; {:.0} added by a producer thread; {:.0} multis made, used and \
         cleaned up by another thread",
        added / seconds,
        samples.len(),
        n("wakeups"),
        n("produced"),
        n("churned")
    );
    let mut failures = Vec::new();
    if ended != added {
        failures.push(format!("{added:.0} added but {ended:.0} ended"));
    }
    if threads && (n("produced") == 0.0 || n("churned") == 0.0) {
        failures.push("the producer or the churning thread added nothing".into());
    }
    if n("churn_ok") != n("churned") {
        failures.push(format!(
            "{:.0} of the churning thread's {:.0} transfers did not end in one message with their body",
            n("churned") - n("churn_ok"),
            n("churned")
        ));
    }
    for (key, what) in [
        ("twice", "transfers got a second message"),
        ("stray", "messages for no transfer in flight"),
        ("wrong", "transfers ended with another result than their kind's (see stderr)"),
        ("stalled", "rounds stalled (60 s)"),
    ] {
        if n(key) != 0.0 {
            failures.push(format!("{:.0} {what}", n(key)));
        }
    }
    let warm: Vec<Sample> = samples.iter().copied().skip((samples.len() as f64 * WARM_UP) as usize).collect();
    if let (Some(first), Some(last)) = (warm.first(), warm.last()) {
        let span = last.transfers - first.transfers;
        let rss = slope(&warm.iter().map(|s| (s.transfers, s.rss_kb * 1024.0)).collect::<Vec<_>>());
        let fds = slope(&warm.iter().map(|s| (s.transfers, s.fds)).collect::<Vec<_>>());
        let (fd_min, fd_max) = warm.iter().fold((f64::MAX, f64::MIN), |(a, b), s| (a.min(s.fds), b.max(s.fds)));
        let (rss_min, rss_max) = warm.iter().fold((f64::MAX, f64::MIN), |(a, b), s| (a.min(s.rss_kb), b.max(s.rss_kb)));
        println!(
            "after warm-up ({} rounds, {span:.0} transfers): RSS {:.1}–{:.1} MB, slope {rss:.3} bytes per transfer \
             (fitted growth {:.0} KB); descriptors {fd_min:.0}–{fd_max:.0} at round ends, slope {:.2} per 1,000,000",
            warm.len(),
            rss_min / 1024.0,
            rss_max / 1024.0,
            rss * span / 1024.0,
            fds * 1e6
        );
        if rss > 1.0 && rss * span / 1024.0 > RSS_ALLOWANCE_KB {
            failures.push(format!("RSS grows {rss:.2} bytes per transfer"));
        }
        if fd_max != fd_min {
            failures.push(format!("descriptors at round ends move between {fd_min:.0} and {fd_max:.0}"));
        }
    }
    if failures.is_empty() {
        println!("soak: every transfer ended exactly once, as its kind expects; memory and descriptors flat");
        Ok(())
    } else {
        Err(format!("soak failed: {}", failures.join("; ")))
    }
}
