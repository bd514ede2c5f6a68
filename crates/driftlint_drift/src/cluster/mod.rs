//! Cluster access for `driftlint drift` (cargo feature `cluster`, on by default): the `kube`
//! crate's client over rustls, a kubeconfig context (`--kubeconfig`, `--context`,
//! `$KUBECONFIG`, `~/.kube/config`) or the in-cluster service account.
//!
//! Every call is synchronous for the caller: a private tokio runtime runs up to
//! [`ClusterOptions::concurrency`] requests at a time and returns the answers in input order
//! (so output does not depend on timing).

mod discovery;
mod transport;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use kube::api::{ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value;

use driftlint_yaml::Node;

pub use discovery::{group_version_path, ApiResource, Resolution};
pub use transport::{seconds, ApiFailure, RetryPolicy};
use transport::{Exchange, Transport};

/// Objects of one `(resource, namespace)` from which [`Cluster::fetch_all`] lists them
/// instead of getting each.
pub const LIST_THRESHOLD: usize = 4;
/// Items per page of a list request.
pub const LIST_PAGE: u32 = 500;
/// Most pages of one list (a budget: 500,000 objects of one kind).
pub const MAX_LIST_PAGES: usize = 1000;

/// The field manager of driftlint's server-side-apply dry-runs where no other applied the
/// object (see [`crate::managers`]).
pub const FIELD_MANAGER: &str = "driftlint";

/// One server-side-apply dry-run to make.
pub struct DryRun<'a> {
    /// The object's resource.
    pub resource: ApiResource,
    /// Its namespace (`None`: cluster-scoped).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// The rendered object (the body).
    pub node: &'a Node,
    /// The field manager to apply as.
    pub manager: String,
    /// The live object, whose deployer-set labels and annotations the body gets.
    pub live: Option<&'a Value>,
}

/// How to reach the cluster and how hard to push it.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// Kubeconfig file; `None` reads `$KUBECONFIG` or `~/.kube/config`, and falls back to the
    /// in-cluster service account when neither exists.
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context; `None` uses the current context.
    pub context: Option<String>,
    /// Most requests in flight at once (`--concurrency`, default 16).
    pub concurrency: usize,
    /// Time limit of one request attempt (`--timeout`, default 10 s).
    pub timeout: Duration,
    /// Retries of a request after 429/502/503/504 or a transport error (default 4).
    pub retries: u32,
    /// Show a progress bar on stderr once the run has taken a second (the caller sets it
    /// when stderr is a terminal).
    pub progress: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            kubeconfig: None,
            context: None,
            concurrency: 16,
            timeout: Duration::from_secs(10),
            retries: 4,
            progress: false,
        }
    }
}

/// Why the cluster cannot be used at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No usable kubeconfig or service account, or an unknown context.
    #[error("cannot load cluster credentials: {0}")]
    Config(String),
    /// The API server did not answer `GET /version`.
    #[error("cannot reach the Kubernetes API server at {url}: {failure}")]
    Unreachable {
        /// The server URL.
        url: String,
        /// What went wrong.
        failure: ApiFailure,
    },
    /// The async runtime could not start.
    #[error("cannot start the network runtime: {0}")]
    Runtime(String),
}

/// A connected cluster.
pub struct Cluster {
    runtime: tokio::runtime::Runtime,
    transport: Arc<Transport>,
    name: String,
    url: String,
    default_namespace: String,
    concurrency: usize,
    progress: Option<Progress>,
}

/// Requests answered out of those started, drawn on stderr from one second into the run
/// (a short run shows nothing).
struct Progress {
    bar: indicatif::ProgressBar,
    started: std::time::Instant,
    shown: std::sync::atomic::AtomicBool,
}

