//! `curlmux install` and `uninstall` as a C user meets them: into a
//! temporary prefix, a C program built with nothing but `pkg-config
//! --cflags --libs curlmux` and run, `curlmux run` from the installed bin/
//! finding the installed library, a DESTDIR-staged install naming its
//! prefix, and uninstall leaving no file behind.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{describe, run_limited};

const LIMIT: Duration = Duration::from_secs(60);

/// Runs `cmd`, which must succeed; its standard output.
fn output(what: &str, cmd: Command) -> String {
    let out = run_limited(cmd, LIMIT);
    assert!(out.status.success(), "{}", describe(what, &out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn curlmux(args: &[&str]) -> Command {
    let mut cmd = Command::new(common::curlmux_exe());
    cmd.args(args).env_remove("DESTDIR");
    cmd
}

/// Every file (not folder) under `root`.
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() && !path.is_symlink() { todo.push(path) } else { found.push(path) }
        }
    }
    found
}

#[test]
fn installed_curlmux_builds_with_pkg_config_runs_and_uninstalls_cleanly() {
    let dir = common::scratch("install", "prefix");
    let prefix = dir.join("usr");
    let p = prefix.to_str().unwrap();
    output("curlmux install", curlmux(&["install", "--prefix", p]));
    let lib = prefix.join("lib");
    assert_eq!(std::fs::read_link(lib.join("libcurlmux.so")).unwrap(), Path::new("libcurlmux.so.0"));
    assert_eq!(std::fs::read_link(lib.join("libcurlmux.so.0")).unwrap(), Path::new("libcurlmux.so.0.1.0"));
    assert!(prefix.join("share/man/man1/curlmux.1").exists() && prefix.join("include/curlmux.h").exists());

    // A C program built with pkg-config alone, curlmux linked before libcurl.
    let pc_path = lib.join("pkgconfig");
    let mut pc = Command::new("pkg-config");
    pc.args(["--cflags", "--libs", "curlmux"]).env("PKG_CONFIG_PATH", &pc_path);
    let flags = output("pkg-config --cflags --libs curlmux", pc);
    let program = dir.join("fetch");
    let mut cc = Command::new("cc");
    cc.arg("-o").arg(&program).arg(common::repo().join("ctests/install/fetch.c")).args(flags.split_whitespace());
    output("cc fetch.c $(pkg-config --cflags --libs curlmux)", cc);
    let mut readelf = Command::new("readelf");
    readelf.arg("-d").arg(&program);
    let dynamic = output("readelf -d fetch", readelf);
    let needed = |name: &str| {
        let at = dynamic.lines().position(|l| l.contains("(NEEDED)") && l.contains(name));
        at.unwrap_or_else(|| panic!("fetch does not need {name}:\n{dynamic}"))
    };
    assert!(needed("[libcurlmux.so.0]") < needed("[libcurl.so.4]"), "curlmux must come first:\n{dynamic}");
    let server = common::start_server(None);
    let mut fetch = Command::new(&program);
    fetch.arg(format!("{}/bytes/1000", server.url)).env("LD_LIBRARY_PATH", &lib).env_remove("LD_PRELOAD");
    let said = output("fetch", fetch);
    assert_eq!(said.trim(), format!("curlmux/{} bytes=1000", env!("CARGO_PKG_VERSION")));

    // `curlmux run` from the installed bin/ preloads the installed library.
    let installed = prefix.join("bin/curlmux");
    let mut run = Command::new(&installed);
    run.args(["run", "--", "sh", "-c", "printf %s \"$LD_PRELOAD\""]).env_remove("LD_PRELOAD");
    let preload = output("installed curlmux run", run);
    assert_eq!(std::fs::canonicalize(&preload).unwrap(), std::fs::canonicalize(lib.join("libcurlmux.so.0")).unwrap());
    let mut run = Command::new(&installed);
    run.args(["run", "--", "curl", "-sS", "-o", "/dev/null", "-w", "%{size_download}"])
        .arg(format!("{}/bytes/5000", server.url))
        .env("CURLMUX_DEBUG", "1")
        .env_remove("LD_PRELOAD");
    let out = run_limited(run, LIMIT);
    assert!(out.status.success(), "{}", describe("installed curlmux run curl", &out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "5000");
    assert!(String::from_utf8_lossy(&out.stderr).contains("curlmux: bound to"), "{}", describe("trace", &out));

    // Installed twice, uninstalled once: nothing is left either.
    output("curlmux install again", curlmux(&["install", "--prefix", p]));
    output("curlmux uninstall", curlmux(&["uninstall", "--prefix", p]));
    assert_eq!(files_under(&dir), vec![program.clone()], "uninstall left files behind");
    assert!(!prefix.exists(), "uninstall left the folders it made");
}

#[test]
fn destdir_stages_an_install_that_names_its_prefix() {
    let dest = common::scratch("install", "destdir");
    let mut cmd = curlmux(&["install", "--prefix", "/opt/curlmux"]);
    cmd.env("DESTDIR", &dest);
    output("DESTDIR=… curlmux install", cmd);
    let staged = dest.join("opt/curlmux");
    let pc = std::fs::read_to_string(staged.join("lib/pkgconfig/curlmux.pc")).expect("staged curlmux.pc");
    assert!(pc.starts_with("prefix=/opt/curlmux\n") && pc.contains("\nRequires: libcurl\n"), "{pc}");
    let mut readelf = Command::new("readelf");
    readelf.arg("-d").arg(staged.join("lib/libcurlmux.so.0.1.0"));
    assert!(output("readelf", readelf).contains("Library soname: [libcurlmux.so.0]"));
    let mut cmd = curlmux(&["uninstall", "--prefix", "/opt/curlmux", "--destdir"]);
    cmd.arg(&dest);
    output("curlmux uninstall --destdir", cmd);
    assert!(files_under(&dest).is_empty(), "uninstall left {:?}", files_under(&dest));
    assert!(std::fs::read_dir(&dest).unwrap().next().is_none(), "uninstall left folders in DESTDIR");
}
