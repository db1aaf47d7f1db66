//! The HTTP layer shared by the adapters: credentials in sensitive headers,
//! bounded body reads, and classification of every bad answer into a
//! [`GatewayError`] (HTML error pages, truncated or garbage JSON, wrong shapes).

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::error::GatewayError;
use super::parse_memo::{BodyId, Digester};

/// A raw answer: status, headers, body (bounded) and how long it took.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub elapsed: Duration,
    pub path: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn is_html(&self) -> bool {
        let ct = self.header(CONTENT_TYPE.as_str()).unwrap_or("");
        if ct.contains("text/html") {
            return true;
        }
        let head = String::from_utf8_lossy(&self.body[..self.body.len().min(256)]).to_ascii_lowercase();
        let head = head.trim_start();
        head.starts_with("<!doctype html") || head.starts_with("<html")
    }

    /// The `<title>` of an HTML page (Nginx and Cloudflare error pages have one).
    pub fn html_title(&self) -> String {
        let text = String::from_utf8_lossy(&self.body[..self.body.len().min(64 * 1024)]);
        let lower = text.to_ascii_lowercase();
        if let (Some(a), Some(b)) = (lower.find("<title>"), lower.find("</title>"))
            && b > a + 7
        {
            let title = text[a + 7..b].split_whitespace().collect::<Vec<_>>().join(" ");
            return crate::secret::scrub(&title).chars().take(200).collect();
        }
        "an HTML page instead of JSON".into()
    }

    /// Decode JSON, classifying failures precisely.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, GatewayError> {
        decode_json(&self.body, &self.path)
    }

    /// A short, single-line excerpt of the body for messages.
    pub fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body[..self.body.len().min(300)]);
        let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        crate::secret::scrub(&one).chars().take(160).collect()
    }
}

pub fn decode_json<T: DeserializeOwned>(body: &[u8], path: &str) -> Result<T, GatewayError> {
    serde_json::from_slice(body).map_err(|e| {
        let detail = e.to_string();
        match e.classify() {
            serde_json::error::Category::Eof => GatewayError::Truncated { path: path.to_owned(), detail },
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
                GatewayError::Garbage { path: path.to_owned(), detail }
            }
            serde_json::error::Category::Data => GatewayError::WrongShape { path: path.to_owned(), detail },
        }
    })
}

/// A client for one gateway: base URL, timeouts, body limit, auth headers.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    timeout: Duration,
    max_body: usize,
}

impl HttpClient {
    pub fn new(timeout: Duration, max_body: usize) -> Self {
        Self::build(timeout, max_body, reqwest::redirect::Policy::default())
    }

    /// A client that reports redirects instead of following them (a probe
    /// must not wander to another host, and must say where it was sent).
    pub fn without_redirects(timeout: Duration, max_body: usize) -> Self {
        Self::build(timeout, max_body, reqwest::redirect::Policy::none())
    }