impl Progress {
    fn new() -> Progress {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(0),
            indicatif::ProgressDrawTarget::hidden(),
        );
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} API requests {elapsed}")
        {
            bar.set_style(style);
        }
        Progress {
            bar,
            started: std::time::Instant::now(),
            shown: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn tick(&self) {
        self.bar.inc(1);
        let due = self.started.elapsed() >= Duration::from_secs(1);
        if due && !self.shown.swap(true, std::sync::atomic::Ordering::Relaxed) {
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(p) = &self.progress {
            p.bar.finish_and_clear();
        }
    }
}

impl Cluster {
    /// Loads credentials, builds the client and checks the server answers `GET /version`
    /// (within the timeout, with retries).
    ///
    /// Errors: [`ClusterError::Config`] for missing/invalid kubeconfig or context,
    /// [`ClusterError::Unreachable`] when `/version` fails.
    pub fn connect(opts: &ClusterOptions) -> Result<Cluster, ClusterError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| ClusterError::Runtime(e.to_string()))?;
        let (mut config, name) = runtime.block_on(load_config(opts))?;
        config.default_retry = false;
        config.connect_timeout = Some(opts.timeout);
        // Each attempt is bounded by `opts.timeout` as a whole (the transport's own timer,
        // which says "timed out after N s"); hyper's read timer would only race it.
        config.read_timeout = None;
        let url = config.cluster_url.to_string();
        let default_namespace = config.default_namespace.clone();
        let client = {
            let _guard = runtime.enter();
            kube::Client::try_from(config).map_err(|e| ClusterError::Config(e.to_string()))?
        };
        let policy = RetryPolicy {
            timeout: opts.timeout,
            retries: opts.retries,
            backoff: Duration::from_millis(100),
        };
        let cluster = Cluster {
            runtime,
            transport: Arc::new(Transport::new(client, policy)),
            name,
            url: url.clone(),
            default_namespace,
            concurrency: opts.concurrency.max(1),
            progress: opts.progress.then(Progress::new),
        };
        cluster
            .get_path("/version")
            .map_err(|failure| ClusterError::Unreachable { url, failure })?;
        Ok(cluster)
    }

    /// The cluster's name in reports: the kubeconfig context, else `in-cluster`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why the API server is considered gone (it stopped answering and its `/readyz` probe
    /// too, after a timeout or transport error); every request since failed at once.
    pub fn gone(&self) -> Option<String> {
        self.transport.gone()
    }

    /// The API server URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The namespace of namespaced objects that do not set one (the context's, else
    /// `default`), as `kubectl apply` does.
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    fn get_path(&self, path: &str) -> Result<Value, ApiFailure> {
        let request = http::Request::get(path)
            .body(Vec::new())
            .map_err(|e| ApiFailure {
                code: 0,
                reason: String::new(),
                message: e.to_string(),
            })?;
        let exchange = Exchange::new(request);
        self.runtime
            .block_on(self.transport.call(&exchange))
            .map(|(_, v)| v)
    }

    /// Resolves each `(apiVersion, kind)` to its resource with one discovery request per
    /// group-version (in parallel).
    pub fn resolve(&self, gvks: &[(String, String)]) -> BTreeMap<(String, String), Resolution> {
        let mut versions: Vec<String> = gvks.iter().map(|(av, _)| av.clone()).collect();
        versions.sort();
        versions.dedup();
        let answers = self.run_all(versions.clone(), |t, av| async move {
            call_get(&t, &group_version_path(&av)).await
        });
        let by_version: BTreeMap<String, Result<Value, ApiFailure>> =
            versions.into_iter().zip(answers).collect();
        gvks.iter()
            .map(|(av, kind)| {
                let verdict = match by_version.get(av) {
                    Some(answer) => discovery::resolve(av, kind, answer),
                    None => Resolution::NotServed,
                };
                ((av.clone(), kind.clone()), verdict)
            })
            .collect()
    }

    /// Reads each object as [`Cluster::get_all`] does, but lists a `(resource, namespace)`
    /// once (paginated) instead of one GET per object when at least [`LIST_THRESHOLD`] of its
    /// objects are wanted, as `kubectl get` of many names does. An object absent from its list
    /// is `Ok(None)`; a failed list fails each of its objects. Answers in input order.
    pub fn fetch_all(
        &self,
        items: Vec<(ApiResource, Option<String>, String)>,
    ) -> Vec<Result<Option<Value>, ApiFailure>> {
        type Key = (String, String, Option<String>);
        let mut groups: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
        for (i, (res, ns, _)) in items.iter().enumerate() {
            let key = (res.api_version.clone(), res.plural.clone(), ns.clone());
            groups.entry(key).or_default().push(i);
        }
        let (listed, single): (Vec<_>, Vec<_>) = groups
            .into_values()
            .partition(|idx| idx.len() >= LIST_THRESHOLD);
        let single: Vec<usize> = single.into_iter().flatten().collect();
        let lists = self.list_in(
            listed
                .iter()
                .map(|idx| {
                    (
                        items[idx[0]].0.clone(),
                        items[idx[0]].1.clone(),
                        String::new(),
                    )
                })
                .collect(),
        );
        let gets = self.get_all(single.iter().map(|&i| items[i].clone()).collect());
        let mut out: Vec<Option<Result<Option<Value>, ApiFailure>>> = vec![None; items.len()];
        for (i, got) in single.into_iter().zip(gets) {
            out[i] = Some(got);
        }
        for (idx, list) in listed.into_iter().zip(lists) {
            match list {
                Ok(objects) => {
                    let mut by_name: BTreeMap<String, Value> = objects
                        .into_iter()
                        .filter_map(|o| {
                            let name = o.pointer("/metadata/name")?.as_str()?.to_string();
                            Some((name, o))
                        })
                        .collect();
                    for i in idx {
                        out[i] = Some(Ok(by_name.remove(&items[i].2)));
                    }
                }
                Err(f) => {
                    for i in idx {
                        out[i] = Some(Err(f.clone()));
                    }
                }
            }
        }
        out.into_iter().map(|o| o.unwrap_or(Ok(None))).collect()
    }

    /// Fetches each object: `Ok(Some(live))`, `Ok(None)` when absent (404 NotFound), or the
    /// failure. `items` are (resource, namespace, name).
    pub fn get_all(
        &self,
        items: Vec<(ApiResource, Option<String>, String)>,
    ) -> Vec<Result<Option<Value>, ApiFailure>> {
        self.run_all(items, |t, (res, ns, name)| async move {
            let path = format!("{}/{name}", res.collection_path(ns.as_deref()));
            match call_get(&t, &path).await {
                Ok(v) => Ok(Some(v)),
                Err(f) if f.is_object_not_found() => Ok(None),
                Err(f) => Err(f),
            }
        })
    }

    /// Server-side-apply dry-runs of each desired object (`force=true`, `dryRun=All`, as
    /// [`DryRun::manager`], with the deployer's own metadata of [`DryRun::live`] added, see
    /// [`crate::managers`]): what the object would be after applying it. Each body is built
    /// when its request is sent and each answer is handed to `then` (with the item's index) as
    /// soon as it arrives, so at most `concurrency` bodies and answers exist at once. Returns
    /// `then`'s results in input order.
    pub fn apply_dry_run_each<O>(
        &self,
        items: Vec<DryRun<'_>>,
        then: impl Fn(usize, Result<Value, ApiFailure>) -> O,
    ) -> Vec<O> {
        let then = &then;
        let indexed: Vec<_> = items.into_iter().enumerate().collect();
        self.run_all(indexed, |t, (i, item)| async move {
            let params = PatchParams::apply(&item.manager).force().dry_run();
            let mut body = item.node.to_json();
            if let Some(live) = item.live {
                crate::managers::add_deployer_metadata(&mut body, live);
            }
            let path = item.resource.collection_path(item.namespace.as_deref());
            let answer = match kube::core::Request::new(path).patch(
                &item.name,
                &params,
                &Patch::Apply(&body),
            ) {
                Ok(request) => t.call(&Exchange::new(request)).await.map(|(_, v)| v),
                Err(e) => Err(ApiFailure {
                    code: 0,
                    reason: String::new(),
                    message: e.to_string(),
                }),
            };
            drop(body);
            then(i, answer)
        })
    }

    /// Every listable resource the server serves, at its group's preferred version (one
    /// `GET /apis` and one discovery request per group-version, in parallel), sorted by
    /// apiVersion and kind. A group-version whose discovery fails (an aggregated API that is
    /// down) is left out.
    ///
    /// Errors: the failure of `GET /apis`.
    pub fn listable_resources(&self) -> Result<Vec<ApiResource>, ApiFailure> {
        let versions = discovery::preferred_versions(&self.get_path("/apis")?);
        let answers = self.run_all(versions.clone(), |t, av| async move {
            call_get(&t, &group_version_path(&av)).await
        });
        let mut out: Vec<ApiResource> = versions
            .iter()
            .zip(answers)
            .filter_map(|(av, answer)| answer.ok().map(|list| discovery::listable(av, &list)))
            .flatten()
            .collect();
        out.sort_by(|a, b| (&a.api_version, &a.kind).cmp(&(&b.api_version, &b.kind)));
        Ok(out)
    }

    /// Lists each resource across all namespaces with a label selector; list items get their
    /// `apiVersion` and `kind` back (the server leaves them out).
    pub fn list_all(
        &self,
        items: Vec<(ApiResource, String)>,
    ) -> Vec<Result<Vec<Value>, ApiFailure>> {
        self.list_in(items.into_iter().map(|(r, s)| (r, None, s)).collect())
    }

    /// Lists each `(resource, namespace, label selector)` (`None`: all namespaces), in pages
    /// of [`LIST_PAGE`] items (`limit` and `continue`, as `kubectl get --chunk-size`), at most
    /// [`MAX_LIST_PAGES`] pages per list; list items get their `apiVersion` and `kind` back.
    pub fn list_in(
        &self,
        items: Vec<(ApiResource, Option<String>, String)>,
    ) -> Vec<Result<Vec<Value>, ApiFailure>> {
        self.run_all(items, |t, (res, ns, selector)| async move {
            let mut out = Vec::new();
            let mut token: Option<String> = None;
            for _ in 0..MAX_LIST_PAGES {
                let mut params = ListParams::default().labels(&selector).limit(LIST_PAGE);
                if let Some(tok) = token.take() {
                    params = params.continue_token(&tok);
                }
                let request = kube::core::Request::new(res.collection_path(ns.as_deref()))
                    .list(&params)
                    .map_err(|e| ApiFailure {
                        code: 0,
                        reason: String::new(),
                        message: e.to_string(),
                    })?;
                let (_, list) = t.call(&Exchange::new(request)).await?;
                token = list
                    .pointer("/metadata/continue")
                    .and_then(Value::as_str)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string);
                out.extend(list_items(&res, list));
                if token.is_none() {
                    return Ok(out);
                }
            }
            Err(ApiFailure {
                code: 0,
                reason: String::new(),
                message: format!(
                    "{}: more than {MAX_LIST_PAGES} pages of {LIST_PAGE}",
                    res.collection_path(ns.as_deref())
                ),
            })
        })
    }

    /// Runs `f` over `items` with at most `concurrency` in flight; answers in input order.
    fn run_all<I, O, F, Fut>(&self, items: Vec<I>, f: F) -> Vec<O>
    where
        F: Fn(Arc<Transport>, I) -> Fut,
        Fut: std::future::Future<Output = O>,
    {
        let transport = &self.transport;
        let progress = self.progress.as_ref();
        if let Some(p) = progress {
            p.bar.inc_length(items.len() as u64);
        }
        let futures = items.into_iter().map(|i| {
            let answer = f(Arc::clone(transport), i);
            async move {
                let out = answer.await;
                if let Some(p) = progress {
                    p.tick();
                }
                out
            }
        });
        self.runtime
            .block_on(stream::iter(futures).buffered(self.concurrency).collect())
    }
}

