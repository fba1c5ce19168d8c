//! The libcurl already loaded in the process, bound once at run time.
//!
//! Owns: the search for libcurl (docs/design.md, decision 1) and a table of typed
//! function pointers into it. This is the only file that calls `dlopen`,
//! `dlsym` or `dl_iterate_phdr`. Must not call any `curl_sys` function: inside
//! curlmux those names are curlmux itself.

use std::ffi::{CStr, CString, c_char, c_int, c_long, c_uint, c_void};
use std::sync::OnceLock;

use curl_sys::{CURL, CURLM, CURLMcode, CURLMoption, CURLMsg, curl_socket_t, curl_waitfd};

use crate::debug::trace;
use crate::versions;

/// Typed entry points of the bound libcurl, one per `curl_multi_*` curlmux
/// forwards, and what that libcurl can do: the one table of per-version facts
/// in curlmux.
pub struct LibCurl {
    /// Where the library was found, and how, its version and TLS library,
    /// and what curlmux provides on it itself.
    description: CString,
    /// `curl_version_info()->version_num`: 0x073d01 for 7.61.1.
    version_num: u32,
    pub multi_init: unsafe extern "C" fn() -> *mut CURLM,
    pub multi_cleanup: unsafe extern "C" fn(*mut CURLM) -> CURLMcode,
    pub multi_add_handle: unsafe extern "C" fn(*mut CURLM, *mut CURL) -> CURLMcode,
    pub multi_remove_handle: unsafe extern "C" fn(*mut CURLM, *mut CURL) -> CURLMcode,
    pub multi_perform: unsafe extern "C" fn(*mut CURLM, *mut c_int) -> CURLMcode,
    pub multi_fdset: unsafe extern "C" fn(
        *mut CURLM,
        *mut libc::fd_set,
        *mut libc::fd_set,
        *mut libc::fd_set,
        *mut c_int,
    ) -> CURLMcode,
    pub multi_wait: unsafe extern "C" fn(*mut CURLM, *mut curl_waitfd, c_uint, c_int, *mut c_int) -> CURLMcode,
    pub multi_timeout: unsafe extern "C" fn(*mut CURLM, *mut c_long) -> CURLMcode,
    pub multi_info_read: unsafe extern "C" fn(*mut CURLM, *mut c_int) -> *mut CURLMsg,
    pub multi_setopt: unsafe extern "C" fn(*mut CURLM, CURLMoption, ...) -> CURLMcode,
    pub multi_socket_action: unsafe extern "C" fn(*mut CURLM, curl_socket_t, c_int, *mut c_int) -> CURLMcode,
    pub multi_socket: unsafe extern "C" fn(*mut CURLM, curl_socket_t, *mut c_int) -> CURLMcode,
    pub multi_socket_all: unsafe extern "C" fn(*mut CURLM, *mut c_int) -> CURLMcode,
    pub multi_assign: unsafe extern "C" fn(*mut CURLM, curl_socket_t, *mut c_void) -> CURLMcode,
    pub easy_init: unsafe extern "C" fn() -> *mut CURL,
    pub easy_cleanup: unsafe extern "C" fn(*mut CURL),
    pub easy_pause: unsafe extern "C" fn(*mut CURL, c_int) -> curl_sys::CURLcode,
    pub easy_getinfo: unsafe extern "C" fn(*mut CURL, curl_sys::CURLINFO, ...) -> curl_sys::CURLcode,
    pub easy_setopt: unsafe extern "C" fn(*mut CURL, curl_sys::CURLoption, ...) -> curl_sys::CURLcode,
    /// The functions libcurl added after 7.61: None where this one lacks them.
    pub optional: Optional,
}

