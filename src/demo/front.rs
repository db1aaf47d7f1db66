//! The demo's front door: a reverse proxy in front of the simulated LiteLLM,
//! standing in for the Nginx of the staged streaming incident. Like a
//! buffering Nginx it reads each answer whole before passing it on; while
//! the simulated proxy's `cut_streams` is set it passes on only the first
//! half of an event stream, as a proxy that times the stream out does.
//! Straight to the simulated proxy the stream stays whole, so the stream
//! probe can tell the two hops apart.

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio_util::sync::CancellationToken;

use super::litellm_sim::SimProxy;

#[derive(Clone)]
struct Front {
    sim: SimProxy,
    http: reqwest::Client,
}

/// Start the front door on 127.0.0.1 (a free port); it stops with `cancel`.
pub async fn serve(sim: SimProxy, cancel: CancellationToken) -> std::io::Result<SocketAddr> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(std::io::Error::other)?;
    let app = Router::new().fallback(forward).with_state(Front { sim, http });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).with_graceful_shutdown(cancel.cancelled_owned()).await;
    });
    Ok(addr)
}

fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection" | "keep-alive" | "transfer-encoding" | "te" | "upgrade" | "host" | "content-length"
    )
}

/// Nginx's page when the upstream does not answer.
fn bad_gateway() -> Response {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    (StatusCode::BAD_GATEWAY, [("content-type", "text/html"), ("server", "nginx")], page).into_response()
}

async fn forward(State(f): State<Front>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut req = f.http.request(method, format!("{}{path}", f.sim.url())).body(body);
    for (k, v) in &headers {
        if !hop_by_hop(k) {
            req = req.header(k, v);
        }
    }
    let Ok(resp) = req.send().await else { return bad_gateway() };
    let status = resp.status();
    let mut out_headers = HeaderMap::new();
    for (k, v) in resp.headers() {
        if !hop_by_hop(k) {
            out_headers.append(k.clone(), v.clone());
        }
    }
    let is_stream = out_headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let Ok(mut bytes) = resp.bytes().await else { return bad_gateway() };
    let cut = f.sim.state.lock().is_ok_and(|s| s.cut_streams);
    if is_stream && cut {
        bytes = bytes.slice(..bytes.len() / 2);
    }
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = status;
    *r.headers_mut() = out_headers;
    r.headers_mut().insert("server", axum::http::HeaderValue::from_static("nginx"));
    r
}
