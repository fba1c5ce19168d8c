//! The `curlmux` command: a demo of the library, and the local test server
//! that the demo, the test suite and the benchmarks use.
//!
//! - `curlmux demo [N]`: serves N (default 200) URLs of mixed sizes, delays,
//!   redirects and errors on 127.0.0.1 and fetches them with the unmodified
//!   `curl --parallel` with libcurlmux.so preloaded; checks every file.
//! - `curlmux serve [PORT]`: runs the server; prints `listening 127.0.0.1:PORT`
//!   and stops when its standard input closes.

mod demo;
mod server;

use std::io::{BufRead, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(args.get(1).map(|p| p.parse().unwrap_or(0)).unwrap_or(0)),
        Some("demo") => demo::run(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(200)),
        _ => Err("usage: curlmux demo [TRANSFERS] | curlmux serve [PORT]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("curlmux: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
}

fn serve(port: u16) -> Result<(), String> {
    let rt = runtime().map_err(|e| e.to_string())?;
    let (addr, _task) = rt.block_on(server::serve(port)).map_err(|e| format!("bind: {e}"))?;
    println!("listening {addr}");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    // Lives exactly as long as whoever started it keeps our stdin open.
    for line in std::io::stdin().lock().lines() {
        if line.is_err() {
            break;
        }
    }
    Ok(())
}
