//! The `curl_multi_*` functions of libcurl 7.88's <curl/multi.h>, same
//! prototypes, same return codes. Their doc comments become include/curlmux.h.

use std::ffi::{c_char, c_int, c_long, c_uint, c_void};

use curl_sys::{CURL, CURLM, CURLMcode, CURLMsg, curl_socket_t, curl_waitfd};

use super::{dispatch, forward, out};
use crate::engine::libcurl;
use crate::error::{self, CURLM_BAD_FUNCTION_ARGUMENT, Result, to_code};
use crate::multi::{FdSets, Handles, Multi, WaitKind};
use crate::panic::boundary;
use crate::registry;

/// Writes the running count of a successful drive.
///
/// # Safety
/// `running_handles` is NULL or writable.
unsafe fn report_running(running_handles: *mut c_int, result: Result<c_int>) -> CURLMcode {
    // SAFETY: the caller passes NULL or a writable int.
    let running = unsafe { out(running_handles) };
    to_code(result.map(|n| running.map_or((), |r| *r = n)))
}

/// Creates a multi handle.
///
/// The first call binds curlmux to the libcurl the process already uses
/// (`CURLMUX_LIBCURL`, then the next `curl_multi_*` definition after curlmux,
/// then a loaded libcurl, then `libcurl.so.4`).
///
/// Returns the handle, or NULL when no libcurl can be bound (the reason goes
/// to stderr when `CURLMUX_DEBUG` is set) or resources run out. Free it with
/// `curl_multi_cleanup`.
#[unsafe(no_mangle)]
pub extern "C" fn curl_multi_init() -> *mut CURLM {
    boundary!({
        let Ok(lib) = libcurl() else { return std::ptr::null_mut() };
        match Multi::new(lib) {
            Ok(m) => {
                let handle = registry::issue(m);
                crate::debug::trace!("multi handle created: {handle:p}");
                handle
            }
            Err(e) => {
                crate::debug::trace!("curl_multi_init failed: {e:?}");
                std::ptr::null_mut()
            }
        }
    })
}

/// Destroys a multi handle.
///
/// Every easy handle still attached is detached, never freed: each stays
/// valid and may be added to a multi again. Unfinished transfers are
/// abandoned without a message; queued messages and every `CURLMsg` pointer
/// from `curl_multi_info_read` become invalid. Afterwards the handle answers
/// `CURLM_BAD_HANDLE` to every call (curlmux never reuses its memory for
/// anything else).
///
/// Returns `CURLM_OK`; `CURLM_BAD_HANDLE` for a NULL or already cleaned-up
/// handle; `CURLM_RECURSIVE_API_CALL` from inside one of its callbacks.
///
/// # Safety
/// `multi` is NULL or a multi handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_cleanup(multi: *mut CURLM) -> CURLMcode {
    boundary!({
        dispatch(
            multi,
            |m| {
                let result = m.cleanup();
                if result.is_ok() {
                    registry::retire(multi);
                }
                to_code(result)
            },
            forward!(multi_cleanup(multi)),
        )
    })
}

/// Attaches an easy handle; its transfer starts on the next
/// `curl_multi_perform` (or `curl_multi_socket_action`). The multi does not
/// take ownership: the caller frees the easy, after removing it.
///
/// Returns `CURLM_OK`; `CURLM_BAD_HANDLE` (bad multi), `CURLM_BAD_EASY_HANDLE`
/// (NULL or not an easy handle), `CURLM_ADDED_ALREADY` (the easy is in this
/// or another multi), `CURLM_RECURSIVE_API_CALL` (from inside a callback),
/// in that order of checking. From inside a callback the bound libcurl
/// answers in its own order (7.82 and later); bound to an older one, whose
/// socket, timer and write callbacks may add and remove (and then crash),
/// curlmux answers `CURLM_RECURSIVE_API_CALL` itself, here and in
/// `curl_multi_remove_handle`.
///
/// Any thread may call it, also while another thread drives the multi or
/// sleeps in it: a sleeping wait, poll or select on its descriptor returns at
/// once. It never waits for another thread: from another thread than the one
/// that drives (or while one is inside the multi), the easy is queued and
/// that thread hands it to libcurl at its next call, or before its current
/// one returns. curlmux's own checks come first then (NULL, already in this
/// multi), and an easy libcurl refuses ends in a message with
/// `CURLE_BAD_FUNCTION_ARGUMENT`.
///
/// # Safety
/// `multi` is NULL or a multi handle; `easy` is NULL or an easy handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_add_handle(multi: *mut CURLM, easy: *mut CURL) -> CURLMcode {
    boundary!({ dispatch(multi, |m| to_code(m.add(easy)), forward!(multi_add_handle(multi, easy))) })
}

