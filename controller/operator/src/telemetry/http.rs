//! The operator's HTTP endpoint (HTTP/1.1, hyper): `/metrics` (Prometheus text), `/healthz` (the
//! process answers) and `/readyz` (see [`Readiness`]).
//!
//! `GET` and `HEAD` only; anything else is 405, unknown paths 404. Slow clients are cut off after
//! [`HEADER_TIMEOUT`]. No TLS: the endpoint is for the kubelet and the cluster's scraper.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use super::exposition::CONTENT_TYPE as METRICS_CONTENT_TYPE;
use super::metrics::Metrics;
use super::readiness::Readiness;

/// How long a client may take to send its request headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// What the endpoint serves.
#[derive(Clone)]
pub struct Endpoints {
    /// The metrics `/metrics` renders.
    pub metrics: Arc<Metrics>,
    /// What `/readyz` reports.
    pub readiness: Readiness,
}

/// Serves `endpoints` on `listener` until `shutdown` completes; open connections are then dropped.
pub async fn serve(listener: TcpListener, endpoints: Endpoints, shutdown: impl Future<Output = ()>) {
    info!(address = ?listener.local_addr().ok(), "serving metrics and health");
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let endpoints = endpoints.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |request| {
                            let response = respond(&endpoints, &request);
                            async move { Ok::<_, Infallible>(response) }
                        });
                        let served = http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(HEADER_TIMEOUT)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                        if let Err(error) = served {
                            debug!(%peer, %error, "metrics connection ended with an error");
                        }
                    });
                }
                // Out of file descriptors and the like: keep serving the connections we have.
                Err(error) => {
                    warn!(%error, "cannot accept a metrics connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    connections.shutdown().await;
}

fn text(status: StatusCode, body: impl Into<Bytes>, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The answer to `request`.
fn respond(endpoints: &Endpoints, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    const PLAIN: &str = "text/plain; charset=utf-8";
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n", PLAIN);
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    // hyper leaves out the body of an answer to HEAD, keeping its length.
    match request.uri().path() {
        "/metrics" => text(StatusCode::OK, endpoints.metrics.render(), METRICS_CONTENT_TYPE),
        "/healthz" => text(StatusCode::OK, "ok\n", PLAIN),
        "/readyz" => match endpoints.readiness.check() {
            Ok(()) => text(StatusCode::OK, "ready\n", PLAIN),
            Err(why) => text(StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}\n"), PLAIN),
        },
        _ => text(StatusCode::NOT_FOUND, "not found\n", PLAIN),
    }
}