    fn build(timeout: Duration, max_body: usize, redirects: reqwest::redirect::Policy) -> Self {
        let client = reqwest::Client::builder()
            .redirect(redirects)
            .connect_timeout(timeout)
            .timeout(timeout)
            // Below uvicorn's 5 s keep-alive: a pooled connection the server
            // is about to close is not reused for the next poll.
            .pool_idle_timeout(Duration::from_secs(3))
            .user_agent(concat!("gatewatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { client, timeout, max_body }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Send a request and read the body within the limit. Every transport
    /// failure becomes a [`GatewayError`]; the status code is left to the caller.
    /// A GET that hits a keep-alive connection the server just closed is sent
    /// again (at most twice); other methods never are (they may be paid or change state).
    pub async fn send(
        &self,
        method: Method,
        base: &str,
        path: &str,
        headers: HeaderMap,
        body: Option<serde_json::Value>,
    ) -> Result<RawResponse, GatewayError> {
        self.send_keeping(method, base, path, headers, body, None).await.map(|(r, _)| r)
    }

    /// A GET of a large answer (tens of megabytes): when it succeeds, its body
    /// is kept as the transport's chunks (never copied into one buffer) and
    /// hashed as it arrives, so that bytes already parsed are known without
    /// touching them again. The response then holds only the body's first
    /// [`SNIFF`] bytes (enough to tell an HTML page and read its title); an
    /// answer that failed is read whole, as by [`Self::send`].
    pub async fn get_large(
        &self,
        base: &str,
        path: &str,
        headers: HeaderMap,
        digester: &Digester,
    ) -> Result<(RawResponse, Option<LargeBody>), GatewayError> {
        self.send_keeping(Method::GET, base, path, headers, None, Some(digester)).await
    }

    async fn send_keeping(
        &self,
        method: Method,
        base: &str,
        path: &str,
        headers: HeaderMap,
        body: Option<serde_json::Value>,
        chunks: Option<&Digester>,
    ) -> Result<(RawResponse, Option<LargeBody>), GatewayError> {
        let retry = method == Method::GET && body.is_none();
        let mut tries = 0;
        loop {
            tries += 1;
            match self.send_once(method.clone(), base, path, headers.clone(), body.clone(), chunks.cloned()).await {
                Err(GatewayError::Connect { detail }) if retry && tries < 3 && is_stale_connection(&detail) => {}
                other => return other,
            }
        }
    }

    async fn send_once(
        &self,
        method: Method,
        base: &str,
        path: &str,
        headers: HeaderMap,
        body: Option<serde_json::Value>,
        chunks: Option<Digester>,
    ) -> Result<(RawResponse, Option<LargeBody>), GatewayError> {
        let url = format!("{}{}", base.trim_end_matches('/'), path);
        let started = Instant::now();
        let mut req = self.client.request(method, &url).headers(headers);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let fut = async {
            let mut resp = req.send().await.map_err(|e| classify(&e, &url, self.timeout))?;
            let status = resp.status();
            let headers = resp.headers().clone();
            if let Some(len) = resp.content_length()
                && len > self.max_body as u64
            {
                return Err(GatewayError::TooLarge { limit: self.max_body });
            }
            if let Some(digester) = chunks.filter(|_| status.is_success()) {
                let mut large = LargeBody { chunks: Vec::new(), digester };
                while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e, &url, self.timeout))? {
                    if large.len() + chunk.len() > self.max_body {
                        return Err(GatewayError::TooLarge { limit: self.max_body });
                    }
                    large.digester.update(&chunk);
                    large.chunks.push(chunk);
                }
                let head = RawResponse {
                    status,
                    headers,
                    body: large.prefix(SNIFF),
                    elapsed: started.elapsed(),
                    path: path.to_owned(),
                };
                return Ok((head, Some(large)));
            }
            // Sized once from the announced length (bounded by the cap): a
            // 37 MB answer is not copied through a dozen doublings.
            let announced = resp.content_length().and_then(|l| usize::try_from(l).ok()).unwrap_or(0);
            let mut body = Vec::with_capacity(announced.min(self.max_body));
            while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e, &url, self.timeout))? {
                if body.len() + chunk.len() > self.max_body {
                    return Err(GatewayError::TooLarge { limit: self.max_body });
                }
                body.extend_from_slice(&chunk);
            }
            Ok((RawResponse { status, headers, body, elapsed: started.elapsed(), path: path.to_owned() }, None))
        };
        // reqwest's timeout covers the whole exchange; this is a second fence
        // so that no request can ever outlive its budget.
        match tokio::time::timeout(self.timeout + Duration::from_millis(250), fut).await {
            Ok(r) => r,
            Err(_) => Err(GatewayError::Timeout { after: self.timeout }),
        }
    }
}

/// How much of a large answer's body [`HttpClient::get_large`] copies into
/// its response: what [`RawResponse::is_html`] and [`RawResponse::html_title`] read.
pub const SNIFF: usize = 64 * 1024;

/// A large answer's body as the transport delivered it, with its identity.
pub struct LargeBody {
    chunks: Vec<bytes::Bytes>,
    digester: Digester,
}

