//! `curlmux run` and `curlmux doctor`: preloading without knowing the
//! library's path, and what curlmux would bind to here.

use std::ffi::{CStr, CString, OsStr, OsString, c_char};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

/// libcurlmux.so: next to this executable (cargo's target/<profile>/), in
/// ../lib beside an installed bin/ (`curlmux install`), or wherever the
/// dynamic loader finds its soname.
pub fn library() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin = exe.parent().ok_or("the executable has no folder")?;
    let candidates = [bin.join("libcurlmux.so"), bin.join("../lib").join(crate::install::SONAME)];
    if let Some(lib) = candidates.iter().find(|l| l.exists()) {
        return Ok(lib.clone());
    }
    let soname = CString::new(crate::install::SONAME).map_err(|e| e.to_string())?;
    // SAFETY: a NUL-terminated name; RTLD_LAZY only to learn whether the loader finds it.
    let handle = unsafe { libc::dlopen(soname.as_ptr(), libc::RTLD_LAZY | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err(format!(
            "libcurlmux.so not found next to {} nor by the loader: build it with `cargo build --release`",
            exe.display()
        ));
    }
    // SAFETY: `handle` came from dlopen above and is not used afterwards.
    unsafe { libc::dlclose(handle) };
    Ok(PathBuf::from(crate::install::SONAME))
}

/// Replaces this process with `program args…`, libcurlmux.so preloaded
/// (in front of any LD_PRELOAD already set).
pub fn run(program: &OsStr, args: &[OsString]) -> Result<(), String> {
    let lib = library()?;
    let preload = match std::env::var("LD_PRELOAD") {
        Ok(old) if !old.is_empty() => format!("{} {old}", lib.display()),
        _ => lib.display().to_string(),
    };
    let err = Command::new(program).args(args).env("LD_PRELOAD", preload).exec();
    Err(format!("cannot run {}: {err}", program.to_string_lossy()))
}

/// Loads libcurlmux.so and asks it which libcurl it binds to in this
/// environment (CURLMUX_LIBCURL included).
pub fn doctor() -> Result<(), String> {
    let lib = library()?;
    let path = CString::new(lib.display().to_string()).map_err(|e| e.to_string())?;
    // SAFETY: a NUL-terminated path; the library is curlmux's own.
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err(format!("cannot load {}", lib.display()));
    }
    let text = |name: &CStr| -> Option<String> {
        // SAFETY: `handle` is live; the symbol, when present, is `const char *(void)`.
        let f = unsafe { libc::dlsym(handle, name.as_ptr()) };
        if f.is_null() {
            return None;
        }
        // SAFETY: curlmux_version/curlmux_libcurl have this signature (include/curlmux.h).
        let f: extern "C" fn() -> *const c_char = unsafe { std::mem::transmute(f) };
        let s = f();
        // SAFETY: both return NULL or a static NUL-terminated string.
        (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
    };
    println!("library:  {}", lib.display());
    println!("version:  {}", text(c"curlmux_version").unwrap_or_else(|| "?".into()));
    match text(c"curlmux_libcurl") {
        Some(bound) => {
            let flavour = if bound.contains("GnuTLS") {
                "GnuTLS"
            } else if bound.contains("OpenSSL") {
                "OpenSSL"
            } else {
                "other"
            };
            let (bound, provided) = bound.split_once("; curlmux provides: ").unwrap_or((&bound, "?"));
            println!("libcurl:  {bound}");
            println!("provides: {provided} (what the bound libcurl lacks, curlmux gives its own multis)");
            println!("flavour:  {flavour}");
            println!(
                "note:     a program that links libcurl itself gets curlmux bound to that one; \
                 set CURLMUX_LIBCURL to choose (e.g. libcurl-gnutls.so.4)"
            );
            Ok(())
        }
        None => Err("curlmux finds no libcurl here (CURLMUX_DEBUG=1 says why)".into()),
    }
}
