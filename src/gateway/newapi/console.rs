//! New API's web console: the whole admin console (and the users' portal) is
//! served at `/` of the same address as the API (`router/web-router.go`),
//! unless a slave node redirects to `FRONTEND_BASE_URL`. gatewatch asks for
//! `/` without credentials to say whether the console answers from where it
//! stands. The web routes have their own per-IP limit (`GLOBAL_WEB_RATE_LIMIT`,
//! 60 per 180 s, shared with the operator's browser loading the console), so
//! the answer is kept for ten minutes per replica instead of asked every poll.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::gateway::http::RawResponse;
use crate::gateway::{Console, Section};

use super::client::{Calls, Client};

/// How long one answer of `/` is reused.
pub const REUSE: Duration = Duration::from_secs(600);

/// Longest text kept from the page (title, redirect target).
const MAX_TEXT: usize = 80;

fn short(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one.chars().take(MAX_TEXT).collect()
}

/// What an answer of `/` says about the console.
pub fn classify(resp: &RawResponse) -> Console {
    let status = resp.status.as_u16();
    if resp.status.is_redirection() {
        let to = resp.header("location").map(short).unwrap_or_default();
        Console::Redirect { status, to }
    } else if resp.status.is_success() && resp.is_html() {
        Console::Served { status, title: short(&resp.html_title()) }
    } else {
        Console::NotServed { status }
    }
}

/// The last answer per replica address.
#[derive(Debug, Default)]
pub struct Probes(Mutex<HashMap<String, (Instant, Section<Console>)>>);

impl Probes {
    fn cached(&self, base: &str, now: Instant) -> Option<Section<Console>> {
        let map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(base).filter(|(at, _)| now.saturating_duration_since(*at) < REUSE).map(|(_, s)| s.clone())
    }

    /// The console's answer at `base`, asked at most every [`REUSE`].
    pub async fn get(&self, client: &Client, calls: &Calls, base: &str) -> Section<Console> {
        let now = Instant::now();
        if let Some(s) = self.cached(base, now) {
            return s;
        }
        let section = match client.get_web(calls, base, "/").await {
            Ok(resp) => Section::Ok(classify(&resp)),
            Err(e) => Section::Failed(e),
        };
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(base.to_owned(), (now, section.clone()));
        section
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn resp(status: u16, ct: &str, location: Option<&str>, body: &str) -> RawResponse {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_str(ct).unwrap());
        if let Some(l) = location {
            headers.insert("location", HeaderValue::from_str(l).unwrap());
        }
        RawResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: body.as_bytes().to_vec(),
            elapsed: Duration::ZERO,
            path: "/".into(),
        }
    }

    #[test]
    fn the_console_a_redirect_and_anything_else() {
        let page =
            "<!doctype html><html><head><title>New API</title></head><body><div id=\"root\"></div></body></html>";
        assert_eq!(
            classify(&resp(200, "text/html; charset=utf-8", None, page)),
            Console::Served { status: 200, title: "New API".into() }
        );
        assert_eq!(
            classify(&resp(301, "text/html", Some("https://console.example.com/"), "")),
            Console::Redirect { status: 301, to: "https://console.example.com/".into() }
        );
        assert_eq!(classify(&resp(404, "text/plain", None, "404 page not found")), Console::NotServed { status: 404 });
        assert_eq!(classify(&resp(200, "application/json", None, "{}")), Console::NotServed { status: 200 });
        let long = format!("<html><title>{}</title></html>", "x".repeat(500));
        let Console::Served { title, .. } = classify(&resp(200, "text/html", None, &long)) else { panic!() };
        assert_eq!(title.chars().count(), MAX_TEXT);
    }
}
