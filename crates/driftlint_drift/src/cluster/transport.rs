//! One HTTP exchange with the API server, with a timeout, retries with backoff on 429/5xx and
//! transport errors, and a circuit breaker once the server is gone.
//!
//! As client-go's `rest` client: 429 and 503 honour `Retry-After` (capped), other retryable
//! failures back off exponentially; a `Status` body becomes an [`ApiFailure`] with its code,
//! reason and message; a non-JSON error body (the apiserver's `404 page not found` for an
//! unserved group) keeps its text.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::Value;

/// Why a request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFailure {
    /// HTTP status code; 0 for a transport error or timeout (no answer).
    pub code: u16,
    /// The `Status.reason` (`NotFound`, `Forbidden`, `Conflict`, `Invalid`...), empty if none.
    pub reason: String,
    /// The `Status.message`, the plain-text body, or the transport error.
    pub message: String,
}

impl ApiFailure {
    fn transport(message: impl Into<String>) -> ApiFailure {
        ApiFailure {
            code: 0,
            reason: String::new(),
            message: message.into(),
        }
    }

    /// True for 404 with a `Status` body of reason `NotFound` (the object is absent), as
    /// opposed to the plain-text 404 of a path the server does not serve.
    pub fn is_object_not_found(&self) -> bool {
        self.code == 404 && self.reason == "NotFound"
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            0 => write!(f, "{}", self.message),
            code => write!(f, "HTTP {code}: {}", self.message),
        }
    }
}

/// How hard to try.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Time limit of one attempt (connect, send, whole body).
    pub timeout: Duration,
    /// Attempts after the first one for retryable failures.
    pub retries: u32,
    /// First backoff; doubles per attempt, capped at 8 times this.
    pub backoff: Duration,
}

/// A request that can be sent more than once.
#[derive(Clone, Debug)]
pub struct Exchange {
    parts: http::request::Parts,
    body: Vec<u8>,
}

impl Exchange {
    /// Keeps a built request (from `kube::core::Request`) for sending and re-sending.
    pub fn new(request: http::Request<Vec<u8>>) -> Exchange {
        let (parts, body) = request.into_parts();
        Exchange { parts, body }
    }

    fn build(&self) -> http::Request<Body> {
        http::Request::from_parts(self.parts.clone(), Body::from(self.body.clone()))
    }

    /// `METHOD path?query`, for messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.parts.method, self.parts.uri)
    }
}

/// Sends requests for one cluster; shared by every concurrent task.
pub struct Transport {
    client: kube::Client,
    policy: RetryPolicy,
    gone: AtomicBool,
}

/// One attempt's outcome: the answer, or a failure and whether to retry (and after how long).
enum Attempt {
    Done(Result<(u16, Value), ApiFailure>),
    Retry(ApiFailure, Option<Duration>),
}

impl Transport {
    /// A transport over `client` with `policy`.
    pub fn new(client: kube::Client, policy: RetryPolicy) -> Transport {
        Transport {
            client,
            policy,
            gone: AtomicBool::new(false),
        }
    }

    /// Sends `exchange` and parses the JSON answer, retrying 429, 502, 503, 504, timeouts and
    /// transport errors with backoff. Returns the HTTP status (200, 201) and the body.
    ///
    /// Errors: the final [`ApiFailure`]. Once a request has failed at the transport level after
    /// every retry, the server is considered gone and later calls fail at once (code 0), so a
    /// server that dies mid-run ends the run quickly instead of waiting out every object.
    pub async fn call(&self, exchange: &Exchange) -> Result<(u16, Value), ApiFailure> {
        let mut attempt = 0;
        loop {
            if self.gone.load(Ordering::Relaxed) {
                return Err(ApiFailure::transport(format!(
                    "{}: the API server stopped answering earlier in this run",
                    exchange.describe()
                )));
            }
            match self.attempt(exchange).await {
                Attempt::Done(result) => return result,
                Attempt::Retry(failure, wait) => {
                    if attempt >= self.policy.retries {
                        if failure.code == 0 {
                            self.gone.store(true, Ordering::Relaxed);
                        }
                        return Err(failure);
                    }
                    let backoff = self.policy.backoff * 2u32.pow(attempt.min(3));
                    tokio::time::sleep(wait.unwrap_or(backoff)).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, exchange: &Exchange) -> Attempt {
        let fut = async {
            let response = self.client.send(exchange.build()).await?;
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await?.to_bytes();
            Ok::<_, kube::Error>((parts, bytes))
        };
        let (parts, bytes) = match tokio::time::timeout(self.policy.timeout, fut).await {
            Err(_) => {
                return Attempt::Retry(
                    ApiFailure::transport(format!(
                        "{}: no answer within {:?}",
                        exchange.describe(),
                        self.policy.timeout
                    )),
                    None,
                )
            }
            Ok(Err(e)) => {
                return Attempt::Retry(
                    ApiFailure::transport(format!("{}: {e}", exchange.describe())),
                    None,
                )
            }
            Ok(Ok(answer)) => answer,
        };
        let code = parts.status.as_u16();
        if parts.status.is_success() {
            return Attempt::Done(
                serde_json::from_slice(&bytes)
                    .map(|v| (code, v))
                    .map_err(|e| ApiFailure {
                        code,
                        reason: String::new(),
                        message: format!("{}: answer is not JSON: {e}", exchange.describe()),
                    }),
            );
        }
        let failure = failure_from_body(code, &bytes);
        if matches!(code, 429 | 502 | 503 | 504) {
            Attempt::Retry(failure, retry_after(&parts.headers))
        } else {
            Attempt::Done(Err(failure))
        }
    }
}

/// The failure a non-2xx answer describes: a `Status` object's reason and message, or the
/// trimmed text body.
pub fn failure_from_body(code: u16, body: &[u8]) -> ApiFailure {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    match parsed.filter(|v| v.get("kind").and_then(Value::as_str) == Some("Status")) {
        Some(status) => ApiFailure {
            code,
            reason: status["reason"].as_str().unwrap_or_default().to_string(),
            message: status["message"].as_str().unwrap_or_default().to_string(),
        },
        None => ApiFailure {
            code,
            reason: String::new(),
            message: String::from_utf8_lossy(body).trim().to_string(),
        },
    }
}

/// `Retry-After` in seconds, capped at 10 s (an HTTP date is treated as absent).
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.min(10)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bodies_and_plain_text_become_failures() {
        let body = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"feature-flags\" not found","reason":"NotFound","details":{"name":"feature-flags","kind":"configmaps"},"code":404}"#;
        let f = failure_from_body(404, body);
        assert!(f.is_object_not_found());
        assert_eq!(f.message, "configmaps \"feature-flags\" not found");
        let plain = failure_from_body(404, b"404 page not found\n");
        assert!(!plain.is_object_not_found());
        assert_eq!(plain.message, "404 page not found");
    }

    #[test]
    fn retry_after_is_seconds_and_capped() {
        let mut h = http::HeaderMap::new();
        h.insert("retry-after", "1".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(1)));
        h.insert("retry-after", "3600".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(10)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
