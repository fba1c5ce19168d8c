//! `curlmux demo`: the library at work in an existing binary. Runs the
//! unmodified curl command line, `--parallel`, with libcurlmux.so preloaded,
//! against the local server, and checks every file it wrote.

use std::path::Path;
use std::process::Command;

use crate::server;

/// What one URL of the demo should produce.
struct Expect {
    url: String,
    /// Body length for a 200, or the HTTP status otherwise.
    outcome: Outcome,
}

enum Outcome {
    Body(usize),
    Status(u16),
}

fn plan(base: &str, n: usize) -> Vec<Expect> {
    (0..n)
        .map(|i| {
            let size = [0, 1, 1000, 16_384, 100_000, 1_000_000][i % 6];
            let (path, outcome) = match i % 10 {
                7 => (format!("status/404?{i}"), Outcome::Status(404)),
                8 => (format!("delay/{}/{size}", 50 + i % 200), Outcome::Body(size)),
                9 => (format!("redirect/2/{size}"), Outcome::Body(size)),
                _ => (format!("bytes/{size}"), Outcome::Body(size)),
            };
            Expect { url: format!("{base}/{path}"), outcome }
        })
        .collect()
}

pub fn run(n: usize) -> Result<(), String> {
    let lib = crate::preload::library()?;
    let rt = crate::runtime().map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("curlmux-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let addr = rt.block_on(server::serve(0, None, dir.join("ca.pem"))).map_err(|e| format!("serve: {e}"))?.plain;
    let expects = plan(&format!("http://{addr}"), n);
    let mut config = String::new();
    for (i, e) in expects.iter().enumerate() {
        config.push_str(&format!("url = \"{}\"\noutput = \"{}\"\n", e.url, dir.join(i.to_string()).display()));
    }
    let config_path = dir.join("urls.cfg");
    std::fs::write(&config_path, config).map_err(|e| e.to_string())?;

    println!("curlmux demo: {n} transfers from http://{addr} with `curl --parallel`, libcurlmux.so preloaded");
    let started = std::time::Instant::now();
    let out = Command::new("curl")
        .args(["--silent", "--location", "--parallel", "--parallel-max", "50", "--config"])
        .arg(&config_path)
        .env("LD_PRELOAD", &lib)
        .env("CURLMUX_DEBUG", "1")
        .output()
        .map_err(|e| format!("cannot run curl (Debian package curl): {e}"))?;
    let elapsed = started.elapsed();
    let trace = String::from_utf8_lossy(&out.stderr);
    let bound = trace.lines().find(|l| l.starts_with("curlmux: bound to")).map(str::to_owned);
    let multis = trace.lines().filter(|l| l.starts_with("curlmux: multi handle created")).count();
    let checked = verify(&dir, &expects);
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        return Err(format!("curl failed ({}): {trace}", out.status));
    }
    let (ok, errors) = checked?;
    let bound = bound.ok_or("curl ran, but curlmux was not used (no trace from the preloaded library)")?;
    if multis == 0 {
        return Err("curl ran, but never created a multi handle through curlmux".into());
    }
    println!("{bound}");
    println!(
        "{ok} bodies verified byte for byte, {errors} error pages as expected, through {multis} curlmux multi handle(s), in {:.2} s",
        elapsed.as_secs_f64()
    );
    Ok(())
}

/// Checks every output file; returns (bodies verified, error pages seen).
fn verify(dir: &Path, expects: &[Expect]) -> Result<(usize, usize), String> {
    let (mut ok, mut errors) = (0, 0);
    for (i, e) in expects.iter().enumerate() {
        let body = std::fs::read(dir.join(i.to_string())).map_err(|err| format!("{}: no output: {err}", e.url))?;
        match e.outcome {
            Outcome::Body(len) => {
                let good = body.len() == len && body.iter().enumerate().all(|(j, &b)| b == server::pattern(j));
                if !good {
                    return Err(format!("{}: wrong body ({} bytes, expected {len})", e.url, body.len()));
                }
                ok += 1;
            }
            Outcome::Status(code) => {
                if body != format!("status {code}\n").as_bytes() {
                    return Err(format!("{}: expected the {code} page", e.url));
                }
                errors += 1;
            }
        }
    }
    Ok((ok, errors))
}
