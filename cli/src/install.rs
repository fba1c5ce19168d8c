//! `curlmux install` and `curlmux uninstall`: the layout C users expect, as
//! cargo-c makes it — `lib/libcurlmux.so.X.Y.Z` with its soname and
//! development links, `lib/pkgconfig/curlmux.pc`, `include/curlmux.h`,
//! `bin/curlmux`, the man page and shell completions — with `DESTDIR`
//! staging. What install created is listed in a manifest, so uninstall
//! removes exactly that (and no folder that was there before).

use std::path::{Path, PathBuf};

use clap_complete::Shell;

/// The library's soname (build.rs gives it: libcurlmux.so.MAJOR).
pub const SONAME: &str = concat!("libcurlmux.so.", env!("CARGO_PKG_VERSION_MAJOR"));
const REAL_NAME: &str = concat!("libcurlmux.so.", env!("CARGO_PKG_VERSION"));
/// The committed header, which a unit test of the library keeps equal to the generated one.
const HEADER: &str = include_str!("../../include/curlmux.h");
const MANIFEST: &str = "share/curlmux/install-manifest";

/// Where `install` puts things and `uninstall` takes them from.
#[derive(clap::Args)]
pub struct Options {
    /// The installation prefix.
    #[arg(long, value_name = "DIR", default_value = "/usr/local", value_parser = absolute)]
    prefix: PathBuf,
    /// The library folder, relative to the prefix unless absolute.
    #[arg(long, value_name = "DIR", default_value = "lib")]
    libdir: PathBuf,
    /// Stages everything under DIR (for packaging); the files still name the prefix.
    #[arg(long, value_name = "DIR", env = "DESTDIR", value_parser = absolute)]
    destdir: Option<PathBuf>,
}

fn absolute(path: &str) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("{path}: {e}"))
}

impl Options {
    /// An installed path as written on disk: under DESTDIR when staging.
    fn staged(&self, installed: &Path) -> PathBuf {
        match &self.destdir {
            Some(dest) => dest.join(installed.strip_prefix("/").unwrap_or(installed)),
            None => installed.to_path_buf(),
        }
    }
}

/// One file install writes: where (relative to the prefix) and what.
enum Content {
    Bytes(Vec<u8>),
    Copy(PathBuf),
    Link(&'static str),
    /// The list of what install made, this file included (written last).
    Manifest,
}

fn files(options: &Options) -> Result<Vec<(PathBuf, Content, u32)>, String> {
    let lib = built_library()?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let libdir = &options.libdir;
    let completion = |shell| Content::Bytes(crate::completions(shell));
    Ok(vec![
        (libdir.join(REAL_NAME), Content::Copy(lib), 0o755),
        (libdir.join(SONAME), Content::Link(REAL_NAME), 0),
        (libdir.join("libcurlmux.so"), Content::Link(SONAME), 0),
        (libdir.join("pkgconfig/curlmux.pc"), Content::Bytes(pkg_config(options).into_bytes()), 0o644),
        ("include/curlmux.h".into(), Content::Bytes(HEADER.into()), 0o644),
        ("bin/curlmux".into(), Content::Copy(exe), 0o755),
        ("share/man/man1/curlmux.1".into(), Content::Bytes(crate::man_page()?), 0o644),
        ("share/bash-completion/completions/curlmux".into(), completion(Shell::Bash), 0o644),
        ("share/zsh/site-functions/_curlmux".into(), completion(Shell::Zsh), 0o644),
        ("share/fish/vendor_completions.d/curlmux.fish".into(), completion(Shell::Fish), 0o644),
    ])
}

/// The library file itself (not a link): next to this executable in a build
/// tree, or the real file behind an installed soname.
fn built_library() -> Result<PathBuf, String> {
    let lib = crate::preload::library()?;
    std::fs::canonicalize(&lib).map_err(|e| format!("{}: {e}", lib.display()))
}

fn pkg_config(options: &Options) -> String {
    let libdir = if options.libdir.is_absolute() {
        options.libdir.display().to_string()
    } else {
        format!("${{exec_prefix}}/{}", options.libdir.display())
    };
    format!(
        "prefix={}\nexec_prefix=${{prefix}}\nlibdir={libdir}\nincludedir=${{prefix}}/include\n\n\
         Name: curlmux\nDescription: libcurl's multi interface as a drop-in library (link it before libcurl)\n\
         Version: {}\nRequires: libcurl\nLibs: -L${{libdir}} -lcurlmux\nCflags: -I${{includedir}}\n",
        options.prefix.display(),
        env!("CARGO_PKG_VERSION")
    )
}

pub fn install(options: &Options) -> Result<(), String> {
    // Paths as the installed system names them (the prefix's), staged on writing.
    // Installing again keeps the folders an earlier install made.
    let earlier = std::fs::read_to_string(options.staged(&options.prefix.join(MANIFEST))).unwrap_or_default();
    let mut manifest: Vec<String> = earlier.lines().filter(|l| l.starts_with("dir ")).map(str::to_string).collect();
    let mut files = files(options)?;
    files.push((MANIFEST.into(), Content::Manifest, 0o644));
    for (path, content, mode) in files {
        let installed = options.prefix.join(&path);
        let target = options.staged(&installed);
        create_parents(options, &installed, &mut manifest)?;
        manifest.push(format!("file {}", installed.display()));
        let _ = std::fs::remove_file(&target);
        let written = match content {
            Content::Manifest => std::fs::write(&target, manifest.join("\n") + "\n"),
            Content::Bytes(bytes) => std::fs::write(&target, bytes),
            Content::Copy(from) => std::fs::copy(&from, &target).map(drop),
            Content::Link(to) => std::os::unix::fs::symlink(to, &target),
        };
        written.map_err(|e| format!("install {}: {e}", target.display()))?;
        if mode != 0 {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
                .map_err(|e| format!("chmod {}: {e}", target.display()))?;
        }
        println!("installed {}", target.display());
    }
    Ok(())
}

/// Creates the folders missing above `installed`, recording each in `manifest`.
fn create_parents(options: &Options, installed: &Path, manifest: &mut Vec<String>) -> Result<(), String> {
    let parent = installed.parent().ok_or("a file without a folder")?;
    let missing: Vec<&Path> = parent.ancestors().take_while(|d| !options.staged(d).exists()).collect();
    for dir in missing.into_iter().rev() {
        let staged = options.staged(dir);
        std::fs::create_dir(&staged).map_err(|e| format!("create {}: {e}", staged.display()))?;
        manifest.push(format!("dir {}", dir.display()));
    }
    Ok(())
}

pub fn uninstall(options: &Options) -> Result<(), String> {
    let list = options.staged(&options.prefix.join(MANIFEST));
    let text = std::fs::read_to_string(&list)
        .map_err(|e| format!("{}: {e} (was curlmux installed with this prefix?)", list.display()))?;
    let (mut files, mut dirs) = (Vec::new(), Vec::new());
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("file", path)) => files.push(options.staged(Path::new(path))),
            Some(("dir", path)) => dirs.push(options.staged(Path::new(path))),
            _ => return Err(format!("{}: unreadable line {line:?}", list.display())),
        }
    }
    for file in &files {
        match std::fs::remove_file(file) {
            Ok(()) => println!("removed {}", file.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("remove {}: {e}", file.display())),
        }
    }
    // Deepest first; a folder someone has put files in since stays.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in &dirs {
        if std::fs::remove_dir(dir).is_ok() {
            println!("removed {}/", dir.display());
        }
    }
    Ok(())
}
