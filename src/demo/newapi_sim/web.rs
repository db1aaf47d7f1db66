//! What answers outside the API routes (`router/web-router.go`): unknown
//! `/api`, `/v1` and `/assets` paths get `RelayNotFound`'s OpenAI-style 404;
//! every other path gets the console's `index.html` (a single-page app), so
//! `/` serves the whole admin console without credentials.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{Shared, lock, reply};

/// The console's `index.html` (web/index.html, trimmed).
pub const INDEX_HTML: &str = "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\" />\
<meta name=\"generator\" content=\"new-api\" /><title>New API</title></head>\
<body><noscript>You need to enable JavaScript to run this app.</noscript><div id=\"root\"></div></body></html>";

/// `types.OpenAIError` (struct order).
#[derive(Serialize)]
struct OpenAiError<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: &'a str,
    code: &'a str,
}

#[derive(Serialize)]
struct NotFound<'a> {
    error: OpenAiError<'a>,
}

pub async fn fallback(State(state): State<Shared>, req: Request) -> Response {
    let path = req.uri().path();
    if ["/v1", "/api", "/assets"].iter().any(|p| path.starts_with(p)) {
        let message = format!("Invalid URL ({} {path})", req.method());
        let error = OpenAiError { message: &message, kind: "invalid_request_error", param: "", code: "" };
        return reply::json(StatusCode::NOT_FOUND, &NotFound { error });
    }
    if !lock(&state).console {
        return (StatusCode::NOT_FOUND, "404 page not found").into_response();
    }
    (StatusCode::OK, [(CONTENT_TYPE, "text/html; charset=utf-8"), (CACHE_CONTROL, "no-cache")], INDEX_HTML)
        .into_response()
}
