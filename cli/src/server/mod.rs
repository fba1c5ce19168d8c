//! The local HTTP server of the demo, the tests and the benchmarks: hyper on
//! tokio, on three 127.0.0.1 ports:
//! - plain: HTTP/1.1 and HTTP/2 with prior knowledge (h2c);
//! - TLS: the same behind a certificate made at start (ALPN h2 or http/1.1),
//!   written as PEM for clients' CURLOPT_CAINFO;
//! - push: HTTP/2 prior knowledge with server push (`/push/K/N`: the N-byte
//!   response comes with K pushed streams `/pushed/i/N`), on the h2 crate,
//!   since hyper has no server push;
//! - HTTP/3 over QUIC ([`h3`]), on UDP at the TLS port's number where it is
//!   free, same certificate and endpoints; the TLS port's responses
//!   advertise it with `Alt-Svc`;
//! - quiet: TLS as above, on a port whose UDP twin takes datagrams and never
//!   answers, so that HTTP/3 there meets silence (fallback to TCP, QUIC's
//!   retransmissions and connect timeouts); its responses name the HTTP/3
//!   port in `Alt-Svc`.
//!
//! Endpoints (sizes in bytes, times in ms). Bodies follow [`pattern`], so a
//! client can check every byte without a copy of the data.
//! - `/bytes/N`: N bytes.
//! - `/delay/MS/N`: N bytes after MS.
//! - `/trickle/N/K/D`: N bytes in K chunks spread over D.
//! - `/redirect/K/N`: K redirects (302), then `/bytes/N`.
//! - `/status/CODE`: that status, body `status CODE\n`.
//! - `/reset/N`: announces 2N bytes, sends N, then drops the connection
//!   (over HTTP/3, resets the stream).
//! - `/stall/N`: announces 2N bytes, sends N, then goes silent for good.
//! - `/hang`: accepts the request and never answers.
//! - `/close/N`: N bytes, then the server closes the connection (no
//!   keep-alive; over HTTP/3, which has no such header, N bytes alone).
//! - `/echo`: the request's body, once all of it has arrived.
//! - `/jitter/MS/...`: the endpoint `...` after a pseudo-random 0 to MS
//!   (one fixed sequence per server, so runs compare like for like).
//! - `/dns-query`: DNS over HTTPS that answers every query NXDOMAIN;
//!   `/delay/MS/dns-query` answers after MS.
//! - `/files/PATH`: the file PATH under the directory given to [`serve`]
//!   (git's dumb HTTP transport reads a repository this way).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

mod h3;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

type Body = BoxBody<Bytes, std::io::Error>;

/// The byte at offset `i` of every body: printable, with a period that is
/// not a power of two so misplaced blocks show.
pub fn pattern(i: usize) -> u8 {
    b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]
}

fn bytes_from(start: usize, len: usize) -> Bytes {
    (start..start + len).map(pattern).collect::<Vec<u8>>().into()
}

/// Where the server listens.
pub struct Listening {
    pub plain: SocketAddr,
    pub tls: SocketAddr,
    pub push: SocketAddr,
    /// HTTP/3 (UDP): the TLS port's number unless another socket had it.
    pub h3: SocketAddr,
    /// TLS over TCP; its UDP twin is silent.
    pub quiet: SocketAddr,
    /// The TLS certificate (self-signed, for 127.0.0.1 and localhost), PEM.
    pub ca: PathBuf,
}

