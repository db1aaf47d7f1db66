//! The streaming probe: one tiny streamed chat completion, measured
//! (time to first byte, to first token, the largest gap between chunks,
//! whether `data: [DONE]` arrived and whether the last chunk is whole JSON).
//! Works against any OpenAI-compatible endpoint.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::gateway::StreamReport;

/// Incremental SSE parsing state, kept apart from I/O so it can be tested.
#[derive(Debug, Default)]
pub struct SseMeter {
    /// Bytes not yet part of a complete event. Kept as bytes: a chunk may end
    /// inside a multi-byte character, which is decoded once the event is whole.
    buf: Vec<u8>,
    /// `buf` holds no event separator before this offset.
    scanned: usize,
    /// The last byte fed was a CR: an LF right after it ends the same line.
    after_cr: bool,
    pub events: u32,
    pub done: bool,
    pub saw_token: bool,
    pub last_data: Option<String>,
}

impl SseMeter {
    /// Feed bytes; returns true when this feed produced the first token.
    /// The result does not depend on how the stream is cut into chunks.
    /// Lines may end in LF, CRLF or CR (the SSE specification allows all
    /// three); they are normalised to LF on the way in.
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        self.buf.reserve(bytes.len());
        for &b in bytes {
            let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
            match b {
                b'\n' if after_cr => {}
                b'\r' => self.buf.push(b'\n'),
                _ => self.buf.push(b),
            }
        }
        let mut first_token = false;
        loop {
            let Some(pos) = self.buf[self.scanned..].windows(2).position(|w| w == b"\n\n").map(|p| p + self.scanned)
            else {
                self.scanned = self.buf.len().saturating_sub(1);
                break;
            };
            let raw: Vec<u8> = self.buf.drain(..pos + 2).collect();
            self.scanned = 0;
            let event = String::from_utf8_lossy(&raw);
            for line in event.lines() {
                let Some(data) = line.strip_prefix("data:") else { continue };
                let data = data.trim();
                self.events += 1;
                if data == "[DONE]" {
                    self.done = true;
                    continue;
                }
                if !self.saw_token
                    && let Ok(v) = serde_json::from_str::<Value>(data)
                    && v.pointer("/choices/0/delta/content").and_then(Value::as_str).is_some_and(|s| !s.is_empty())
                {
                    self.saw_token = true;
                    first_token = true;
                }
                self.last_data = Some(data.to_owned());
            }
        }
        first_token
    }

    /// Leftover bytes without a closing blank line mean the stream was cut.
    pub fn has_partial_event(&self) -> bool {
        !String::from_utf8_lossy(&self.buf).trim().is_empty()
    }

    pub fn last_chunk_complete(&self) -> bool {
        !self.has_partial_event() && self.last_data.as_deref().is_some_and(|d| serde_json::from_str::<Value>(d).is_ok())
    }
}

pub async fn probe(base: &str, model: &str, headers: HeaderMap, limit: Duration) -> StreamReport {
    let started = Instant::now();
    let mut report = StreamReport { via: base.trim_end_matches('/').to_owned(), ..StreamReport::default() };
    let client = match reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).build() {
        Ok(c) => c,
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    let body = json!({
        "model": model,
        "messages": [{"role": "user", "content": "Count from 1 to 5."}],
        "max_tokens": 16,
        "stream": true,
        "stream_options": {"include_usage": true}
    });
    let url = format!("{}/v1/chat/completions", base.trim_end_matches('/'));
    let run = async {
        let resp = client.post(&url).headers(headers).json(&body).send().await.map_err(|e| e.to_string())?;
        report.ttfb = Some(started.elapsed());
        report.status = resp.status().as_u16();
        report.content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
        report.x_accel_buffering =
            resp.headers().get("x-accel-buffering").and_then(|v| v.to_str().ok()).map(str::to_owned);
        if !resp.status().is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(crate::gateway::http::first_line(&text));
        }
        let mut meter = SseMeter::default();
        let mut last = Instant::now();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| format!("stream broke after {} events: {e}", meter.events))?;
            let now = Instant::now();
            if report.chunks > 0 {
                report.max_gap = report.max_gap.max(now - last);
            }
            last = now;
            report.chunks += 1;
            if meter.feed(&chunk) {
                report.first_token = Some(started.elapsed());
            }
        }
        report.done_marker = meter.done;
        report.last_chunk_complete_json = meter.last_chunk_complete();
        Ok(())
    };
    match tokio::time::timeout(limit, run).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => report.error = Some(e),
        Err(_) => report.error = Some(format!("stream did not finish within {}s", limit.as_secs())),
    }
    report.total = started.elapsed();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meters_the_captured_litellm_stream() {
        let sse = include_str!("../../../tests/fixtures/litellm/stream_chat.sse");
        let mut m = SseMeter::default();
        let mut first = 0;
        for piece in sse.as_bytes().chunks(7) {
            if m.feed(piece) {
                first += 1;
            }
        }
        assert_eq!(first, 1);
        assert!(m.done);
        assert!(m.last_chunk_complete());
    }

    #[test]
    fn a_character_split_across_chunks_is_whole() {
        let event = "data: {\"choices\":[{\"delta\":{\"content\":\"中文\"}}]}\n\n".as_bytes();
        let cut = event.iter().position(|&b| b >= 0x80).unwrap() + 1;
        let mut m = SseMeter::default();
        assert!(!m.feed(&event[..cut]));
        assert!(m.feed(&event[cut..]));
        assert_eq!(m.last_data.as_deref(), Some("{\"choices\":[{\"delta\":{\"content\":\"中文\"}}]}"));
    }

    #[test]
    fn crlf_and_cr_line_endings_end_events_wherever_the_chunks_split() {
        let stream =
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\r\n\r\ndata: {\"x\":1}\r\rdata: [DONE]\r\n\r\n";
        for cut in 0..stream.len() {
            let mut m = SseMeter::default();
            m.feed(&stream.as_bytes()[..cut]);
            m.feed(&stream.as_bytes()[cut..]);
            assert_eq!((m.events, m.done, m.saw_token), (3, true, true), "cut at {cut}");
            assert!(!m.has_partial_event(), "cut at {cut}");
        }
        let mut cut_short = SseMeter::default();
        cut_short.feed(b"data: {\"x\":1}\r\n\r\ndata: {\"y\"");
        assert_eq!(cut_short.events, 1);
        assert!(cut_short.has_partial_event());
    }

    #[test]
    fn cut_stream_is_detected() {
        let mut m = SseMeter::default();
        m.feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"choices\":[{\"del");
        assert!(!m.done);
        assert!(!m.last_chunk_complete());
    }
}