/// Functions libcurl added after 7.61, RHEL 8's. curlmux provides each for
/// its own multis whatever libcurl it binds to.
pub struct Optional {
    /// 7.66. Without it, curlmux never lets libcurl walk (the walk waits in it).
    pub multi_poll: Option<unsafe extern "C" fn(*mut CURLM, *mut curl_waitfd, c_uint, c_int, *mut c_int) -> CURLMcode>,
    /// 7.68.
    pub multi_wakeup: Option<unsafe extern "C" fn(*mut CURLM) -> CURLMcode>,
    /// 8.4.
    pub multi_get_handles: Option<unsafe extern "C" fn(*mut CURLM) -> *mut *mut CURL>,
    /// 8.8.
    pub multi_waitfds: Option<unsafe extern "C" fn(*mut CURLM, *mut curl_waitfd, c_uint, *mut c_uint) -> CURLMcode>,
    /// 8.16; its `CURLMINFO_*` argument is a C enum, an int.
    pub multi_get_offt: Option<unsafe extern "C" fn(*mut CURLM, c_int, *mut curl_sys::curl_off_t) -> CURLMcode>,
    /// 8.17, both; curlmux's own multis notify by themselves on every libcurl.
    pub multi_notify_enable: Option<unsafe extern "C" fn(*mut CURLM, c_uint) -> CURLMcode>,
    pub multi_notify_disable: Option<unsafe extern "C" fn(*mut CURLM, c_uint) -> CURLMcode>,
}

impl LibCurl {
    /// Where the library was found and how, its version and TLS library,
    /// then what curlmux provides on it.
    pub fn description(&self) -> &CStr {
        &self.description
    }

    /// Whether a fact of src/versions.rs holds for this libcurl.
    pub fn has(&self, fact: &versions::Fact) -> bool {
        fact.holds(self.version_num)
    }

    /// Whether the engine may hand driving to libcurl's own walk: it waits
    /// in curl_multi_poll (7.66), and after a walk on 8.10 to 8.12 libcurl's
    /// socket hash misses transfers that share a connection, and they stall
    /// (versions::MISREADS_LAST_POLL).
    pub fn can_walk(&self) -> bool {
        self.optional.multi_poll.is_some() && !self.has(&versions::MISREADS_LAST_POLL)
    }

    /// The multi functions this libcurl lacks, which curlmux provides itself.
    fn missing(&self) -> Vec<&'static str> {
        let n = &self.optional;
        [
            ("curl_multi_poll", n.multi_poll.is_none()),
            ("curl_multi_wakeup", n.multi_wakeup.is_none()),
            ("curl_multi_get_handles", n.multi_get_handles.is_none()),
            ("curl_multi_waitfds", n.multi_waitfds.is_none()),
            ("curl_multi_get_offt", n.multi_get_offt.is_none()),
            ("curl_multi_notify_enable", n.multi_notify_enable.is_none()),
            ("curl_multi_notify_disable", n.multi_notify_disable.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, missing)| missing.then_some(name))
        .collect()
    }
}

/// The process's libcurl, found on first use; `Err` says why none was found.
pub fn libcurl() -> Result<&'static LibCurl, &'static str> {
    static BOUND: OnceLock<Result<LibCurl, String>> = OnceLock::new();
    // For valgrind's race detectors (sync.rs): a Once's state is an atomic,
    // and what the first caller made is seen by every later one.
    crate::sync::unchecked(&BOUND);
    let bound = BOUND.get_or_init(|| {
        let found = bind();
        match &found {
            Ok(lib) => trace!("bound to {}", lib.description.to_string_lossy()),
            Err(why) => trace!("no libcurl: {why}"),
        }
        crate::sync::happens_before(&BOUND);
        found
    });
    crate::sync::happens_after(&BOUND);
    bound.as_ref().map_err(String::as_str)
}

/// A way to look a symbol up in one candidate library.
enum Source {
    Handle(*mut c_void),
    Next,
}

impl Source {
    fn lookup(&self, name: &CStr) -> *mut c_void {
        let handle = match self {
            Source::Handle(h) => *h,
            Source::Next => libc::RTLD_NEXT,
        };
        // SAFETY: `handle` is a live dlopen handle or RTLD_NEXT; `name` is NUL-terminated.
        unsafe { libc::dlsym(handle, name.as_ptr()) }
    }
}

const PROBE: &CStr = c"curl_multi_socket_action";

