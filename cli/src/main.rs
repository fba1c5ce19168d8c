//! The `curlmux` command: preloading helpers, a demo, and the local HTTP
//! server that the demo, the test suite and the benchmarks use.
//!
//! - `curlmux run -- PROGRAM ARGS…`: runs PROGRAM with libcurlmux.so preloaded.
//! - `curlmux doctor`: which libcurl curlmux binds to here, its version and flavour.
//! - `curlmux demo [N]`: the unmodified `curl --parallel` fetches N (default
//!   200) URLs from a local server through curlmux; every file is checked.
//! - `curlmux bench [--quick] [--reps N] [--only WORKLOAD] [--libcurl DIR]`: the
//!   benchmark matrix, stock libcurl against curlmux (BENCHMARKS.md), over the
//!   system's libcurl or DIR/libcurl.so.4.
//! - `curlmux soak [--transfers N] [--concurrency C] [--seed S] [--stock]
//!   [--libcurl DIR]`: a long mixed workload in every loop style; fails unless
//!   every transfer ended exactly once and memory and descriptors stayed flat.
//! - `curlmux serve [--port P] [--root DIR] [--ca FILE]`: runs the server;
//!   prints `listening 127.0.0.1:PORT tls=127.0.0.1:PORT push=127.0.0.1:PORT
//!   ca=FILE` and stops when its standard input closes.

mod bench;
mod demo;
mod local;
mod preload;
mod server;
mod soak;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: curlmux run -- PROGRAM [ARGS…] | curlmux doctor | curlmux demo [TRANSFERS] \
                     | curlmux bench [--quick] [--reps N] [--only WORKLOAD] [--libcurl DIR] \
                     | curlmux soak [--transfers N] [--concurrency C] [--seed S] [--stock] [--libcurl DIR] | curlmux serve [--port PORT] [--root DIR] [--ca FILE]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--help` anywhere but in the program `run` starts.
    let ours = if args.first().is_some_and(|a| a == "run") { &args[..1] } else { &args[..] };
    if ours.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let result = match args.first().map(String::as_str) {
        Some("run") => {
            let rest = if args.get(1).is_some_and(|a| a == "--") { &args[2..] } else { &args[1..] };
            match rest.split_first() {
                Some((program, args)) => preload::run(program, args),
                None => Err(USAGE.into()),
            }
        }
        Some("doctor") => preload::doctor(),
        Some("serve") => serve(&args[1..]),
        Some("demo") => demo::run(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(200)),
        Some("bench") => known_flags(&args[1..], &["--reps", "--only", "--libcurl"], &["--quick"])
            .and_then(|()| bench::run(&args[1..])),
        Some("soak") => known_flags(&args[1..], &["--transfers", "--concurrency", "--seed", "--libcurl"], &["--stock"])
            .and_then(|()| soak::run(&args[1..])),
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("curlmux: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Every argument is one of `with_value` followed by its value, or one of
/// `switches`: a long run never starts on a mistyped flag.
fn known_flags(args: &[String], with_value: &[&str], switches: &[&str]) -> Result<(), String> {
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if with_value.contains(&arg.as_str()) {
            it.next().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))?;
        } else if !switches.contains(&arg.as_str()) {
            return Err(format!("unknown argument {arg:?}\n{USAGE}"));
        }
    }
    Ok(())
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
}

fn serve(args: &[String]) -> Result<(), String> {
    let (mut port, mut root) = (0u16, None);
    let mut ca = std::env::temp_dir().join(format!("curlmux-ca-{}.pem", std::process::id()));
    // A certificate file in the temp dir is ours to remove; one named with --ca is the caller's.
    let mut ca_is_ours = true;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(USAGE)?;
        match flag.as_str() {
            "--port" => port = value.parse().map_err(|_| USAGE)?,
            "--root" => root = Some(PathBuf::from(value)),
            "--ca" => {
                ca = PathBuf::from(value);
                ca_is_ours = false;
            }
            _ => return Err(USAGE.into()),
        }
    }
    let rt = runtime().map_err(|e| e.to_string())?;
    let on = rt.block_on(server::serve(port, root, ca)).map_err(|e| format!("serve: {e}"))?;
    println!("listening {} tls={} push={} ca={}", on.plain, on.tls, on.push, on.ca.display());
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    // Lives exactly as long as whoever started it keeps our stdin open.
    for line in std::io::stdin().lock().lines() {
        if line.is_err() {
            break;
        }
    }
    if ca_is_ours {
        let _ = std::fs::remove_file(&on.ca);
    }
    Ok(())
}
