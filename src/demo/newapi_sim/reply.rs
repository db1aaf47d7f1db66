//! Answers shaped like gin's `c.JSON`: `application/json; charset=utf-8`,
//! `gin.H` keys sorted, structs in declaration order.

use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// `gin.H{"success", "message"}` (sorted: message, success).
#[derive(Serialize)]
pub struct Msg<'a> {
    pub message: &'a str,
    pub success: bool,
}

/// `common.ApiSuccess`: `gin.H{"success", "message", "data"}`.
#[derive(Serialize)]
pub struct WithData<'a, T: Serialize> {
    pub data: T,
    pub message: &'a str,
    pub success: bool,
}

pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_string(body) {
        Ok(text) => (status, [(CONTENT_TYPE, "application/json; charset=utf-8")], go_escape(&text)).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Go's `encoding/json` escapes `<`, `>`, `&`, U+2028 and U+2029 inside
/// strings (HTML-safe output); outside strings JSON has none of them.
pub fn go_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for ch in json.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

pub fn msg(status: StatusCode, message: &str, success: bool) -> Response {
    json(status, &Msg { message, success })
}

/// `common.ApiError`: HTTP 200, `success:false`.
pub fn api_error(message: &str) -> Response {
    msg(StatusCode::OK, message, false)
}

pub fn data<T: Serialize>(data: T) -> Response {
    json(StatusCode::OK, &WithData { data, message: "", success: true })
}
