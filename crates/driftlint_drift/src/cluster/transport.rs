//! One HTTP exchange with the API server, with a timeout, retries with backoff on 429/5xx and
//! transport errors, and a circuit breaker once the server is gone.
//!
//! As client-go's `rest` client: 429 and 503 honour `Retry-After` (capped), other retryable
//! failures back off exponentially; a `Status` body becomes an [`ApiFailure`] with its code,
//! reason and message; a non-JSON error body (the apiserver's `404 page not found` for an
//! unserved group) keeps its text.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
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
    /// Why the server is considered gone, once it is.
    gone: Mutex<Option<String>>,
    /// A `/readyz` probe is running.
    probing: AtomicBool,
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
            gone: Mutex::new(None),
            probing: AtomicBool::new(false),
        }
    }

    /// Sends `exchange` and parses the JSON answer, retrying 429, 502, 503, 504, timeouts and
    /// transport errors with backoff. Returns the HTTP status (200, 201) and the body.
    ///
    /// After a timeout or transport error, `GET /readyz` is probed with a short deadline
    /// ([`probe_deadline`]); when it gets no answer either, the server is considered gone: this
    /// and every later or in-flight call fail at once (code 0) with the cause
    /// ([`Transport::gone`]), so a dead or frozen server ends the run within about twice the
    /// timeout instead of waiting out every retry of every object (client-go has no such
    /// breaker; `kubectl` waits out each request).
    ///
    /// Errors: the final [`ApiFailure`].
    pub async fn call(&self, exchange: &Exchange) -> Result<(u16, Value), ApiFailure> {
        let mut attempt = 0;
        loop {
            if let Some(cause) = self.gone() {
                return Err(ApiFailure::transport(format!(
                    "{}: not sent: the API server stopped answering ({cause})",
                    exchange.describe()
                )));
            }
            let outcome = tokio::select! {
                outcome = self.attempt(exchange) => outcome,
                cause = self.wait_gone() => Attempt::Done(Err(ApiFailure::transport(format!(
                    "{}: abandoned: the API server stopped answering ({cause})",
                    exchange.describe()
                )))),
            };
            match outcome {
                Attempt::Done(result) => return result,
                Attempt::Retry(failure, wait) => {
                    if failure.code == 0 && !self.server_answers(&failure).await {
                        return Err(failure);
                    }
                    if attempt >= self.policy.retries {
                        return Err(failure);
                    }
                    let backoff = self.policy.backoff * 2u32.pow(attempt.min(3));
                    tokio::time::sleep(wait.unwrap_or(backoff)).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Why the server is considered gone (`GET PATH: timed out after 10 s; GET /readyz got no
    /// answer within 2 s`), once a request got no answer and neither did the `/readyz` probe
    /// after it.
    pub fn gone(&self) -> Option<String> {
        self.gone.lock().ok().and_then(|g| g.clone())
    }

    fn mark_gone(&self, cause: String) {
        if let Ok(mut g) = self.gone.lock() {
            g.get_or_insert(cause);
        }
    }

    /// Resolves once the server is marked gone (polled every 20 ms), with the cause.
    async fn wait_gone(&self) -> String {
        loop {
            if let Some(cause) = self.gone() {
                return cause;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// After `failure` (no answer): does `GET /readyz` get any HTTP answer within
    /// [`probe_deadline`]? One probe runs at a time; concurrent callers wait for its verdict.
    /// A silent server is marked gone.
    async fn server_answers(&self, failure: &ApiFailure) -> bool {
        if self.probing.swap(true, Ordering::AcqRel) {
            while self.probing.load(Ordering::Acquire) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            return self.gone().is_none();
        }
        let deadline = probe_deadline(self.policy.timeout);
        let answered = match http::Request::get("/readyz").body(Body::empty()) {
            Ok(request) => matches!(
                tokio::time::timeout(deadline, self.client.send(request)).await,
                Ok(Ok(_))
            ),
            Err(_) => false,
        };
        if !answered {
            self.mark_gone(format!(
                "{}; GET /readyz got no answer within {}",
                failure.message,
                seconds(deadline)
            ));
        }
        self.probing.store(false, Ordering::Release);
        answered
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
                        "{}: timed out after {}",
                        exchange.describe(),
                        seconds(self.policy.timeout)
                    )),
                    None,
                )
            }
            Ok(Err(e)) => {
                let cause = chain(&e);
                let cause = match cause.contains("timed out") {
                    true => format!("timed out after {}", seconds(self.policy.timeout)),
                    false => cause,
                };
                return Attempt::Retry(
                    ApiFailure::transport(format!("{}: {cause}", exchange.describe())),
                    None,
                );
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

/// The deadline of the `/readyz` probe after a request got no answer: a quarter of the
/// request timeout, between 0.2 s and 2 s (so a frozen server ends the run within about
/// 1.25 times the timeout).
pub fn probe_deadline(timeout: Duration) -> Duration {
    (timeout / 4).clamp(Duration::from_millis(200), Duration::from_secs(2))
}

/// `10 s`, `0.5 s`: a duration in seconds for messages.
pub fn seconds(d: Duration) -> String {
    format!("{} s", (d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// An error with its sources (`client error (Connect): tcp connect error: Connection refused
/// (os error 111)`): kube's own message alone does not say what failed.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
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
    fn probe_deadlines_and_seconds() {
        assert_eq!(
            probe_deadline(Duration::from_secs(10)),
            Duration::from_secs(2)
        );
        assert_eq!(
            probe_deadline(Duration::from_secs(2)),
            Duration::from_millis(500)
        );
        assert_eq!(
            probe_deadline(Duration::from_millis(100)),
            Duration::from_millis(200)
        );
        assert_eq!(seconds(Duration::from_secs(10)), "10 s");
        assert_eq!(seconds(Duration::from_millis(250)), "0.25 s");
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