/// Detaches an easy handle, at any time, also mid-transfer. A queued message
/// for it is dropped; a `CURLMsg` pointer already returned for it stays
/// readable for a while (curlmux keeps the last 4096 removed easies' slots).
/// The easy is not freed.
///
/// Returns `CURLM_OK`, also for an easy in no multi; `CURLM_BAD_HANDLE` (bad
/// multi); `CURLM_BAD_EASY_HANDLE` (NULL, not an easy, or attached to another
/// multi); `CURLM_RECURSIVE_API_CALL` (from inside a callback). Bound to a
/// libcurl older than 7.70, an easy attached to another multi gets
/// `CURLM_OK`, as that libcurl answers, and is left where it is (that
/// libcurl would unlink it from the wrong multi).
///
/// Any thread may call it. While another thread is inside a call that
/// drives the multi, it waits for that call to return; afterwards libcurl
/// never touches the easy for this multi again. A sleeping wait, poll or
/// select on the multi's descriptor returns at once.
///
/// # Safety
/// `multi` is NULL or a multi handle; `easy` is NULL or an easy handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_remove_handle(multi: *mut CURLM, easy: *mut CURL) -> CURLMcode {
    boundary!({ dispatch(multi, |m| to_code(m.remove(easy)), forward!(multi_remove_handle(multi, easy))) })
}

/// Drives every transfer that can make progress, without blocking.
///
/// Work is proportional to the sockets that are ready and the timers that
/// are due, not to the number of attached transfers. With at most 128
/// transfers attached and most of them ready at each call, libcurl's own
/// walk over them is cheaper, and curlmux lets libcurl walk; it goes back
/// as soon as that stops being true (never when the application set its own
/// socket or timer callback).
///
/// `*running_handles` (may be NULL) is set to the number of attached
/// transfers that have not finished.
///
/// Returns `CURLM_OK`, `CURLM_BAD_HANDLE`, `CURLM_RECURSIVE_API_CALL` (from
/// inside a callback), or an error libcurl reported for a transfer.
///
/// # Safety
/// `multi` is NULL or a multi handle; `running_handles` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_perform(multi: *mut CURLM, running_handles: *mut c_int) -> CURLMcode {
    boundary!({
        dispatch(
            multi,
            // SAFETY: the caller passes NULL or a writable int.
            |m| unsafe { report_running(running_handles, m.perform()) },
            forward!(multi_perform(multi, running_handles)),
        )
    })
}

