//! The HTTP/1.1 server: hyper on a two-worker tokio runtime in its own thread, one task
//! per keep-alive connection (any number of concurrent connections), fault injection
//! (latency, 429 throttling, RBAC-forbidden PATCH, dying after N requests) and the
//! request log.

use crate::discovery::Discovery;
use crate::handler::{handle, Ctx, Req, Resp};
use crate::store::Store;
use crate::util::{now_unix, uid_from};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// When to answer 429 `TooManyRequests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Throttle {
    /// Never.
    #[default]
    Off,
    /// The first N requests (counted from 1 over the server's life).
    First(u64),
    /// Every Nth request (N, 2N, ...).
    Every(u64),
}

/// Fault injection and behaviour switches.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Delay before every answer.
    pub latency: Duration,
    /// 429 policy.
    pub throttle: Throttle,
    /// When set, every PATCH is 403 for this user (RBAC without `patch`).
    pub forbid_patch_as: Option<String>,
    /// Answer N requests, then stop accepting and close every connection.
    pub die_after: Option<u64>,
    /// Fixed request time (Unix seconds) for reproducible timestamps; `None` = now.
    pub fixed_time: Option<i64>,
}

/// One logged request: method, path and raw query (no `?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query string.
    pub query: String,
}

/// Shared server state.
pub struct State {
    pub(crate) disc: Discovery,
    pub(crate) store: Mutex<Store>,
    pub(crate) faults: Faults,
    pub(crate) log: Mutex<Vec<RequestRecord>>,
    pub(crate) seq: AtomicU64,
    pub(crate) shutdown: watch::Sender<bool>,
    flow_schema: String,
    priority_level: String,
}

impl State {
    /// New state; `shutdown` stops the accept loop when set to `true`.
    pub fn new(
        disc: Discovery,
        store: Store,
        faults: Faults,
        shutdown: watch::Sender<bool>,
    ) -> Self {
        State {
            disc,
            store: Mutex::new(store),
            faults,
            log: Mutex::new(Vec::new()),
            seq: AtomicU64::new(0),
            shutdown,
            flow_schema: uid_from("flowschema exempt"),
            priority_level: uid_from("prioritylevel exempt"),
        }
    }

    fn answer(&self, seq: u64, req: &Req) -> Resp {
        let throttled = match self.faults.throttle {
            Throttle::Off => false,
            Throttle::First(n) => seq <= n,
            Throttle::Every(n) => n > 0 && seq % n == 0,
        };
        if throttled {
            return crate::status::ApiError::too_many_requests().into();
        }
        let mut store = match self.store.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut ctx = Ctx {
            disc: &self.disc,
            store: &mut store,
            forbid_patch_as: self.faults.forbid_patch_as.as_deref(),
            now: self.faults.fixed_time.unwrap_or_else(now_unix),
        };
        handle(&mut ctx, req)
    }

    fn record(&self, req: &Req) {
        let rec = RequestRecord {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
        };
        match self.log.lock() {
            Ok(mut l) => l.push(rec),
            Err(poisoned) => poisoned.into_inner().push(rec),
        }
    }

    fn to_http(&self, seq: u64, r: Resp) -> hyper::Response<Full<Bytes>> {
        let mut b = hyper::Response::builder()
            .status(r.code)
            .header("Audit-Id", uid_from(&format!("audit {seq}")))
            .header("Cache-Control", r.cache_control)
            .header("Content-Type", r.content_type);
        for (k, v) in r.headers {
            b = b.header(k, v);
        }
        b = b
            .header("X-Kubernetes-Pf-Flowschema-Uid", &self.flow_schema)
            .header("X-Kubernetes-Pf-Prioritylevel-Uid", &self.priority_level);
        b.body(Full::new(Bytes::from(r.body)))
            .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
    }
}

async fn serve_request(
    state: Arc<State>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let seq = state.seq.fetch_add(1, Ordering::SeqCst) + 1;
    if state.faults.die_after.is_some_and(|n| seq > n) {
        let _ = state.shutdown.send(true);
        // The connection task is aborted by the shutdown; never answer.
        std::future::pending::<()>().await;
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut r = Req {
        method: req.method().as_str().to_string(),
        path: req.uri().path().to_string(),
        query: req.uri().query().unwrap_or("").to_string(),
        accept: header("accept"),
        content_type: header("content-type"),
        body: Vec::new(),
    };
    r.body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    };
    if !state.faults.latency.is_zero() {
        tokio::time::sleep(state.faults.latency).await;
    }
    state.record(&r);
    let resp = state.answer(seq, &r);
    Ok(state.to_http(seq, resp))
}

/// Accepts connections until `shutdown` turns `true`, then closes the listener and
/// aborts every open connection.
pub async fn serve(listener: TcpListener, state: Arc<State>) {
    let mut shutdown = state.shutdown.subscribe();
    let mut conns = JoinSet::new();
    loop {
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let st = state.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| serve_request(st.clone(), req));
                    let _ = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}