async fn call_get(t: &Transport, path: &str) -> Result<Value, ApiFailure> {
    let request = http::Request::get(path)
        .header("accept", "application/json")
        .body(Vec::new())
        .map_err(|e| ApiFailure {
            code: 0,
            reason: String::new(),
            message: e.to_string(),
        })?;
    t.call(&Exchange::new(request)).await.map(|(_, v)| v)
}

/// The items of a `*List` answer with `apiVersion`/`kind` filled in.
fn list_items(res: &ApiResource, list: Value) -> Vec<Value> {
    let Value::Object(mut map) = list else {
        return Vec::new();
    };
    let Some(Value::Array(items)) = map.remove("items") else {
        return Vec::new();
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Object(fields) => {
                let mut obj = serde_json::Map::new();
                obj.insert("apiVersion".into(), Value::String(res.api_version.clone()));
                obj.insert("kind".into(), Value::String(res.kind.clone()));
                for (k, v) in fields {
                    obj.entry(k).or_insert(v);
                }
                Value::Object(obj)
            }
            other => other,
        })
        .collect()
}

/// The client config and the cluster's report name, from `--kubeconfig`/`--context`, else
/// the default kubeconfig, else the in-cluster service account.
async fn load_config(opts: &ClusterOptions) -> Result<(kube::Config, String), ClusterError> {
    let options = KubeConfigOptions {
        context: opts.context.clone(),
        ..KubeConfigOptions::default()
    };
    if let Some(path) = &opts.kubeconfig {
        let kubeconfig = Kubeconfig::read_from(path)
            .map_err(|e| ClusterError::Config(format!("{}: {e}", path.display())))?;
        let name = context_name(&kubeconfig, opts);
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| ClusterError::Config(e.to_string()))?;
        return Ok((config, name));
    }
    match Kubeconfig::read() {
        Ok(kubeconfig) => {
            let name = context_name(&kubeconfig, opts);
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| ClusterError::Config(e.to_string()))?;
            Ok((config, name))
        }
        Err(file_error) if opts.context.is_none() => kube::Config::incluster()
            .map(|c| (c, "in-cluster".to_string()))
            .map_err(|e| {
                ClusterError::Config(format!(
                    "no kubeconfig ({file_error}) and not in a cluster ({e})"
                ))
            }),
        Err(e) => Err(ClusterError::Config(e.to_string())),
    }
}

fn context_name(kubeconfig: &Kubeconfig, opts: &ClusterOptions) -> String {
    opts.context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .unwrap_or_else(|| "default".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_get_their_kind_back_first() {
        let res = ApiResource {
            group: String::new(),
            version: "v1".into(),
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            plural: "configmaps".into(),
            namespaced: true,
        };
        let path = format!(
            "{}/../../tests/fixtures/cluster/live-after-drift/list.raw.configmaps.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let list: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let items = list_items(&res, list);
        assert!(!items.is_empty());
        for item in &items {
            let keys: Vec<&String> = item.as_object().unwrap().keys().take(2).collect();
            assert_eq!(keys, ["apiVersion", "kind"]);
            assert_eq!(item["kind"], "ConfigMap");
        }
    }
}