/// Adds the descriptor to wait on to the caller's `read_fd_set` (the sets are
/// not cleared first; `write_fd_set` and `exc_fd_set` are left alone).
///
/// curlmux reports one descriptor, an epoll fd that becomes readable when any
/// transfer's socket is ready, when libcurl's next timeout is due and when
/// `curl_multi_wakeup` is called. So a `select()` loop works with any number
/// of transfers (no `FD_SETSIZE` limit on their sockets) and wakes on time
/// even if it never asks `curl_multi_timeout`.
///
/// While libcurl walks the transfers (see `curl_multi_perform`), and only
/// when the process's descriptor limit keeps every socket below
/// `FD_SETSIZE`, the transfers' sockets are added too, as libcurl adds them
/// (read, write and exception sets), beside that descriptor. Otherwise a walk
/// ends here; its descriptor then reads as ready at once, so that the loop
/// performs soon. Like libcurl's, this call runs no transfer and no callback.
///
/// `*max_fd` is set to the highest descriptor added, or -1 when no transfer
/// has a socket to wait on (none attached, all finished, none started), as
/// libcurl answers; a loop then sleeps for `curl_multi_timeout`. The
/// descriptor may be given back to `curl_multi_socket_action`, which then
/// drives whatever is ready behind it.
///
/// Returns `CURLM_OK`, `CURLM_BAD_HANDLE`, `CURLM_RECURSIVE_API_CALL` (from
/// inside a callback), `CURLM_BAD_FUNCTION_ARGUMENT` (`max_fd` NULL).
///
/// # Safety
/// `multi` is NULL or a multi handle; each set is NULL or a writable fd_set;
/// `max_fd` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_fdset(
    multi: *mut CURLM,
    read_fd_set: *mut libc::fd_set,
    write_fd_set: *mut libc::fd_set,
    exc_fd_set: *mut libc::fd_set,
    max_fd: *mut c_int,
) -> CURLMcode {
    boundary!({
        dispatch(
            multi,
            |m| {
                // SAFETY: each set and `max_fd` is NULL or writable, as the caller promises.
                let (sets, max_fd) = unsafe {
                    (FdSets { read: out(read_fd_set), write: out(write_fd_set), exc: out(exc_fd_set) }, out(max_fd))
                };
                to_code(m.fdset(sets, max_fd))
            },
            forward!(multi_fdset(multi, read_fd_set, write_fd_set, exc_fd_set, max_fd)),
        )
    })
}

/// curl_multi_wait's and curl_multi_poll's answer on a curlmux multi.
///
/// # Safety
/// As for `curl_multi_wait`.
unsafe fn wait_on(
    m: &Multi,
    extra_fds: *mut curl_waitfd,
    extra_nfds: c_uint,
    timeout_ms: c_int,
    numfds: *mut c_int,
    kind: WaitKind,
) -> CURLMcode {
    if extra_fds.is_null() && extra_nfds > 0 {
        return CURLM_BAD_FUNCTION_ARGUMENT;
    }
    let extra: &mut [curl_waitfd] = if extra_nfds == 0 {
        &mut []
    } else {
        // SAFETY: the caller passes `extra_nfds` writable curl_waitfd entries.
        unsafe { std::slice::from_raw_parts_mut(extra_fds, extra_nfds as usize) }
    };
    // SAFETY: the caller passes NULL or a writable int.
    let numfds = unsafe { out(numfds) };
    to_code(m.wait(extra, timeout_ms, kind).map(|waited| numfds.map_or((), |n| *n = waited.ready)))
}

/// Waits until a transfer's socket is ready, libcurl's next timeout is due,
/// one of the caller's `extra_fds` has an event (its `revents` is filled in),
/// or `timeout_ms` passes. Returns at once when no transfer is attached and
/// there are no extra descriptors. Bound to libcurl 8.20 or later, it also
/// returns at once on a pending `curl_multi_wakeup`, and takes it, whenever
/// it waits on anything (a socket, an extra descriptor, a transfer alive),
/// as that libcurl does; before 8.20 wakeups do not touch it.
///
/// `*numfds` (may be NULL) is set to the number of descriptors with events,
/// the multi's and the extra ones.
///
/// Returns `CURLM_OK`; `CURLM_BAD_HANDLE`; `CURLM_RECURSIVE_API_CALL` (from
/// inside a callback); `CURLM_BAD_FUNCTION_ARGUMENT` (negative timeout; a
/// libcurl older than 7.69 instead waits without a limit of its own, and so
/// does curlmux bound to it); `CURLM_UNRECOVERABLE_POLL`. Other threads may
/// use the multi meanwhile; a change one makes (add, remove, setopt,
/// cleanup) ends the wait at once, with nothing ready.
///
/// # Safety
/// `multi` is NULL or a multi handle; `extra_fds` points to `extra_nfds`
/// writable entries (or is NULL with 0); `numfds` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_wait(
    multi: *mut CURLM,
    extra_fds: *mut curl_waitfd,
    extra_nfds: c_uint,
    timeout_ms: c_int,
    numfds: *mut c_int,
) -> CURLMcode {
    boundary!({
        dispatch(
            multi,
            // SAFETY: arguments passed on as the caller gave them.
            |m| unsafe { wait_on(m, extra_fds, extra_nfds, timeout_ms, numfds, WaitKind::Wait) },
            forward!(multi_wait(multi, extra_fds, extra_nfds, timeout_ms, numfds)),
        )
    })
}

