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

/// A QUIC endpoint on UDP `tls.port()` (HTTPS's port, as `Alt-Svc: h3=":PORT"`
/// assumes), or on any free port where another socket holds that one.
pub(super) fn endpoint(certificate: &Certificate, tls: SocketAddr) -> std::io::Result<quinn::Endpoint> {
    let mut crypto = certificate.config(&[b"h3"])?;
    crypto.max_early_data_size = u32::MAX;
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(crypto).map_err(std::io::Error::other)?;
    let mut transport = quinn::TransportConfig::default();
    transport.max_concurrent_bidi_streams(MAX_STREAMS.into());
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    config.transport_config(Arc::new(transport));
    quinn::Endpoint::server(config.clone(), tls)
        .or_else(|_| quinn::Endpoint::server(config, SocketAddr::new(tls.ip(), 0)))
}

pub(super) async fn accept_loop(endpoint: quinn::Endpoint, root: Arc<Option<PathBuf>>) {
    while let Some(incoming) = endpoint.accept().await {
        tokio::spawn(serve_connection(incoming, root.clone()));
    }
}

async fn serve_connection(incoming: quinn::Incoming, root: Arc<Option<PathBuf>>) {
    let Ok(connection) = incoming.await else { return };
    let Ok(mut h3) = h3::server::Connection::<_, Bytes>::new(h3_quinn::Connection::new(connection)).await else {
        return;
    };
    while let Ok(Some(resolver)) = h3.accept().await {
        tokio::spawn(answer(resolver, root.clone()));
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
