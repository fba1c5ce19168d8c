//! `curl_multi_setopt`, whose C prototype is variadic.
//!
//! Stable Rust cannot define a variadic function, so the one argument every
//! CURLMOPT takes (a long, a pointer, a function pointer or a curl_off_t) is
//! read as a fixed third parameter. That is exact for the x86-64 and AArch64
//! Linux calling conventions, where a variadic integer or pointer argument
//! travels in the same register as a fixed one; other targets are refused at
//! build time. The header keeps libcurl's `...` prototype.

#[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))))]
compile_error!("curl_multi_setopt's fixed-argument ABI is only valid on x86-64 and AArch64 Linux");

use std::ffi::{c_long, c_void};

use curl_sys::{CURLM, CURLMcode, CURLMoption};

use super::{dispatch, forward};
use crate::engine;
use crate::error::{Error, Result, to_code};
use crate::multi::{AppPointer, MultiOpt};
use crate::panic::boundary;

/// Decodes a raw argument by the option's type (libcurl's numbering:
/// LONG 0, OBJECTPOINT 10000, FUNCTIONPOINT 20000, OFF_T 30000).
fn decode(option: CURLMoption, raw: usize) -> Result<MultiOpt> {
    use curl_sys::*;
    let ptr = raw as *mut c_void;
    Ok(match option {
        CURLMOPT_SOCKETFUNCTION => MultiOpt::App(AppPointer::SocketFunction, ptr),
        CURLMOPT_SOCKETDATA => MultiOpt::App(AppPointer::SocketData, ptr),
        CURLMOPT_TIMERFUNCTION => MultiOpt::App(AppPointer::TimerFunction, ptr),
        CURLMOPT_TIMERDATA => MultiOpt::App(AppPointer::TimerData, ptr),
        CURLMOPT_PUSHFUNCTION => MultiOpt::App(AppPointer::PushFunction, ptr),
        CURLMOPT_PUSHDATA => MultiOpt::App(AppPointer::PushData, ptr),
        CURLMOPT_PIPELINING
        | CURLMOPT_MAXCONNECTS
        | CURLMOPT_MAX_HOST_CONNECTIONS
        | CURLMOPT_MAX_PIPELINE_LENGTH
        | CURLMOPT_MAX_TOTAL_CONNECTIONS
        | CURLMOPT_MAX_CONCURRENT_STREAMS
        | engine::CURLMOPT_NETWORK_CHANGED
        | engine::CURLMOPT_RESOLVE_THREADS_MAX
        | engine::CURLMOPT_QUICK_EXIT => MultiOpt::EngineLong(option, raw as c_long),
        engine::CURLMOPT_NOTIFYFUNCTION => MultiOpt::NotifyFunction(ptr),
        engine::CURLMOPT_NOTIFYDATA => MultiOpt::NotifyData(ptr),
        CURLMOPT_CONTENT_LENGTH_PENALTY_SIZE | CURLMOPT_CHUNK_LENGTH_PENALTY_SIZE => {
            MultiOpt::EngineOffT(option, raw as curl_off_t)
        }
        CURLMOPT_PIPELINING_SITE_BL | CURLMOPT_PIPELINING_SERVER_BL => MultiOpt::EnginePtr(option, ptr),
        _ => return Err(Error::UnknownOption),
    })
}

/// Sets one option of a multi handle (libcurl 8.20's CURLMOPT_* set).
///
/// Declared in <curl/multi.h> as `curl_multi_setopt(CURLM *multi, CURLMoption
/// option, ...)`; this header does not repeat that declaration.
///
/// Options that shape transfers (`PIPELINING`, `MAXCONNECTS`,
/// `MAX_HOST_CONNECTIONS`, `MAX_TOTAL_CONNECTIONS`, `MAX_CONCURRENT_STREAMS` and
/// the obsolete pipelining ones, which libcurl accepts and ignores) reach the
/// libcurl multi inside. `SOCKETFUNCTION`/`SOCKETDATA` and `TIMERFUNCTION`/
/// `TIMERDATA` are called exactly as libcurl calls them (the timer callback
/// gets this `multi`); curlmux keeps watching the sockets itself too, so
/// `curl_multi_perform`, `wait`, `poll` and `fdset` keep working.
/// `PUSHFUNCTION`/`PUSHDATA`: an accepted pushed easy becomes a transfer of
/// this multi, with its own completion message. `NOTIFYFUNCTION`/`NOTIFYDATA`
/// (8.17) are curlmux's own on every libcurl (see `curl_multi_notify_enable`).
/// `NETWORK_CHANGED` (8.16), `RESOLVE_THREADS_MAX` and `QUICK_EXIT` (8.20)
/// reach the libcurl multi inside, which may not know them.
///
/// Returns `CURLM_OK`; `CURLM_BAD_HANDLE` for a NULL or cleaned-up multi;
/// `CURLM_UNKNOWN_OPTION` for an option the bound libcurl does not have;
/// `CURLM_RECURSIVE_API_CALL` from inside one of the multi's callbacks.
///
/// # Safety
/// `multi` is NULL or a multi handle; `arg` has the type the option takes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_setopt(multi: *mut CURLM, option: CURLMoption, arg: usize) -> CURLMcode {
    boundary!({
        dispatch(multi, |m| to_code(m.setopt(decode(option, arg))), forward!(multi_setopt(multi, option, arg)))
    })
}
