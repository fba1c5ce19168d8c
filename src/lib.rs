//! curlmux: libcurl's multi interface (`curl_multi_*`) as a drop-in shared
//! library, over an epoll reactor. Easy handles stay libcurl's.
//!
//! The map (arrows point down only; docs/design.md has the decisions):
//!
//! - [`abi`]: the exported C functions. One dispatch classifies each
//!   `CURLM *` through the [`registry`]: curlmux's own get one call into
//!   [`multi`] with [`error`]s mapped to `CURLMcode` once, any other is
//!   forwarded to the bound libcurl; all inside the [`panic`] boundary.
//! - [`multi`]: one `Multi` per handle curlmux issued. `mod.rs`: the API's
//!   rules, one method per call, every call entering through `guard.rs`
//!   (the engine lock, the in-callback table); `books.rs`: the attached
//!   transfers and their messages; `drive.rs`: the loop from reactor to
//!   engine (or, for few and mostly ready transfers, libcurl's own walk,
//!   chosen in `walk.rs`); `wait.rs`: how long waits sleep and what they
//!   report; `pause.rs`: which transfers are parked; `deferred.rs`: what
//!   one thread leaves for another; the rest in the module's header.
//! - [`reactor`]: epoll + timerfd + eventfds, typed events, and sleeping on
//!   them beside the caller's descriptors; knows nothing of libcurl.
//! - [`engine`]: the process's libcurl, bound at run time with the one table
//!   of what it can do (`engine/libcurl.rs`), and one private libcurl multi
//!   per `Multi`, driven by socket_action or by its own walk; knows nothing
//!   of epoll.
//! - `addr`: the cheap hasher for maps keyed by handle addresses; `fork`:
//!   which process a Multi was made in; `sync`: the locks, and what
//!   valgrind's race detectors are told of them; [`versions`]: what each
//!   libcurl does differently, the one table the engine and the tests ask.

#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

pub mod abi;
mod addr;
pub(crate) mod debug;
mod engine;
mod error;
mod fork;
mod multi;
mod panic;
mod reactor;
mod registry;
mod sync;
pub mod versions;
