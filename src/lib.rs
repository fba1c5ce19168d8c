//! curlmux: libcurl's multi interface (`curl_multi_*`) as a drop-in shared
//! library, over an epoll reactor. Easy handles stay libcurl's.
//!
//! The map (arrows point down only; see shared/docs/design.md):
//!
//! - [`abi`]: the exported C functions. Classifies each `CURLM *` through the
//!   [`registry`], makes one call into [`multi`], maps [`error`]s to `CURLMcode`,
//!   all inside the [`panic`] boundary.
//! - [`multi`]: one `Multi` per handle curlmux issued: attached transfers,
//!   messages, the API's rules, and the drive loop from reactor to engine
//!   (or, for few and mostly ready transfers, libcurl's own walk).
//! - [`reactor`]: epoll + timerfd + eventfd; knows nothing of libcurl.
//! - [`engine`]: the process's libcurl, bound at run time, and one private
//!   libcurl multi per `Multi`, driven by socket_action or by its own walk;
//!   knows nothing of epoll.
//! - `addr`: the cheap hasher for maps keyed by handle addresses.

#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]
#![allow(missing_docs)] // internal modules; the exports in `abi` carry full docs

pub mod abi;
mod addr;
pub(crate) mod debug;
mod engine;
mod error;
mod multi;
mod panic;
mod reactor;
mod registry;