/// As `curl_multi_wait`, but sleeps up to `timeout_ms` even when there is
/// nothing to wait on, and returns early when `curl_multi_wakeup` is called
/// (before or during the call). The wakeup is not counted in `*numfds`.
/// A negative timeout is `CURLM_BAD_FUNCTION_ARGUMENT`. libcurl 7.66's
/// function: curlmux provides it whatever libcurl it binds to; for a multi
/// curlmux did not make, a libcurl without it answers `CURLM_BAD_HANDLE`.
///
/// # Safety
/// As for `curl_multi_wait`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_poll(
    multi: *mut CURLM,
    extra_fds: *mut curl_waitfd,
    extra_nfds: c_uint,
    timeout_ms: c_int,
    numfds: *mut c_int,
) -> CURLMcode {
    boundary!({
        dispatch(
            multi,
            // SAFETY: arguments passed on as the caller gave them.
            |m| unsafe { wait_on(m, extra_fds, extra_nfds, timeout_ms, numfds, WaitKind::Poll) },
            forward!(optional multi_poll(multi, extra_fds, extra_nfds, timeout_ms, numfds)),
        )
    })
}

/// Makes a current or the next `curl_multi_poll` on this multi return
/// early (and, bound to libcurl 8.20 or later, a `curl_multi_wait` with
/// anything to wait on, as there). Safe to call from any thread at any
/// time, also from callbacks; several wakeups before a poll collapse into
/// one. libcurl 7.68's function:
/// curlmux provides it whatever libcurl it binds to; for a multi curlmux did
/// not make, a libcurl without it answers `CURLM_BAD_HANDLE`.
///
/// Returns `CURLM_OK`, `CURLM_BAD_HANDLE`, `CURLM_WAKEUP_FAILURE`.
///
/// # Safety
/// `multi` is NULL or a multi handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_wakeup(multi: *mut CURLM) -> CURLMcode {
    boundary!({ dispatch(multi, |m| to_code(m.wakeup()), forward!(optional multi_wakeup(multi))) })
}

/// Sets `*milliseconds` to the time until libcurl wants
/// `curl_multi_perform` (or a timeout action) called: 0 means now, -1 means
/// no timeout is set. A remainder under 1 ms is reported as 1.
///
/// Returns `CURLM_OK`, `CURLM_BAD_HANDLE`, `CURLM_RECURSIVE_API_CALL` (from
/// inside a callback), `CURLM_BAD_FUNCTION_ARGUMENT` (`milliseconds` NULL).
///
/// # Safety
/// `multi` is NULL or a multi handle; `milliseconds` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_timeout(multi: *mut CURLM, milliseconds: *mut c_long) -> CURLMcode {
    boundary!({
        dispatch(
            multi,
            // SAFETY: the caller passes NULL or a writable long.
            |m| to_code(m.timeout(unsafe { out(milliseconds) })),
            forward!(multi_timeout(multi, milliseconds)),
        )
    })
}

/// Takes the oldest completion message, or returns NULL when none is queued.
/// `*msgs_in_queue` (may be NULL) is set to the number still queued after
/// this one (0 when NULL is returned).
///
/// Each message is `CURLMSG_DONE` with the transfer's `CURLcode` in
/// `data.result`; every added transfer yields exactly one. The `CURLMsg` is
/// owned by the multi and, as in libcurl, lives with its transfer: the
/// pointer stays valid across later `curl_multi_info_read` calls, at least
/// until its easy is removed or the multi is cleaned up.
///
/// Returns NULL for a NULL or cleaned-up multi and from inside a callback.
/// Any thread may call it at any time; it never waits for a thread inside
/// the multi.
///
/// # Safety
/// `multi` is NULL or a multi handle; `msgs_in_queue` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_info_read(multi: *mut CURLM, msgs_in_queue: *mut c_int) -> *mut CURLMsg {
    boundary!({
        // libcurl writes "none" first, for any handle.
        // SAFETY: the caller passes NULL or a writable int.
        if let Some(queued) = unsafe { out(msgs_in_queue) } {
            *queued = 0;
        }
        dispatch(
            multi,
            |m| {
                let (msg, queued) = m.info_read().unwrap_or((std::ptr::null_mut(), 0));
                // SAFETY: the caller passes NULL or a writable int.
                if let Some(left) = unsafe { out(msgs_in_queue) } {
                    *left = queued;
                }
                msg
            },
            forward!(multi_info_read(multi, msgs_in_queue)),
        )
    })
}