/// Binds the plain listener to 127.0.0.1:`port` (0: any free port) and the
/// others to free ports, and serves until the runtime stops; `/files/`
/// serves `root` when given; the certificate is written to `ca`.
pub async fn serve(port: u16, root: Option<PathBuf>, ca: PathBuf) -> std::io::Result<Listening> {
    let root = Arc::new(root);
    let plain = listen(SocketAddr::from(([127, 0, 0, 1], port)))?;
    let tls = listen(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let push = listen(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let certificate = Certificate::new(&ca)?;
    let acceptor = certificate.tcp_acceptor()?;
    let quic = h3::endpoint(&certificate, tls.local_addr()?)?;
    let (quiet, silent_udp) = quiet_pair()?;
    let listening = Listening {
        plain: plain.local_addr()?,
        tls: tls.local_addr()?,
        push: push.local_addr()?,
        h3: quic.local_addr()?,
        quiet: quiet.local_addr()?,
        ca,
    };
    let alt_svc = http::HeaderValue::try_from(format!("h3=\":{}\"; ma=86400", listening.h3.port()))
        .map_err(std::io::Error::other)?;
    let http_root = root.clone();
    tokio::spawn(accept_loop(plain, move |stream| serve_http(stream, http_root.clone(), None)));
    tokio::spawn(accept_tls(tls, acceptor.clone(), root.clone(), alt_svc.clone()));
    tokio::spawn(accept_tls(quiet, acceptor, root.clone(), alt_svc));
    tokio::spawn(h3::accept_loop(quic, root));
    tokio::spawn(async move {
        let _held = silent_udp;
        std::future::pending::<()>().await
    });
    tokio::spawn(accept_loop(push, serve_push));
    Ok(listening)
}

/// Connections the kernel may hold for accept (it caps this at
/// net.core.somaxconn). tokio's 1,024 overflowed when a thousand clients
/// connected at once, and each dropped connect came back a second later.
const BACKLOG: u32 = 65_535;

/// A TCP listener on `addr` with the [`BACKLOG`].
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// A TCP listener and a UDP socket on the same free port number.
fn quiet_pair() -> std::io::Result<(TcpListener, std::net::UdpSocket)> {
    let mut last = None;
    for _ in 0..50 {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0")?;
        match listen(udp.local_addr()?) {
            Ok(tcp) => return Ok((tcp, udp)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no port free for both TCP and UDP")))
}

/// Serves TLS connections, every response naming HTTP/3 in `alt_svc`.
async fn accept_tls(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    root: Arc<Option<PathBuf>>,
    alt_svc: http::HeaderValue,
) {
    accept_loop(listener, move |stream| {
        let (acceptor, root, alt_svc) = (acceptor.clone(), root.clone(), alt_svc.clone());
        async move {
            if let Ok(stream) = acceptor.accept(stream).await {
                serve_http(stream, root, Some(alt_svc)).await;
            }
        }
    })
    .await
}

async fn accept_loop<F, Fut>(listener: TcpListener, serve: F)
where
    F: Fn(tokio::net::TcpStream) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(stream));
    }
}

/// Serves one connection; `alt_svc` goes on every response when given.
async fn serve_http<S>(stream: S, root: Arc<Option<PathBuf>>, alt_svc: Option<http::HeaderValue>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let (root, alt_svc) = (root.clone(), alt_svc.clone());
        async move {
            let mut response = handle(req, root).await?;
            if let Some(alt_svc) = alt_svc {
                response.headers_mut().insert(http::header::ALT_SVC, alt_svc);
            }
            Ok::<_, Infallible>(response)
        }
    });
    let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;
}

/// A self-signed certificate for 127.0.0.1 and localhost, its PEM written
/// to the file clients name as their CA; TCP and QUIC serve the same one.
struct Certificate {
    cert: rustls::pki_types::CertificateDer<'static>,
    key: Vec<u8>,
}

impl Certificate {
    fn new(ca: &Path) -> std::io::Result<Certificate> {
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .map_err(std::io::Error::other)?;
        std::fs::write(ca, made.cert.pem())?;
        Ok(Certificate { cert: made.cert.der().clone(), key: made.key_pair.serialize_der() })
    }

    /// A TLS configuration offering `alpn`.
    fn config(&self, alpn: &[&[u8]]) -> std::io::Result<rustls::ServerConfig> {
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(self.key.clone().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], key)
            .map_err(std::io::Error::other)?;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }

    fn tcp_acceptor(&self) -> std::io::Result<tokio_rustls::TlsAcceptor> {
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(self.config(&[b"h2", b"http/1.1"])?)))
    }
}

