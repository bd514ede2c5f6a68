//! The OCI bearer-token flow (what ghcr.io, Docker Hub and Harbor ask for) against a loopback
//! server speaking the distribution API's auth handshake: an anonymous request gets
//! `401 WWW-Authenticate: Bearer realm=...,service=...,scope=...`, the token comes from the
//! realm (with the host's Basic credentials when configured) and the request is repeated with
//! it. The real `docker-registry` tests (tests/charts_pull.rs at the workspace root) cover
//! anonymous and Basic registries.

#![cfg(feature = "pull")]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use driftlint_charts::pull::{pull, Credentials, Outcome, PullOptions, PullPolicy};
use driftlint_charts::{ChartCache, ChartLocator, ChartRequest, Digest, Wanted};
use driftlint_yaml::Origin;

const TGZ: &[u8] = b"pretend chart archive";

/// (path, Authorization) of each request the server saw.
type RequestLog = Arc<Mutex<Vec<(String, String)>>>;

/// Serves one chart `charts/app:1.0.0`; requests need `Bearer good-token`, which the realm
/// hands out only for Basic `ci:pw`. Returns the port and the log of (path, auth) pairs.
fn server() -> (u16, RequestLog) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    let layer = Digest::of(TGZ).to_string();
    let manifest = format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"{layer}","size":1}},"layers":[{{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"{layer}","size":{}}}]}}"#,
        TGZ.len()
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut auth = String::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("authorization:") {
                    auth = h[h.len() - v.len()..].trim().to_string();
                }
            }
            seen.lock().unwrap().push((path.clone(), auth.clone()));
            let basic = format!("Basic {}", data_encoding::BASE64.encode(b"ci:pw"));
            let (status, extra, body): (&str, String, Vec<u8>) = if path.starts_with("/token?") {
                let ok = auth == basic && path.contains("scope=repository%3Acharts%2Fapp%3Apull");
                let token = if ok { "good-token" } else { "anonymous" };
                (
                    "200 OK",
                    String::new(),
                    format!(r#"{{"token":"{token}"}}"#).into_bytes(),
                )
            } else if auth != "Bearer good-token" {
                let challenge = format!(
                    "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"test\",scope=\"repository:charts/app:pull\"\r\n"
                );
                ("401 Unauthorized", challenge, Vec::new())
            } else if path == "/v2/charts/app/manifests/1.0.0" {
                ("200 OK", String::new(), manifest.clone().into_bytes())
            } else if path == format!("/v2/charts/app/blobs/{layer}") {
                ("200 OK", String::new(), TGZ.to_vec())
            } else {
                ("404 Not Found", String::new(), Vec::new())
            };
            let mut s = stream;
            let head = format!(
                "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    (port, log)
}

fn request(port: u16) -> ChartRequest {
    ChartRequest {
        locator: ChartLocator::oci_chart_url(&format!("oci://127.0.0.1:{port}/charts/app"))
            .unwrap(),
        wanted: Wanted::Tag("1.0.0".into()),
        insecure: true,
        declared: Origin::new("apps/app.yaml".into(), 3, 5),
    }
}

fn options(port: u16, creds: Credentials) -> PullOptions {
    let host = format!("127.0.0.1:{port}");
    PullOptions {
        policy: PullPolicy {
            allowed_hosts: [host.clone()].into(),
            insecure_hosts: [host].into(),
            allow_insecure: true,
            allow_private: true,
        },
        credentials: creds,
        ..PullOptions::default()
    }
}

#[test]
fn bearer_tokens_are_fetched_from_the_realm_with_basic_credentials() {
    let (port, log) = server();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = ChartCache::new(cache_dir.path());
    let config =
        format!(r#"{{"auths":{{"127.0.0.1:{port}":{{"username":"ci","password":"pw"}}}}}}"#);
    let creds = Credentials::from_docker_config(config.as_bytes()).unwrap();
    let got = pull(&[request(port)], &cache, &options(port, creds));
    match &got[0].outcome {
        Outcome::Pulled { version, digest } => {
            assert_eq!(version, "1.0.0");
            assert_eq!(*digest, Digest::of(TGZ));
        }
        other => panic!("{other:?}"),
    }
    let loc = &got[0].request.locator;
    assert_eq!(cache.archive(loc, "1.0.0").unwrap().unwrap(), TGZ);
    let log = log.lock().unwrap();
    let paths: Vec<&str> = log.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v2/charts/app/manifests/1.0.0",
            "/token?scope=repository%3Acharts%2Fapp%3Apull&service=test",
            "/v2/charts/app/manifests/1.0.0",
            &format!("/v2/charts/app/blobs/{}", Digest::of(TGZ)),
        ]
    );
    // the token, once known, is reused for the blob
    assert_eq!(log[3].1, "Bearer good-token");
}

#[test]
fn without_credentials_the_anonymous_token_is_refused_and_nothing_leaks() {
    let (port, _log) = server();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = ChartCache::new(cache_dir.path());
    let got = pull(
        &[request(port)],
        &cache,
        &options(port, Credentials::default()),
    );
    let Outcome::Failed(e) = &got[0].outcome else {
        panic!("{:?}", got[0].outcome);
    };
    let text = e.to_string();
    assert!(text.ends_with("manifests/1.0.0: HTTP 401"), "{text}");
    assert!(!text.contains("anonymous"), "{text}");
}

#[test]
fn a_realm_on_an_unnamed_host_is_refused() {
    let (port, _log) = server();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = ChartCache::new(cache_dir.path());
    let mut opts = options(port, Credentials::default());
    // the registry is reached as "localhost", so the realm's 127.0.0.1 host is another host
    let host = format!("localhost:{port}");
    opts.policy.allowed_hosts = [host.clone()].into();
    opts.policy.insecure_hosts = [host].into();
    let mut req = request(port);
    req.locator =
        ChartLocator::oci_chart_url(&format!("oci://localhost:{port}/charts/app")).unwrap();
    let got = pull(&[req], &cache, &opts);
    let Outcome::Failed(e) = &got[0].outcome else {
        panic!("{:?}", got[0].outcome);
    };
    assert!(
        e.to_string()
            .contains(&format!("host 127.0.0.1:{port} is not named")),
        "{e}"
    );
}