/// Returns a static, NUL-terminated description of a `CURLMcode`
/// ("Unknown error" for codes libcurl 7.88 does not define). Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn curl_multi_strerror(code: CURLMcode) -> *const c_char {
    boundary!({ error::describe(code).as_ptr() as *const c_char })
}

/// Tells libcurl that `sockfd` is ready as `ev_bitmask` says
/// (`CURL_CSELECT_IN/OUT/ERR`, 0 to let libcurl check), or, with
/// `CURL_SOCKET_TIMEOUT`, that its timeout is due; then drives the transfers
/// concerned. The descriptor `curl_multi_fdset` or `curl_multi_waitfds`
/// handed out is taken too: every socket ready behind it and a due timeout
/// are handled, whatever `ev_bitmask` says. `*running_handles` (may be NULL)
/// is set as by `curl_multi_perform`.
///
/// Returns `CURLM_OK`, `CURLM_BAD_HANDLE` (also for NULL, where libcurl
/// before 8.22 crashes), `CURLM_RECURSIVE_API_CALL` (from inside a
/// callback), or an error libcurl reported.
///
/// # Safety
/// `multi` is NULL or a multi handle; `running_handles` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_socket_action(
    multi: *mut CURLM,
    sockfd: curl_socket_t,
    ev_bitmask: c_int,
    running_handles: *mut c_int,
) -> CURLMcode {
    boundary!({
        dispatch(
            multi,
            // SAFETY: the caller passes NULL or a writable int.
            |m| unsafe { report_running(running_handles, m.socket_action(sockfd, ev_bitmask)) },
            forward!(multi_socket_action(multi, sockfd, ev_bitmask, running_handles)),
        )
    })
}

/// Deprecated form of `curl_multi_socket_action(multi, sockfd, 0,
/// running_handles)`, still exported because existing binaries call it.
/// <curl/multi.h> turns the name into that macro unless
/// CURL_ALLOW_OLD_MULTI_SOCKET is defined; the parentheses keep this a
/// declaration either way.
///
/// # Safety
/// As for `curl_multi_socket_action`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_socket(
    multi: *mut CURLM,
    sockfd: curl_socket_t,
    running_handles: *mut c_int,
) -> CURLMcode {
    boundary!({
        dispatch(
            multi,
            // SAFETY: the caller passes NULL or a writable int.
            |m| unsafe { report_running(running_handles, m.socket_action(sockfd, 0)) },
            forward!(multi_socket(multi, sockfd, running_handles)),
        )
    })
}

/// Deprecated: drives every transfer as `curl_multi_perform` does. Still
/// exported because existing binaries (tornado-style sweeps) call it.
///
/// # Safety
/// As for `curl_multi_perform`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_socket_all(multi: *mut CURLM, running_handles: *mut c_int) -> CURLMcode {
    boundary!({
        dispatch(
            multi,
            // SAFETY: the caller passes NULL or a writable int.
            |m| unsafe { report_running(running_handles, m.perform()) },
            forward!(multi_socket_all(multi, running_handles)),
        )
    })
}