/// The search order of docs/design.md: `CURLMUX_LIBCURL`, `RTLD_NEXT`, a loaded
/// object that defines the multi API, then `dlopen("libcurl.so.4")`.
fn bind() -> Result<LibCurl, String> {
    if let Some(name) = std::env::var_os("CURLMUX_LIBCURL").filter(|v| !v.is_empty()) {
        let name = name.to_string_lossy().into_owned();
        let handle = open(&name, libc::RTLD_NOW | libc::RTLD_LOCAL)
            .ok_or_else(|| format!("CURLMUX_LIBCURL={name}: {}", dlerror()))?;
        return table(Source::Handle(handle), format!("{name} (CURLMUX_LIBCURL)"));
    }
    if let Some(path) = defined_outside_curlmux(&Source::Next) {
        return table(Source::Next, format!("{path} (next in the global scope)"));
    }
    for path in loaded_objects() {
        let Some(handle) = open(&path, libc::RTLD_LAZY | libc::RTLD_NOLOAD) else {
            continue;
        };
        let source = Source::Handle(handle);
        if let Some(owner) = defined_outside_curlmux(&source) {
            return table(source, format!("{owner} (already loaded)"));
        }
    }
    let handle = open("libcurl.so.4", libc::RTLD_NOW | libc::RTLD_LOCAL)
        .ok_or_else(|| format!("no libcurl in the process and dlopen(libcurl.so.4) failed: {}", dlerror()))?;
    table(Source::Handle(handle), "libcurl.so.4 (loaded by curlmux)".into())
}

/// The file that defines the probe symbol for `source`, unless that is curlmux.
fn defined_outside_curlmux(source: &Source) -> Option<String> {
    let addr = source.lookup(PROBE);
    if addr.is_null() {
        return None;
    }
    let file = object_of(addr)?;
    (Some(&file) != own_object().as_ref()).then_some(file)
}

