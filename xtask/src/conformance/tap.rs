//! A loopback relay between the client and Prism that records every exchange as it was on the
//! wire: the raw request target (percent-encoding and query as sent), the body, and Prism's
//! status, headers and body, including answers the client cannot decode.
//!
//! One request per connection: the relay asks Prism to close after answering, reads the answer
//! to its end and passes it back, so it never has to frame a response body.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Larger request heads are refused (the client's are a few hundred bytes).
const MAX_HEAD: usize = 64 * 1024;

/// One request and what Prism answered.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: String,
    /// As sent: path and query, percent-encoded.
    pub target: String,
    pub body: Vec<u8>,
    pub response: Result<Response, String>,
}

#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Exchange {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The names of the query parameters, decoded, in the order sent.
    pub fn query_names(&self) -> Vec<String> {
        let Some((_, query)) = self.target.split_once('?') else {
            return Vec::new();
        };
        query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| percent_decode(pair.split('=').next().unwrap_or_default()))
            .collect()
    }

    /// The request in one line, body included (the token is in a header and stays out), and
    /// the status Prism answered.
    pub fn summary(&self) -> String {
        let body = if self.body.is_empty() {
            String::new()
        } else {
            format!(" body {}", String::from_utf8_lossy(&self.body))
        };
        let status = match &self.response {
            Ok(response) => response.status.to_string(),
            Err(_) => "no answer".to_string(),
        };
        format!("{} {}{body} -> {status}", self.method, self.target)
    }
}

/// The relay: listens on 127.0.0.1, forwards to `upstream`, keeps the log.
pub struct Tap {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Exchange>>>,
    accept: JoinHandle<()>,
}

impl Tap {
    pub async fn start(upstream: SocketAddr) -> io::Result<Tap> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&log);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let log = Arc::clone(&shared);
                tokio::spawn(async move {
                    // A failed relay shows as a transport error in the client; nothing to add.
                    let _ = relay(client, upstream, &log).await;
                });
            }
        });
        Ok(Tap { addr, log, accept })
    }

    /// Everything recorded since the last call.
    pub fn take(&self) -> Vec<Exchange> {
        match self.log.lock() {
            Ok(mut log) => std::mem::take(&mut *log),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    log: &Mutex<Vec<Exchange>>,
) -> io::Result<()> {
    let (head, mut body) = read_head(&mut client).await?;
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut forwarded = format!("{request_line}\r\n");
    let mut length = 0usize;
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "connection" | "keep-alive" => continue,
            "content-length" => {
                length = value.trim().parse().map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidData, "bad content-length")
                })?;
            }
            "transfer-encoding" => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "chunked request bodies are not relayed",
                ));
            }
            _ => {}
        }
        forwarded.push_str(line);
        forwarded.push_str("\r\n");
    }
    forwarded.push_str("connection: close\r\n\r\n");
    while body.len() < length {
        let mut chunk = vec![0; length - body.len()];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);

    let answer = forward(upstream, forwarded.as_bytes(), &body).await;
    let response = answer
        .as_ref()
        .map_err(|e| format!("relaying to Prism at {upstream}: {e}"))
        .and_then(|raw| parse_response(raw));
    // Recorded before the client sees the answer, so the log is complete when `send` returns.
    if let Ok(mut log) = log.lock() {
        log.push(Exchange {
            method,
            target,
            body,
            response,
        });
    }
    client.write_all(&answer?).await?;
    client.shutdown().await
}

async fn forward(upstream: SocketAddr, head: &[u8], body: &[u8]) -> io::Result<Vec<u8>> {
    let mut prism = TcpStream::connect(upstream).await?;
    prism.write_all(head).await?;
    prism.write_all(body).await?;
    let mut answer = Vec::new();
    prism.read_to_end(&mut answer).await?;
    Ok(answer)
}

/// Reads up to the blank line; returns the head and whatever of the body came with it.
async fn read_head(stream: &mut TcpStream) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            let body = buffer.split_off(end + 4);
            return Ok((buffer, body));
        }
        if buffer.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let end = find(raw, b"\r\n\r\n").ok_or("Prism's answer has no complete head")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("Prism's status line `{status_line}` has no status"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Response {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_names_are_decoded() {
        let exchange = Exchange {
            method: "GET".into(),
            target: "/v2/x?page_token=JPZm%2BZ&per%5Fpage=1&read_write".into(),
            body: Vec::new(),
            response: Err(String::new()),
        };
        assert_eq!(
            exchange.query_names(),
            ["page_token", "per_page", "read_write"]
        );
        assert_eq!(exchange.path(), "/v2/x");
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
