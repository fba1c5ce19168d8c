//! The `curlmux` command: preloading, installing, a demo, and the local
//! HTTP server that the demo, the test suite and the benchmarks use. The
//! arguments, `--help`, the shell completions and the man page all come
//! from the one definition below (clap).

mod bench;
mod demo;
mod install;
mod local;
mod plot;
mod preload;
mod server;
mod soak;

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// libcurl's multi interface as a drop-in library: run programs with it,
/// install it, measure it.
#[derive(Parser)]
#[command(name = "curlmux", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs PROGRAM with libcurlmux.so preloaded (in front of any LD_PRELOAD).
    Run {
        /// The program and its arguments, unchanged (`--` before them is optional).
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "PROGRAM [ARGS]")]
        program: Vec<OsString>,
    },
    /// Which libcurl curlmux binds to here, its version and flavour.
    Doctor,
    /// The unmodified `curl --parallel` fetches TRANSFERS URLs from a local
    /// server through curlmux; every file is checked.
    Demo {
        #[arg(default_value_t = 200)]
        transfers: usize,
    },
    /// The benchmark matrix, stock libcurl against curlmux (BENCHMARKS.md).
    Bench(bench::Options),
    /// A long mixed workload in every loop style; fails unless every
    /// transfer ended exactly once and memory and descriptors stayed flat.
    Soak(soak::Options),
    /// Runs the local test server: prints `listening 127.0.0.1:PORT
    /// tls=127.0.0.1:PORT push=127.0.0.1:PORT h3=127.0.0.1:PORT
    /// quiet=127.0.0.1:PORT ca=FILE` and stops when its standard input
    /// closes. h3 is HTTP/3 over QUIC (UDP); quiet is TLS over TCP whose UDP
    /// port never answers.
    Serve {
        /// The plain HTTP port (0: any free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// A folder served under /files/.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Where to write the TLS server's certificate (PEM); kept on exit.
        #[arg(long, value_name = "FILE")]
        ca: Option<PathBuf>,
    },
    /// Installs the library, header, pkg-config file, command, man page and
    /// completions into a prefix (cargo-c's layout).
    Install(install::Options),
    /// Removes what `install` put into the same prefix.
    Uninstall(install::Options),
    /// Prints the shell completion script for SHELL.
    Completions { shell: clap_complete::Shell },
    /// Prints the man page (roff).
    Man,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Run { program } => preload::run(&program[0], &program[1..]),
        Command::Doctor => preload::doctor(),
        Command::Demo { transfers } => demo::run(transfers),
        Command::Bench(options) => bench::run(&options),
        Command::Soak(options) => soak::run(&options),
        Command::Serve { port, root, ca } => serve(port, root, ca),
        Command::Install(options) => install::install(&options),
        Command::Uninstall(options) => install::uninstall(&options),
        Command::Completions { shell } => print(&completions(shell)),
        Command::Man => man_page().and_then(|page| print(&page)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("curlmux: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Writes `text` to standard output; a reader that stops early (`| head`) is no error.
fn print(text: &[u8]) -> Result<(), String> {
    match std::io::stdout().lock().write_all(text) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
    }
}

/// The man page, curlmux(1).
fn man_page() -> Result<Vec<u8>, String> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page).map_err(|e| e.to_string())?;
    Ok(page)
}

/// The completion script for `shell`.
fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "curlmux", &mut script);
    script
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
}

fn serve(port: u16, root: Option<PathBuf>, ca: Option<PathBuf>) -> Result<(), String> {
    // A certificate file in the temp dir is ours to remove; one named with --ca is the caller's.
    let ca_is_ours = ca.is_none();
    let ca = ca.unwrap_or_else(|| std::env::temp_dir().join(format!("curlmux-ca-{}.pem", std::process::id())));
    let rt = runtime().map_err(|e| e.to_string())?;
    let on = rt.block_on(server::serve(port, root, ca)).map_err(|e| format!("serve: {e}"))?;
    println!(
        "listening {} tls={} push={} h3={} quiet={} ca={}",
        on.plain,
        on.tls,
        on.push,
        on.h3,
        on.quiet,
        on.ca.display()
    );
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