impl LargeBody {
    fn len(&self) -> usize {
        self.digester.len()
    }

    /// What the bytes are known by (see [`super::parse_memo::ParseMemo`]).
    pub fn id(&self) -> BodyId {
        self.digester.finish()
    }

    /// The whole body in one buffer (one copy, sized exactly).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        for c in &self.chunks {
            v.extend_from_slice(c);
        }
        v
    }

    /// The first `n` bytes (fewer if the body is shorter).
    pub fn prefix(&self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n.min(self.len()));
        for c in &self.chunks {
            let room = n - v.len();
            if room == 0 {
                break;
            }
            v.extend_from_slice(&c[..c.len().min(room)]);
        }
        v
    }
}

fn classify(e: &reqwest::Error, url: &str, timeout: Duration) -> GatewayError {
    if e.is_timeout() {
        return GatewayError::Timeout { after: timeout };
    }
    let chain = error_chain(e);
    let lower = chain.to_ascii_lowercase();
    if lower.contains("connection refused") {
        GatewayError::Refused { url: strip_query(url) }
    } else if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("invalid peer")
        || lower.contains("invalidcontenttype")
        || lower.contains("corrupt message")
    {
        GatewayError::Tls { detail: last_cause(&chain) }
    } else if e.is_body() || e.is_decode() {
        GatewayError::Truncated { path: strip_query(url), detail: last_cause(&chain) }
    } else {
        GatewayError::Connect { detail: last_cause(&chain) }
    }
}

/// hyper's words when the server's EOF comes first; the kernel's when our bytes hit the closed socket.
fn is_stale_connection(detail: &str) -> bool {
    detail.contains("connection closed before message completed") || detail.contains("Connection reset by peer")
}

fn strip_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_owned()
}

fn error_chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

fn last_cause(chain: &str) -> String {
    chain.rsplit(": ").next().unwrap_or(chain).chars().take(160).collect()
}

/// A `Bearer` header value marked sensitive (reqwest then hides it from Debug).
pub fn bearer(secret: &crate::secret::Secret) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(&format!("Bearer {}", secret.expose())).ok()?;
    v.set_sensitive(true);
    Some(v)
}

/// `Retry-After` in seconds, if the server sent one.
pub fn retry_after(resp: &RawResponse) -> Option<Duration> {
    resp.header(RETRY_AFTER.as_str()).and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs)
}

/// Turn a non-success status into the right error, recognising proxy HTML pages.
pub fn status_error(resp: &RawResponse) -> GatewayError {
    let status = resp.status.as_u16();
    if resp.is_html() {
        return GatewayError::Html { status, title: resp.html_title() };
    }
    match status {
        404 => GatewayError::NotFound { path: resp.path.clone() },
        429 => GatewayError::RateLimited { retry_after: retry_after(resp) },
        _ => GatewayError::Http { status, message: error_message(resp) },
    }
}

/// The message inside the common error shapes: `{"error":{"message"}}`,
/// `{"detail": …}`, `{"message": …}`, or the raw excerpt.
pub fn error_message(resp: &RawResponse) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&resp.body) {
        let m = v.pointer("/error/message").or_else(|| v.get("detail")).or_else(|| v.get("message"));
        if let Some(m) = m {
            let s = m.as_str().map_or_else(|| m.to_string(), str::to_owned);
            return first_line(&s);
        }
    }
    let ex = resp.excerpt();
    if ex.is_empty() { "(empty body)".into() } else { ex }
}

