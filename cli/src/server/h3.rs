//! HTTP/3: QUIC on quinn, HTTP/3 framing on h3, the same endpoints as the
//! TCP listeners ([`super::handle`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use http_body_util::{BodyExt, Full};

use super::Certificate;

/// Streams one client may keep open at once: enough for a benchmark's
/// whole crowd on one connection (QUIC's default is 100).
const MAX_STREAMS: u32 = 100_000;
const IDLE_TIMEOUT_MS: u32 = 10_000;

/// A QUIC endpoint on UDP `tls.port()` (HTTPS's port, as `Alt-Svc: h3=":PORT"`
/// assumes), or on any free port where another socket holds that one.
pub(super) fn endpoint(certificate: &Certificate, tls: SocketAddr) -> std::io::Result<quinn::Endpoint> {
    let mut crypto = certificate.config(&[b"h3"])?;
    crypto.max_early_data_size = u32::MAX;
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(crypto).map_err(std::io::Error::other)?;
    let mut transport = quinn::TransportConfig::default();
    transport.max_concurrent_bidi_streams(MAX_STREAMS.into());
    // A client gone without closing is noticed this soon (libcurl pings at
    // half of it), and its streams freed.
    transport.max_idle_timeout(Some(quinn::VarInt::from_u32(IDLE_TIMEOUT_MS).into()));
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    config.transport_config(Arc::new(transport));
    let socket = std::net::UdpSocket::bind(tls).or_else(|_| std::net::UdpSocket::bind(SocketAddr::new(tls.ip(), 0)))?;
    enlarge_buffers(&socket);
    quinn::Endpoint::new(quinn::EndpointConfig::default(), Some(config), socket, Arc::new(quinn::TokioRuntime))
}

/// One socket carries every client's datagrams: with the kernel's default
/// 208 KiB, bursts from a hundred connections overflow it, and the losses
/// (retransmitted after QUIC's probe timeout) would swamp what the
/// benchmark measures. Asks for 4 MiB each way (the kernel caps it at
/// net.core.rmem_max / wmem_max).
fn enlarge_buffers(socket: &std::net::UdpSocket) {
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 4 << 20;
    for option in [libc::SO_RCVBUF, libc::SO_SNDBUF] {
        // SAFETY: a valid socket, and a c_int option value of the size given.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

pub(super) async fn accept_loop(endpoint: quinn::Endpoint, root: Arc<Option<PathBuf>>) {
    while let Some(incoming) = endpoint.accept().await {
        tokio::spawn(serve_connection(incoming, root.clone()));
    }
}

async fn serve_connection(incoming: quinn::Incoming, root: Arc<Option<PathBuf>>) {
    let Ok(connection) = incoming.await else { return };
    let Ok(mut h3) = h3::server::Connection::<_, Bytes>::new(h3_quinn::Connection::new(connection.clone())).await
    else {
        return;
    };
    while let Ok(Some(resolver)) = h3.accept().await {
        let (connection, root) = (connection.clone(), root.clone());
        // An answer that never ends (/hang, /stall) ends with its connection:
        // hyper drops a closed connection's answers, h3 leaves that to us.
        tokio::spawn(async move {
            tokio::select! {
                _ = connection.closed() => {}
                _ = answer(resolver, root) => {}
            }
        });
    }
}

async fn answer(resolver: h3::server::RequestResolver<h3_quinn::Connection, Bytes>, root: Arc<Option<PathBuf>>) {
    let Ok((request, mut stream)) = resolver.resolve_request().await else { return };
    // The endpoints read a request's body whole (/echo, /dns-query), so read it first.
    let mut body = Vec::new();
    while let Ok(Some(mut data)) = stream.recv_data().await {
        body.extend_from_slice(&data.copy_to_bytes(data.remaining()));
    }
    let Ok(response) = super::handle(request.map(|()| Full::new(Bytes::from(body))), root).await;
    let (mut head, mut body) = response.into_parts();
    // Connection-specific fields are malformed in HTTP/3 (RFC 9114, 4.2).
    head.headers.remove(http::header::CONNECTION);
    if stream.send_response(http::Response::from_parts(head, ())).await.is_err() {
        return;
    }
    while let Some(frame) = body.frame().await {
        match frame.map(|frame| frame.into_data()) {
            Ok(Ok(data)) => {
                if stream.send_data(data).await.is_err() {
                    return;
                }
            }
            Ok(Err(_trailers)) => {}
            Err(_) => return stream.stop_stream(h3::error::Code::H3_INTERNAL_ERROR),
        }
    }
    let _ = stream.finish().await;
}