/// Attaches a private pointer to a socket libcurl uses, passed back as
/// `socketp` to the socket callback. Allowed from inside callbacks.
///
/// Returns `CURLM_OK`, `CURLM_BAD_HANDLE` (also for NULL, where libcurl
/// before 8.11 crashes), `CURLM_BAD_SOCKET` (libcurl does not know `sockfd`).
///
/// # Safety
/// `multi` is NULL or a multi handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_assign(multi: *mut CURLM, sockfd: curl_socket_t, sockp: *mut c_void) -> CURLMcode {
    boundary!({ dispatch(multi, |m| to_code(m.assign(sockfd, sockp)), forward!(multi_assign(multi, sockfd, sockp))) })
}

/// Returns the easy handles attached to `multi`, as a NULL-terminated array
/// the caller frees with `curl_free` (libcurl 8.4's function, provided by
/// curlmux whatever libcurl it binds to). The order is unspecified. The
/// easies stay the caller's; the array is a copy.
///
/// Inside a callback it answers libcurl's own list (its function's), as
/// libcurl does there; bound to a libcurl older than 8.4, NULL there.
///
/// Returns NULL for a NULL or cleaned-up multi, when memory runs out, and
/// for a multi curlmux did not make when the libcurl underneath is older
/// than 8.4.
///
/// # Safety
/// `multi` is NULL or a multi handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_get_handles(multi: *mut CURLM) -> *mut *mut CURL {
    boundary!({
        dispatch(
            multi,
            |m| {
                let easies = match m.handles() {
                    Some(Handles::Books(easies)) => easies,
                    Some(Handles::Libcurls(array)) => return array,
                    None => return std::ptr::null_mut(),
                };
                // curl_free is free() unless the app replaced libcurl's allocator.
                // SAFETY: a plain allocation of easies.len() + 1 pointers.
                let array = unsafe { libc::malloc((easies.len() + 1) * size_of::<*mut CURL>()) } as *mut *mut CURL;
                if array.is_null() {
                    return array;
                }
                for (i, easy) in easies.iter().chain([&std::ptr::null_mut()]).enumerate() {
                    // SAFETY: i <= easies.len(), inside the allocation.
                    unsafe { array.add(i).write(*easy) };
                }
                array
            },
            forward!(optional multi_get_handles(multi)),
        )
    })
}

/// Fills `ufds` (room for `size` entries) with the descriptors to wait on
/// for `multi` and sets `*fd_count` (may be NULL when `ufds` is given) to how
/// many there are (libcurl 8.8's function, provided by curlmux whatever
/// libcurl it binds to). curlmux reports one descriptor, readable when any
/// transfer has work (as `curl_multi_fdset` does), or none while no transfer
/// has a socket to wait on. libcurl itself lists every transfer's socket and
/// its wakeup descriptor (3 for two connected transfers); curlmux's one
/// descriptor stands for all of them, however many thousands: a program that
/// sizes its array from the count gets the right size for what it is given.
/// `size` 0 with `ufds` NULL only counts.
///
/// Returns `CURLM_OK`; `CURLM_BAD_HANDLE`; `CURLM_BAD_FUNCTION_ARGUMENT`
/// (`ufds` NULL while `size` > 0 or `fd_count` NULL); `CURLM_OUT_OF_MEMORY`
/// (`size` too small); `CURLM_RECURSIVE_API_CALL` (from inside a callback).
///
/// # Safety
/// `multi` is NULL or a multi handle; `ufds` is NULL or has `size` writable
/// entries; `fd_count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_waitfds(
    multi: *mut CURLM,
    ufds: *mut curl_waitfd,
    size: c_uint,
    fd_count: *mut c_uint,
) -> CURLMcode {
    boundary!({
        dispatch(
            multi,
            |m| {
                if ufds.is_null() && size > 0 {
                    return CURLM_BAD_FUNCTION_ARGUMENT;
                }
                let ufds: Option<&mut [curl_waitfd]> = (!ufds.is_null())
                    // SAFETY: the caller passes `size` writable entries.
                    .then(|| unsafe { std::slice::from_raw_parts_mut(ufds, size as usize) });
                // SAFETY: the caller passes NULL or a writable unsigned int.
                to_code(m.waitfds(ufds, unsafe { out(fd_count) }))
            },
            forward!(optional multi_waitfds(multi, ufds, size, fd_count)),
        )
    })
}