/// HTTP/2 with server push: `/push/K/N` answers N bytes and pushes
/// `/pushed/0/N` … `/pushed/K-1/N`; `/bytes/N` answers N bytes; else 404.
async fn serve_push(stream: tokio::net::TcpStream) {
    let Ok(mut conn) = h2::server::handshake(stream).await else { return };
    while let Some(Ok((req, respond))) = conn.accept().await {
        tokio::spawn(answer_with_pushes(req, respond));
    }
}

async fn answer_with_pushes(req: http::Request<h2::RecvStream>, mut respond: h2::server::SendResponse<Bytes>) {
    let parts: Vec<&str> = req.uri().path().trim_start_matches('/').split('/').collect();
    let num = |i: usize| parts.get(i).and_then(|s| s.parse::<usize>().ok());
    let (status, len, pushes) = match (parts[0], num(1), num(2)) {
        ("push", Some(k), Some(n)) => (200, n, k),
        ("bytes", Some(n), None) => (200, n, 0),
        _ => (404, 0, 0),
    };
    let authority = req.uri().authority().map(|a| a.to_string()).unwrap_or_default();
    let head = |status: u16| {
        http::Response::builder().status(status).header("content-length", len).body(()).expect("static response")
    };
    for i in 0..pushes {
        let Ok(promise) = http::Request::builder().uri(format!("http://{authority}/pushed/{i}/{len}")).body(()) else {
            continue;
        };
        if let Ok(mut pushed) = respond.push_request(promise)
            && let Ok(mut body) = pushed.send_response(head(200), len == 0)
            && len > 0
        {
            let _ = body.send_data(bytes_from(0, len), true);
        }
    }
    if let Ok(mut body) = respond.send_response(head(status), len == 0)
        && len > 0
    {
        let _ = body.send_data(bytes_from(0, len), true);
    }
}

/// Answers one request of any HTTP version.
async fn handle<B: hyper::body::Body>(
    req: Request<B>,
    root: Arc<Option<PathBuf>>,
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_owned();
    if let (Some(root), Some(file)) = (root.as_ref(), path.strip_prefix("/files/")) {
        return Ok(static_file(root, file).await);
    }
    if path == "/dns-query" {
        return Ok(nxdomain(req).await);
    }
    if let Some(ms) =
        path.strip_prefix("/delay/").and_then(|p| p.strip_suffix("/dns-query")).and_then(|ms| ms.parse().ok())
    {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        return Ok(nxdomain(req).await);
    }
    if path == "/echo" {
        return Ok(match req.into_body().collect().await {
            Ok(body) => Response::new(full(body.to_bytes())),
            Err(_) => not_found(),
        });
    }
    let mut parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if let ["jitter", most, ..] = parts[..]
        && let Ok(most) = most.parse::<u64>()
    {
        tokio::time::sleep(Duration::from_millis(jitter(most))).await;
        parts.drain(..2);
    }
    let num = |i: usize| parts.get(i).and_then(|s| s.parse::<usize>().ok());
    let response = match (parts.first().copied().unwrap_or(""), num(1), num(2), num(3)) {
        ("bytes", Some(n), None, None) => sized(n, stream(n, 1, Duration::ZERO, Ending::Whole)),
        ("delay", Some(ms), Some(n), None) => {
            tokio::time::sleep(Duration::from_millis(ms as u64)).await;
            sized(n, stream(n, 1, Duration::ZERO, Ending::Whole))
        }
        ("trickle", Some(n), Some(k), Some(d)) => {
            let k = k.max(1);
            sized(n, stream(n, k, Duration::from_millis(d as u64) / k as u32, Ending::Whole))
        }
        ("redirect", Some(k), Some(n), None) => {
            let next = if k == 0 { format!("/bytes/{n}") } else { format!("/redirect/{}/{n}", k - 1) };
            Response::builder()
                .status(StatusCode::FOUND)
                .header("location", next)
                .body(full("redirect\n"))
                .expect("static response")
        }
        ("status", Some(code), None, None) => match StatusCode::from_u16(code as u16) {
            Ok(status) => {
                Response::builder().status(status).body(full(format!("status {code}\n"))).expect("static response")
            }
            Err(_) => not_found(),
        },
        ("reset", Some(n), None, None) => sized(2 * n, stream(n, 1, Duration::ZERO, Ending::Reset)),
        ("stall", Some(n), None, None) => sized(2 * n, stream(n, 1, Duration::ZERO, Ending::Stall)),
        ("close", Some(n), None, None) => {
            let mut response = sized(n, stream(n, 1, Duration::ZERO, Ending::Whole));
            response.headers_mut().insert("connection", http::HeaderValue::from_static("close"));
            response
        }
        ("hang", None, None, None) => {
            std::future::pending::<()>().await;
            unreachable!()
        }
        _ => not_found(),
    };
    Ok(response)
}

