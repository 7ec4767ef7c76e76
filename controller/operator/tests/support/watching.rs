//! Watch streams for the fake API, which has none: a `?watch=true` request is answered with a
//! stream of `ADDED`/`MODIFIED`/`DELETED` events found by listing the same collection every
//! 20 ms and comparing resource versions; every other request goes to the fake unchanged.
//!
//! Enough for the controller's reflectors; not a faithful watch cache: a watch starts by sending
//! every object as `ADDED` (whatever `resourceVersion` it asks from), so an object deleted between
//! the reflector's list and its watch is missed until the next relist, and no bookmarks are sent.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::{Request, Response};
use kube::client::Body;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;

/// A client on `fake` that also serves watches.
pub fn with_watches(fake: kube::Client) -> kube::Client {
    kube::Client::new(Watching { fake }, "default")
}

#[derive(Clone)]
struct Watching {
    fake: kube::Client,
}

impl tower::Service<Request<Body>> for Watching {
    type Response = Response<ResponseBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let fake = self.fake.clone();
        Box::pin(async move {
            let query = request.uri().query().unwrap_or_default().to_owned();
            if query.split('&').any(|p| p == "watch=true" || p == "watch=1") {
                return Ok(watch(fake, request.uri().path(), &query));
            }
            let response = fake.send(request).await?;
            Ok(response.map(|body| body.map_err(BoxError::from).boxed_unsync()))
        })
    }
}

fn watch(fake: kube::Client, path: &str, query: &str) -> Response<ResponseBody> {
    const WATCH_ONLY: [&str; 6] = [
        "watch",
        "resourceVersion",
        "resourceVersionMatch",
        "timeoutSeconds",
        "allowWatchBookmarks",
        "sendInitialEvents",
    ];
    let kept: Vec<&str> =
        query.split('&').filter(|p| !WATCH_ONLY.iter().any(|w| p.split('=').next() == Some(*w))).collect();
    let list_uri = if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) };
    let (events, rx) = mpsc::channel::<Result<Frame<Bytes>, BoxError>>(64);
    tokio::spawn(async move {
        let mut known: HashMap<String, (String, Value)> = HashMap::new();
        loop {
            let Some(now) = list(&fake, &list_uri).await else { return };
            let mut lines = Vec::new();
            for (uid, (version, object)) in &now {
                match known.get(uid) {
                    None => lines.push(json!({"type": "ADDED", "object": object})),
                    Some((seen, _)) if seen != version => lines.push(json!({"type": "MODIFIED", "object": object})),
                    Some(_) => {}
                }
            }
            for (uid, (_, object)) in &known {
                if !now.contains_key(uid) {
                    lines.push(json!({"type": "DELETED", "object": object}));
                }
            }
            for line in lines {
                let mut bytes = serde_json::to_vec(&line).unwrap();
                bytes.push(b'\n');
                if events.send(Ok(Frame::data(Bytes::from(bytes)))).await.is_err() {
                    return; // the watcher went away
                }
            }
            known = now;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    Response::new(StreamBody::new(ReceiverStream::new(rx)).boxed_unsync())
}

/// The collection at `uri` by uid: resource version and object (with its kind filled in, which
/// list items lack).
async fn list(fake: &kube::Client, uri: &str) -> Option<HashMap<String, (String, Value)>> {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = fake.send(request).await.ok()?;
    let bytes = response.into_body().collect_bytes().await.ok()?;
    let list: Value = serde_json::from_slice(&bytes).ok()?;
    let api_version = list.get("apiVersion").cloned().unwrap_or(Value::Null);
    let kind = list.get("kind").and_then(Value::as_str).and_then(|k| k.strip_suffix("List")).map(str::to_owned);
    let items = list.get("items")?.as_array()?;
    Some(
        items
            .iter()
            .map(|item| {
                let mut item = item.clone();
                item["apiVersion"] = api_version.clone();
                if let Some(kind) = &kind {
                    item["kind"] = Value::String(kind.clone());
                }
                let uid = item.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default().to_owned();
                let version =
                    item.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default().to_owned();
                (uid, (version, item))
            })
            .collect(),
    )
}

/// Serves `client` over plain HTTP on `listener`, for a controller in another process; its
/// kubeconfig is [`kubeconfig`].
pub async fn serve_http(client: kube::Client, listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { return };
        let client = client.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                let client = client.clone();
                async move { Ok::<_, Infallible>(forward(&client, request).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
        });
    }
}

async fn forward(client: &kube::Client, request: Request<hyper::body::Incoming>) -> Response<ResponseBody> {
    let (mut parts, body) = request.into_parts();
    let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    parts.uri = parts.uri.path_and_query().map_or("/", |pq| pq.as_str()).parse().unwrap();
    match client.send(Request::from_parts(parts, Body::from(bytes))).await {
        Ok(response) => response.map(|body| body.map_err(BoxError::from).boxed_unsync()),
        Err(problem) => {
            let body = http_body_util::Full::new(Bytes::from(problem.to_string()));
            let mut response = Response::new(body.map_err(BoxError::from).boxed_unsync());
            *response.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            response
        }
    }
}

/// A kubeconfig for an API served by [`serve_http`] at `address`.
pub fn kubeconfig(address: std::net::SocketAddr) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{address}\n\
         users:\n- name: fake\n  user: {{}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n\
         current-context: fake\n"
    )
}