/// `CURLMinfo_offt`, a C enum: an int. <curl/multi.h> declares it from
/// libcurl 8.16 on, the header's preamble before that (build.rs).
/// cbindgen:ignore
#[allow(non_camel_case_types)]
pub type CURLMinfo_offt = c_int;

/// Reads a count of `multi` into `*pvalue` (libcurl 8.16's function,
/// provided by curlmux whatever libcurl it binds to): `CURLMINFO_XFERS_CURRENT`
/// (transfers attached), `_RUNNING` (not finished), `_PENDING` (waiting for a
/// connection), `_DONE` (finished, still attached), `_ADDED` (ever added).
/// Over libcurl 8.16 and later the counts are libcurl's own, its internal
/// transfers (DoH) included as in stock. Over older ones they are curlmux's
/// books of the application's transfers: `_RUNNING` then includes transfers
/// waiting for a connection, and `_PENDING`, which only libcurl knows,
/// answers `CURLM_UNKNOWN_OPTION`.
///
/// Returns `CURLM_OK`; `CURLM_BAD_HANDLE`; `CURLM_BAD_FUNCTION_ARGUMENT`
/// (`pvalue` NULL); `CURLM_UNKNOWN_OPTION` (an unknown `info`, with
/// `*pvalue` set to -1); `CURLM_RECURSIVE_API_CALL` (from inside a socket,
/// timer or push callback over a libcurl older than 8.16).
///
/// # Safety
/// `multi` is NULL or a multi handle; `pvalue` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_get_offt(
    multi: *mut CURLM,
    info: CURLMinfo_offt,
    pvalue: *mut curl_sys::curl_off_t,
) -> CURLMcode {
    boundary!({
        dispatch(
            multi,
            // SAFETY: the caller passes NULL or a writable curl_off_t.
            |m| to_code(m.get_offt(info, unsafe { out(pvalue) })),
            forward!(optional multi_get_offt(multi, info, pvalue)),
        )
    })
}

/// Enables notifications of one kind for `multi` (libcurl 8.17's function,
/// provided by curlmux whatever libcurl it binds to): with a
/// `CURLMOPT_NOTIFYFUNCTION` set, `CURLMNOTIFY_INFO_READ` calls it when a
/// message lands on an empty message queue (with an internal easy handle),
/// `CURLMNOTIFY_EASY_DONE` when one of the application's transfers finishes
/// (with that easy; never for libcurl's internal ones, such as DoH probes,
/// which stock reports only when one outlives the call that finished it).
/// Notifications are handed out at the end of `curl_multi_perform` and
/// `curl_multi_socket_action`; the callback may call any multi function but
/// those two, `curl_multi_socket_all` and `curl_multi_cleanup`, which answer
/// `CURLM_RECURSIVE_API_CALL` there.
///
/// Returns `CURLM_OK` (also when already enabled); `CURLM_BAD_HANDLE`;
/// `CURLM_UNKNOWN_OPTION` for an unknown kind; `CURLM_OUT_OF_MEMORY`.
///
/// # Safety
/// `multi` is NULL or a multi handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_notify_enable(multi: *mut CURLM, notification: c_uint) -> CURLMcode {
    boundary!({
        dispatch(
            multi,
            |m| to_code(m.notify_enable(notification, true)),
            forward!(optional multi_notify_enable(multi, notification)),
        )
    })
}

/// Disables notifications of one kind for `multi` (libcurl 8.17's
/// function, provided by curlmux whatever libcurl it binds to); those
/// already collected and not yet handed out are dropped.
///
/// Returns `CURLM_OK` (also when not enabled); `CURLM_BAD_HANDLE`;
/// `CURLM_UNKNOWN_OPTION` for an unknown kind.
///
/// # Safety
/// `multi` is NULL or a multi handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn curl_multi_notify_disable(multi: *mut CURLM, notification: c_uint) -> CURLMcode {
    boundary!({
        dispatch(
            multi,
            |m| to_code(m.notify_enable(notification, false)),
            forward!(optional multi_notify_disable(multi, notification)),
        )
    })
}