/// First line of a message, trimmed to a readable length (LiteLLM errors carry stack traces).
/// The first non-empty line of gateway text, shortened, with every secret
/// gatewatch knows and every echoed credential masked ([`crate::secret::scrub`]).
pub fn first_line(s: &str) -> String {
    let line = s.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let line = crate::secret::scrub(line);
    if line.chars().count() > 200 {
        let cut: String = line.chars().take(199).collect();
        format!("{cut}…")
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, ct: &str, body: &str) -> RawResponse {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        RawResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: body.as_bytes().to_vec(),
            elapsed: Duration::ZERO,
            path: "/model/info".into(),
        }
    }

    #[test]
    fn recognises_nginx_502_page() {
        let r = resp(502, "text/html", "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>");
        assert_eq!(status_error(&r), GatewayError::Html { status: 502, title: "502 Bad Gateway".into() });
    }

    #[test]
    fn classifies_json_failures() {
        let t: Result<serde_json::Value, _> = decode_json(br#"{"data":[{"a":1"#, "/x");
        assert!(matches!(t, Err(GatewayError::Truncated { .. })));
        let g: Result<serde_json::Value, _> = decode_json(b"hello", "/x");
        assert!(matches!(g, Err(GatewayError::Garbage { .. })));
        #[derive(serde::Deserialize, Debug)]
        struct S {
            #[allow(dead_code)]
            data: Vec<u8>,
        }
        let w: Result<S, _> = decode_json(br#"{"data":"x"}"#, "/x");
        assert!(matches!(w, Err(GatewayError::WrongShape { .. })));
    }

    #[test]
    fn extracts_litellm_error_message() {
        let r = resp(
            400,
            "application/json",
            r#"{"error":{"message":"No connected db.\nTraceback","type":"no_db_connection","param":"None","code":"400"}}"#,
        );
        assert_eq!(error_message(&r), "No connected db.");
    }

    /// A loopback server answering `/big` with `body` in pieces of `piece`
    /// bytes (so the client receives many chunks) and `/page` with an HTML
    /// error page; stops with the test's runtime.
    async fn pieces(body: Vec<u8>, piece: usize) -> String {
        use axum::routing::get;
        let big = move || {
            let parts: Vec<Result<Vec<u8>, std::io::Error>> = body.chunks(piece).map(|c| Ok(c.to_vec())).collect();
            async move { axum::body::Body::from_stream(futures::stream::iter(parts)) }
        };
        let app = axum::Router::new().route("/big", get(big)).route(
            "/page",
            get(|| async {
                (
                    axum::http::StatusCode::BAD_GATEWAY,
                    [("content-type", "text/html")],
                    "<html><title>502 Bad Gateway</title></html>",
                )
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn a_large_answer_is_kept_as_received_and_known_by_its_bytes() {
        let body: Vec<u8> = (0..300_000u32).map(|i| u8::try_from(i % 251).unwrap()).collect();
        let base = pieces(body.clone(), 7_000).await;
        let memo: super::super::parse_memo::ParseMemo<usize> = super::super::parse_memo::ParseMemo::default();
        let http = HttpClient::new(Duration::from_secs(5), 1 << 20);
        let (head, large) = http.get_large(&base, "/big", HeaderMap::new(), &memo.digester()).await.unwrap();
        let large = large.unwrap();
        assert_eq!(large.to_vec(), body);
        assert_eq!(head.body, body[..SNIFF], "the response holds the first bytes only");
        assert_eq!(large.prefix(10), body[..10]);
        // Known by its bytes however they were cut: a parse of the same bytes
        // whole is found by the id taken as they arrived.
        let whole = memo.get_or_parse(&body, |b| Ok::<_, ()>(b.len())).unwrap();
        let found = memo.get_or_parse_id(large.id(), || Ok::<_, ()>(0)).unwrap();
        assert!(std::sync::Arc::ptr_eq(&whole, &found));
        // A failed answer is read whole (its page names the failure).
        let (page, none) = http.get_large(&base, "/page", HeaderMap::new(), &memo.digester()).await.unwrap();
        assert!(none.is_none());
        assert_eq!(status_error(&page), GatewayError::Html { status: 502, title: "502 Bad Gateway".into() });
        // Bounded as every other read.
        let small = HttpClient::new(Duration::from_secs(5), 100_000);
        let over = small.get_large(&base, "/big", HeaderMap::new(), &memo.digester()).await;
        assert!(matches!(over, Err(GatewayError::TooLarge { limit: 100_000 })), "{:?}", over.err());
    }
}
