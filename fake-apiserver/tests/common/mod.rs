//! Shared helpers: fixture paths, recorded exchanges, a plain HTTP client.

#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;

/// The vendored cluster fixtures.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cluster")
}

/// A recorded request: method, path with query, headers, body.
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub status: u16,
    pub status_headers: Vec<(String, String)>,
    pub response: Vec<u8>,
}

fn split_head(text: &str) -> (Vec<&str>, &str) {
    match text.split_once("\n\n") {
        Some((head, body)) => (head.lines().collect(), body),
        None => (text.lines().collect(), ""),
    }
}

fn headers(lines: &[&str]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Reads `DIR/NAME.request.txt`, `.response-status.txt`, `.response.json`.
pub fn recorded(dir: &str, name: &str) -> Recorded {
    let base = fixtures().join(dir);
    let read =
        |suffix: &str| std::fs::read(base.join(format!("{name}.{suffix}"))).unwrap_or_default();
    let req = String::from_utf8(read("request.txt")).unwrap_or_default();
    let (head, body) = split_head(&req);
    let first: Vec<&str> = head.first().copied().unwrap_or("").split(' ').collect();
    let hs = headers(head.get(1..).unwrap_or(&[]));
    let len: usize = hs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let status_text = String::from_utf8(read("response-status.txt")).unwrap_or_default();
    let status_lines: Vec<&str> = status_text.lines().collect();
    let status = status_lines
        .first()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Recorded {
        method: first.first().unwrap_or(&"").to_string(),
        target: first.get(1).unwrap_or(&"").to_string(),
        headers: hs,
        body: body
            .as_bytes()
            .get(..len)
            .unwrap_or(body.as_bytes())
            .to_vec(),
        status,
        status_headers: headers(status_lines.get(1..).unwrap_or(&[])),
        response: read("response.json"),
    }
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.status_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response: status, headers (lower-case names), body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Sends one request with ureq, never treating HTTP errors as errors.
pub fn send(
    base: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut b = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{base}{target}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b.body(body.to_vec()).expect("request builds");
    let mut resp = agent.run(req).expect("server answers");
    let status = resp.status().as_u16();
    let hs = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = resp.body_mut().read_to_vec().expect("body reads");
    Answer {
        status,
        headers: hs,
        body,
    }
}

/// Replays a recorded request (same method, target, Accept, Content-Type, body).
pub fn replay(base: &str, rec: &Recorded) -> Answer {
    let keep: Vec<(&str, &str)> = rec
        .headers
        .iter()
        .filter(|(k, _)| matches!(k.to_ascii_lowercase().as_str(), "accept" | "content-type"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    send(base, &rec.method, &rec.target, &keep, &rec.body)
}