/// The next of a fixed pseudo-random sequence, 0 to `most` (xorshift).
fn jitter(most: u64) -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
    let mut x = STATE.load(Ordering::Relaxed);
    loop {
        let mut next = x;
        next ^= next << 13;
        next ^= next >> 7;
        next ^= next << 17;
        match STATE.compare_exchange_weak(x, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next % (most + 1),
            Err(seen) => x = seen,
        }
    }
}

/// Answers a DNS-over-HTTPS query (RFC 8484, POST) with NXDOMAIN: the query
/// itself with the response bit, recursion available, RCODE 3 and no records.
async fn nxdomain<B: hyper::body::Body>(req: Request<B>) -> Response<Body> {
    let Ok(body) = req.into_body().collect().await else { return not_found() };
    let mut answer = body.to_bytes().to_vec();
    if answer.len() < 12 {
        return not_found();
    }
    answer[2] = 0x81;
    answer[3] = 0x83;
    answer[6..12].fill(0);
    Response::builder()
        .header("content-type", "application/dns-message")
        .header("content-length", answer.len())
        .body(full(answer))
        .expect("static response")
}

/// A file under `root`; paths that leave it are not found.
async fn static_file(root: &Path, file: &str) -> Response<Body> {
    let relative = Path::new(file);
    if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
        return not_found();
    }
    match tokio::fs::read(root.join(relative)).await {
        Ok(data) => sized(data.len(), full(data)),
        Err(_) => not_found(),
    }
}

fn full(text: impl Into<Bytes>) -> Body {
    Full::new(text.into()).map_err(|never| match never {}).boxed()
}

fn not_found() -> Response<Body> {
    Response::builder().status(StatusCode::NOT_FOUND).body(full("not found\n")).expect("static response")
}

fn sized(len: usize, body: Body) -> Response<Body> {
    Response::builder().header("content-length", len).body(body).expect("static response")
}

/// How a body ends after its bytes.
#[derive(Clone, Copy)]
enum Ending {
    Whole,
    /// The body errors, which makes hyper drop the connection (h3: reset the stream).
    Reset,
    /// Nothing more, for as long as the client waits.
    Stall,
}

/// `n` bytes in `chunks` pieces, `gap` apart, then `ending`.
fn stream(n: usize, chunks: usize, gap: Duration, ending: Ending) -> Body {
    const MAX_PIECE: usize = 64 * 1024;
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(4);
    tokio::spawn(async move {
        let per_chunk = n.div_ceil(chunks.max(1)).max(1);
        let mut sent = 0;
        while sent < n {
            if sent > 0 && !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
            let chunk_end = (sent + per_chunk).min(n);
            while sent < chunk_end {
                let len = (chunk_end - sent).min(MAX_PIECE);
                if tx.send(Ok(Frame::data(bytes_from(sent, len)))).await.is_err() {
                    return;
                }
                sent += len;
            }
        }
        match ending {
            Ending::Whole => {}
            Ending::Reset => {
                let _ = tx.send(Err(std::io::Error::other("reset by /reset"))).await;
            }
            Ending::Stall => tx.closed().await,
        }
    });
    BodyExt::boxed(StreamBody::new(ReceiverStream::new(rx)))
}