/// The path of the loaded object that contains `addr`.
fn object_of(addr: *const c_void) -> Option<String> {
    // SAFETY: Dl_info is plain data; dladdr only writes it.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr accepts any address and reports 0 when no object holds it.
    if unsafe { libc::dladdr(addr, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated string owned by the loader.
    Some(unsafe { CStr::from_ptr(info.dli_fname) }.to_string_lossy().into_owned())
}

fn own_object() -> Option<String> {
    object_of(libcurl as *const c_void)
}

/// Paths of every loaded object (the main program, with no name, excluded).
/// Collected first and opened afterwards: dlopen inside dl_iterate_phdr deadlocks.
fn loaded_objects() -> Vec<String> {
    unsafe extern "C" fn collect(info: *mut libc::dl_phdr_info, _size: libc::size_t, out: *mut c_void) -> c_int {
        // SAFETY: dl_iterate_phdr passes a valid info; `out` is the Vec below.
        let (info, out) = unsafe { (&*info, &mut *(out as *mut Vec<String>)) };
        if !info.dlpi_name.is_null() {
            // SAFETY: dlpi_name is a NUL-terminated string owned by the loader.
            let name = unsafe { CStr::from_ptr(info.dlpi_name) }.to_string_lossy();
            if !name.is_empty() {
                out.push(name.into_owned());
            }
        }
        0
    }
    let mut names: Vec<String> = Vec::new();
    // SAFETY: `collect` matches the callback type and only touches `names`.
    unsafe { libc::dl_iterate_phdr(Some(collect), &mut names as *mut Vec<String> as *mut c_void) };
    names
}

fn open(name: &str, flags: c_int) -> Option<*mut c_void> {
    let name = CString::new(name).ok()?;
    // SAFETY: `name` is NUL-terminated; dlopen returns NULL on failure.
    let handle = unsafe { libc::dlopen(name.as_ptr(), flags) };
    (!handle.is_null()).then_some(handle)
}

fn dlerror() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated, thread-local message.
    let msg = unsafe { libc::dlerror() };
    if msg.is_null() {
        "unknown error".into()
    } else {
        // SAFETY: checked non-NULL above.
        unsafe { CStr::from_ptr(msg) }.to_string_lossy().into_owned()
    }
}

// Each transmute's target is the struct field it initialises, spelled out there.
#[allow(clippy::missing_transmute_annotations)]
fn table(source: Source, origin: String) -> Result<LibCurl, String> {
    let sym = |name: &CStr| {
        let addr = source.lookup(name);
        if addr.is_null() { Err(format!("{origin} lacks {}", name.to_string_lossy())) } else { Ok(addr) }
    };
    macro_rules! bind {
        ($name:literal) => {
            // SAFETY: the symbol is libcurl's function of that name, whose C
            // prototype is the field's type (both follow <curl/multi.h>).
            unsafe { std::mem::transmute::<*mut c_void, _>(sym($name)?) }
        };
    }
    macro_rules! optional {
        ($name:literal) => {
            // SAFETY: as for bind!; NULL (an older libcurl) becomes None.
            unsafe { std::mem::transmute::<*mut c_void, _>(source.lookup($name)) }
        };
    }
    let version_info: unsafe extern "C" fn(curl_sys::CURLversion) -> *const curl_sys::curl_version_info_data =
        bind!(c"curl_version_info");
    // SAFETY: every libcurl answers CURLVERSION_FIRST with a static struct
    // whose fields of that age (version, version_num, ssl_version) never changed.
    let info = unsafe { &*version_info(curl_sys::CURLVERSION_FIRST) };
    let text = |p: *const c_char| {
        if p.is_null() {
            return String::new();
        }
        // SAFETY: libcurl's static NUL-terminated string.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    };
    // Not curl_version(): in a libcurl built with LDAP it initialises LDAP
    // and SASL, whose allocations valgrind then reports in programs that
    // never asked for them.
    let version = format!("libcurl/{} {}", text(info.version), text(info.ssl_version));
    let version_num = info.version_num;
    let mut lib = LibCurl {
        version_num,
        multi_init: bind!(c"curl_multi_init"),
        multi_cleanup: bind!(c"curl_multi_cleanup"),
        multi_add_handle: bind!(c"curl_multi_add_handle"),
        multi_remove_handle: bind!(c"curl_multi_remove_handle"),
        multi_perform: bind!(c"curl_multi_perform"),
        multi_fdset: bind!(c"curl_multi_fdset"),
        multi_wait: bind!(c"curl_multi_wait"),
        multi_timeout: bind!(c"curl_multi_timeout"),
        multi_info_read: bind!(c"curl_multi_info_read"),
        multi_setopt: bind!(c"curl_multi_setopt"),
        multi_socket_action: bind!(c"curl_multi_socket_action"),
        multi_socket: bind!(c"curl_multi_socket"),
        multi_socket_all: bind!(c"curl_multi_socket_all"),
        multi_assign: bind!(c"curl_multi_assign"),
        easy_init: bind!(c"curl_easy_init"),
        easy_cleanup: bind!(c"curl_easy_cleanup"),
        easy_pause: bind!(c"curl_easy_pause"),
        easy_getinfo: bind!(c"curl_easy_getinfo"),
        easy_setopt: bind!(c"curl_easy_setopt"),
        optional: Optional {
            multi_poll: optional!(c"curl_multi_poll"),
            multi_wakeup: optional!(c"curl_multi_wakeup"),
            multi_get_handles: optional!(c"curl_multi_get_handles"),
            multi_waitfds: optional!(c"curl_multi_waitfds"),
            multi_get_offt: optional!(c"curl_multi_get_offt"),
            multi_notify_enable: optional!(c"curl_multi_notify_enable"),
            multi_notify_disable: optional!(c"curl_multi_notify_disable"),
        },
        description: CString::default(),
    };
    let missing = lib.missing();
    let provided = if missing.is_empty() { "none".to_string() } else { missing.join(", ") };
    lib.description = CString::new(format!("{origin} {version}; curlmux provides: {provided}")).unwrap_or_default();
    Ok(lib)
}
