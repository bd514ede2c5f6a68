//! A fake Kubernetes API server for tests and benchmarks of `driftlint drift`.
//!
//! It speaks the slice of the Kubernetes REST API that drift uses, shaped as the
//! kube-apiserver v1.36.2 captured in `tests/fixtures/cluster/` answered, so the real
//! `kube` client works unchanged: discovery (`/version`, `/api`, `/apis`, legacy and
//! aggregated), GET and LIST (label/field selectors, PartialObjectMetadataList,
//! `limit`/`continue`), and PATCH as server-side apply (dry-run or real) with field
//! ownership, conflicts, defaults and validation. Faults can be injected: latency,
//! 429 throttling, RBAC-forbidden PATCH and dying after N requests.
//!
//! ```no_run
//! # fn main() -> Result<(), fake_apiserver::Error> {
//! let srv = fake_apiserver::FakeApiServer::builder()
//!     .seed_dir("tests/fixtures/cluster/live-after-drift")
//!     .latency(std::time::Duration::from_millis(5))
//!     .start()?;
//! srv.write_kubeconfig("/tmp/kubeconfig".as_ref(), "fake")?;
//! println!("{}", srv.url());
//! # Ok(()) }
//! ```

pub mod apply;
pub mod discovery;
pub mod handler;
pub mod query;
pub mod selector;
pub mod server;
pub mod status;
pub mod store;
pub mod synthetic;
pub mod util;

pub use server::{Faults, RequestRecord, Throttle};
pub use store::SeedError;

use discovery::Discovery;
use serde_json::Value;
use server::State;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use store::Store;

/// Errors of building, starting or using the fake server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Seeding failed (file named in the message).
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// Binding, the runtime or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Underlying error.
        source: std::io::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

/// Configures a [`FakeApiServer`].
#[derive(Debug, Default)]
pub struct Builder {
    seed_dirs: Vec<PathBuf>,
    objects: Vec<Value>,
    faults: Faults,
    port: u16,
}

impl Builder {
    /// Seeds every `*.json` live object of `dir` (fixture naming
    /// `<ns or _cluster>.<Kind>.<name>.json`; `list.*` and `*.GET-404.*` skipped).
    pub fn seed_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.seed_dirs.push(dir.into());
        self
    }

    /// Seeds one live object (as `kubectl get -o json` prints it).
    pub fn object(mut self, obj: Value) -> Self {
        self.objects.push(obj);
        self
    }

    /// Seeds many live objects.
    pub fn objects(mut self, objs: impl IntoIterator<Item = Value>) -> Self {
        self.objects.extend(objs);
        self
    }

    /// Delays every answer by `d`.
    pub fn latency(mut self, d: Duration) -> Self {
        self.faults.latency = d;
        self
    }

    /// Answers the first `n` requests with 429 `TooManyRequests`, `Retry-After: 1`.
    pub fn throttle_first(mut self, n: u64) -> Self {
        self.faults.throttle = Throttle::First(n);
        self
    }

    /// Answers every `n`th request with 429 (`n` = 0 disables).
    pub fn throttle_every(mut self, n: u64) -> Self {
        self.faults.throttle = Throttle::Every(n);
        self
    }

    /// Forbids every PATCH with the recorded RBAC 403 for user `lab-nobody`.
    pub fn forbid_patch(self, on: bool) -> Self {
        self.forbid_patch_as(on.then(|| "lab-nobody".to_string()))
    }

    /// Forbids every PATCH for the named user (`None` allows).
    pub fn forbid_patch_as(mut self, user: Option<String>) -> Self {
        self.faults.forbid_patch_as = user;
        self
    }

    /// Answers `n` requests, then stops accepting and closes all connections.
    pub fn die_after(mut self, n: u64) -> Self {
        self.faults.die_after = Some(n);
        self
    }

    /// Uses a fixed clock (Unix seconds) for `creationTimestamp` and managedFields times.
    pub fn fixed_time(mut self, unix: i64) -> Self {
        self.faults.fixed_time = Some(unix);
        self
    }

    /// Listens on `127.0.0.1:port` (0 = any free port, the default).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Seeds the store, binds and starts serving in a background thread.
    pub fn start(self) -> Result<FakeApiServer, Error> {
        let mut disc = Discovery::recorded();
        let mut store = Store::default();
        for dir in &self.seed_dirs {
            store.seed_dir(&mut disc, dir)?;
        }
        for obj in self.objects {
            store.seed_object(&mut disc, obj, Path::new("<object>"))?;
        }
        let listener = std::net::TcpListener::bind(("127.0.0.1", self.port))
            .map_err(io(format!("binding 127.0.0.1:{}", self.port)))?;
        listener
            .set_nonblocking(true)
            .map_err(io("setting the listener non-blocking"))?;
        let addr = listener
            .local_addr()
            .map_err(io("reading the bound address"))?;
        let (tx, _rx) = tokio::sync::watch::channel(false);
        let state = Arc::new(State::new(disc, store, self.faults, tx));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fake-apiserver")
            .enable_all()
            .build()
            .map_err(io("starting the tokio runtime"))?;
        let st = state.clone();
        let thread = std::thread::Builder::new()
            .name("fake-apiserver-accept".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => server::serve(l, st).await,
                        Err(e) => eprintln!("fake-apiserver: {e}"),
                    }
                });
            })
            .map_err(io("spawning the server thread"))?;
        Ok(FakeApiServer {
            addr,
            state,
            thread: Some(thread),
        })
    }
}

/// A running fake API server; dropping it stops it and closes every connection.
pub struct FakeApiServer {
    addr: SocketAddr,
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

impl FakeApiServer {
    /// A builder with no objects and no faults.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request answered so far (method, path, raw query), in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        match self.state.log.lock() {
            Ok(l) => l.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// A copy of the live object at group/version/plural/namespace/name, if any.
    pub fn object(&self, key: &store::ObjKey) -> Option<Value> {
        let store = match self.state.store.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        store.get(key).cloned()
    }

    /// The kubeconfig text for this server: one cluster (`server: http://...`), one
    /// user without credentials, one context named `context`, made current.
    pub fn kubeconfig(&self, context: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake-apiserver\n  cluster:\n    server: {url}\ncontexts:\n- name: {context}\n  context:\n    cluster: fake-apiserver\n    user: fake-user\ncurrent-context: {context}\nusers:\n- name: fake-user\n  user: {{}}\npreferences: {{}}\n",
            url = self.url()
        )
    }

    /// Writes [`Self::kubeconfig`] to `path`.
    pub fn write_kubeconfig(&self, path: &Path, context: &str) -> Result<(), Error> {
        std::fs::write(path, self.kubeconfig(context))
            .map_err(io(format!("writing {}", path.display())))
    }

    /// Blocks until the server stops (only happens through `die_after`).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        let _ = self.state.shutdown.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
