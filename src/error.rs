//! curlmux's one error enum and its one mapping to `CURLMcode`.
//!
//! Owns: the codes libcurl 7.88 defines (curl-sys lacks those newer than 7.30)
//! and `curl_multi_strerror`'s texts. Must not do I/O.

use curl_sys::CURLMcode;

pub const CURLM_OK: CURLMcode = 0;
pub const CURLM_BAD_HANDLE: CURLMcode = 1;
pub const CURLM_BAD_EASY_HANDLE: CURLMcode = 2;
pub const CURLM_OUT_OF_MEMORY: CURLMcode = 3;
pub const CURLM_INTERNAL_ERROR: CURLMcode = 4;
pub const CURLM_BAD_SOCKET: CURLMcode = 5;
pub const CURLM_UNKNOWN_OPTION: CURLMcode = 6;
pub const CURLM_ADDED_ALREADY: CURLMcode = 7;
pub const CURLM_RECURSIVE_API_CALL: CURLMcode = 8;
pub const CURLM_WAKEUP_FAILURE: CURLMcode = 9;
pub const CURLM_BAD_FUNCTION_ARGUMENT: CURLMcode = 10;
pub const CURLM_ABORTED_BY_CALLBACK: CURLMcode = 11;
pub const CURLM_UNRECOVERABLE_POLL: CURLMcode = 12;

/// Why a curlmux operation failed. Every variant maps to exactly one `CURLMcode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The multi handle is NULL, was cleaned up, or is not a multi handle.
    BadHandle,
    /// The easy handle is NULL or not a libcurl easy handle.
    BadEasyHandle,
    OutOfMemory,
    /// A bug or an unexpected system failure inside curlmux.
    Internal,
    BadSocket,
    UnknownOption,
    AddedAlready,
    /// The call came from inside one of this multi's callbacks.
    RecursiveApiCall,
    WakeupFailure,
    BadFunctionArgument,
    AbortedByCallback,
    UnrecoverablePoll,
    /// The bound libcurl answered with a code curlmux passes on as it is.
    Engine(CURLMcode),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<Error> for CURLMcode {
    fn from(e: Error) -> CURLMcode {
        match e {
            Error::BadHandle => CURLM_BAD_HANDLE,
            Error::BadEasyHandle => CURLM_BAD_EASY_HANDLE,
            Error::OutOfMemory => CURLM_OUT_OF_MEMORY,
            Error::Internal => CURLM_INTERNAL_ERROR,
            Error::BadSocket => CURLM_BAD_SOCKET,
            Error::UnknownOption => CURLM_UNKNOWN_OPTION,
            Error::AddedAlready => CURLM_ADDED_ALREADY,
            Error::RecursiveApiCall => CURLM_RECURSIVE_API_CALL,
            Error::WakeupFailure => CURLM_WAKEUP_FAILURE,
            Error::BadFunctionArgument => CURLM_BAD_FUNCTION_ARGUMENT,
            Error::AbortedByCallback => CURLM_ABORTED_BY_CALLBACK,
            Error::UnrecoverablePoll => CURLM_UNRECOVERABLE_POLL,
            Error::Engine(code) => code,
        }
    }
}

impl Error {
    /// The `CURLcode` a transfer ends with when libcurl refused to take it
    /// after curlmux had already answered its add (a queued add, multi/deferred.rs).
    pub fn as_transfer_result(self) -> curl_sys::CURLcode {
        match CURLMcode::from(self) {
            CURLM_OUT_OF_MEMORY => curl_sys::CURLE_OUT_OF_MEMORY,
            CURLM_ABORTED_BY_CALLBACK => curl_sys::CURLE_ABORTED_BY_CALLBACK,
            _ => curl_sys::CURLE_BAD_FUNCTION_ARGUMENT,
        }
    }

    /// Turns a code from the bound libcurl into a result.
    pub fn check(code: CURLMcode) -> Result<()> {
        if code == CURLM_OK { Ok(()) } else { Err(Error::Engine(code)) }
    }
}

/// An argument libcurl requires (an out-parameter it writes): missing, it
/// is `CURLM_BAD_FUNCTION_ARGUMENT`.
pub fn required<T>(argument: Option<T>) -> Result<T> {
    argument.ok_or(Error::BadFunctionArgument)
}

/// The result of an operation as the C caller sees it.
pub fn to_code(r: Result<()>) -> CURLMcode {
    match r {
        Ok(()) => CURLM_OK,
        Err(e) => e.into(),
    }
}

/// `curl_multi_strerror`'s texts, as libcurl 7.88 words them (NUL-terminated).
pub fn describe(code: CURLMcode) -> &'static [u8] {
    match code {
        -1 => b"Please call curl_multi_perform() soon\0",
        CURLM_OK => b"No error\0",
        CURLM_BAD_HANDLE => b"Invalid multi handle\0",
        CURLM_BAD_EASY_HANDLE => b"Invalid easy handle\0",
        CURLM_OUT_OF_MEMORY => b"Out of memory\0",
        CURLM_INTERNAL_ERROR => b"Internal error\0",
        CURLM_BAD_SOCKET => b"Invalid socket argument\0",
        CURLM_UNKNOWN_OPTION => b"Unknown option\0",
        CURLM_ADDED_ALREADY => b"The easy handle is already added to a multi handle\0",
        CURLM_RECURSIVE_API_CALL => b"API function called from within callback\0",
        CURLM_WAKEUP_FAILURE => b"Wakeup is unavailable or failed\0",
        CURLM_BAD_FUNCTION_ARGUMENT => b"A libcurl function was given a bad argument\0",
        CURLM_ABORTED_BY_CALLBACK => b"Operation was aborted by an application callback\0",
        CURLM_UNRECOVERABLE_POLL => b"Unrecoverable error in select/poll\0",
        _ => b"Unknown error\0",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_own_code() {
        let all = [
            Error::BadHandle,
            Error::BadEasyHandle,
            Error::OutOfMemory,
            Error::Internal,
            Error::BadSocket,
            Error::UnknownOption,
            Error::AddedAlready,
            Error::RecursiveApiCall,
            Error::WakeupFailure,
            Error::BadFunctionArgument,
            Error::AbortedByCallback,
            Error::UnrecoverablePoll,
        ];
        let codes: Vec<CURLMcode> = all.iter().map(|&e| e.into()).collect();
        assert_eq!(codes, (1..=12).collect::<Vec<_>>());
        assert_eq!(CURLMcode::from(Error::Engine(42)), 42);
        for c in -1..=12 {
            assert_ne!(describe(c), b"Unknown error\0", "code {c}");
        }
        assert_eq!(describe(99), b"Unknown error\0");
    }
}
