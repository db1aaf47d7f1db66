//! Counting the keys of the response cache's Redis around a purge: one
//! connection, an optional `AUTH`, `DBSIZE`. The password is a
//! [`crate::secret::Secret`] and never part of a message.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::config_file::RedisTarget;

/// RESP array of bulk strings.
fn command(parts: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for p in parts {
        out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        out.extend_from_slice(p.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

async fn reply(r: &mut BufReader<TcpStream>) -> Result<String, String> {
    let mut line = String::new();
    // A reply line is short; a longer one is not Redis.
    let n = (&mut *r).take(512).read_line(&mut line).await.map_err(|e| e.to_string())?;
    if n == 0 {
        return Err("the connection closed".into());
    }
    let line = line.trim_end().to_owned();
    match line.strip_prefix('-') {
        Some(err) => Err(crate::gateway::http::first_line(err)),
        None => Ok(line),
    }
}

/// The number of keys in the Redis the proxy caches in.
pub async fn dbsize(t: &RedisTarget, timeout: Duration) -> Result<u64, String> {
    let run = async {
        let stream = TcpStream::connect((t.host.as_str(), t.port)).await.map_err(|e| e.to_string())?;
        let mut r = BufReader::new(stream);
        if let Some(pw) = &t.password {
            r.get_mut().write_all(&command(&["AUTH", pw.expose()])).await.map_err(|e| e.to_string())?;
            reply(&mut r).await.map_err(|e| format!("AUTH refused: {e}"))?;
        }
        r.get_mut().write_all(&command(&["DBSIZE"])).await.map_err(|e| e.to_string())?;
        let line = reply(&mut r).await?;
        line.strip_prefix(':').and_then(|n| n.parse().ok()).ok_or_else(|| "not a Redis answer".to_owned())
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(r) => r.map_err(|e| format!("Redis {}:{}: {e}", t.host, t.port)),
        Err(_) => {
            Err(format!("Redis {}:{}: no answer within {}", t.host, t.port, crate::config::duration::human(timeout)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dbsize_speaks_resp_with_auth() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = vec![0u8; 256];
            let n = s.read(&mut buf).await.unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).contains("AUTH"));
            s.write_all(b"+OK\r\n").await.unwrap();
            let n = s.read(&mut buf).await.unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).contains("DBSIZE"));
            s.write_all(b":42\r\n").await.unwrap();
        });
        let t = RedisTarget {
            host: "127.0.0.1".into(),
            port,
            password: Some(crate::secret::Secret::new("redis-pass-secret")),
        };
        assert_eq!(dbsize(&t, Duration::from_secs(5)).await, Ok(42));
        server.await.unwrap();
        let closed = RedisTarget { host: "127.0.0.1".into(), port: 1, password: None };
        let e = dbsize(&closed, Duration::from_secs(5)).await.unwrap_err();
        assert!(e.starts_with("Redis 127.0.0.1:1:"), "{e}");
    }
}
