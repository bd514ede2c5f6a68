//! Real servers for the chart-pull tests: a Helm HTTP repository served from a folder on
//! loopback (a std `TcpListener` thread speaking enough HTTP/1.1 for GETs), and the CNCF
//! distribution registry (Debian package `docker-registry`) started on 127.0.0.1 with a
//! temporary configuration, with charts pushed to it over the distribution API.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// A folder served over plain HTTP on 127.0.0.1; `redirects` maps a path to a `Location`.
pub struct FileServer {
    /// The port.
    pub port: u16,
    /// Paths requested, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl FileServer {
    /// Serves `dir` (GET only; unknown paths 404) with the given redirects.
    pub fn start(dir: &Path, redirects: BTreeMap<String, String>) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (dir, log) = (dir.to_path_buf(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (dir, log, redirects) = (dir.clone(), log.clone(), redirects.clone());
                std::thread::spawn(move || serve_one(stream, &dir, &log, &redirects));
            }
        });
        FileServer { port, requests }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn serve_one(
    mut stream: TcpStream,
    dir: &Path,
    log: &Mutex<Vec<String>>,
    redirects: &BTreeMap<String, String>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
        }
        log.lock().unwrap().push(path.clone());
        let (status, extra, body) = if let Some(to) = redirects.get(&path) {
            ("302 Found", format!("Location: {to}\r\n"), Vec::new())
        } else {
            let name = path.trim_start_matches('/');
            let file = dir.join(name);
            match std::fs::read(&file) {
                Ok(b) if !name.contains("..") && !name.is_empty() => ("200 OK", String::new(), b),
                _ => ("404 Not Found", String::new(), b"not found".to_vec()),
            }
        };
        let head = format!(
            "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: keep-alive\r\n\r\n",
            body.len()
        );
        if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&body).is_err() {
            return;
        }
    }
}

/// The `docker-registry` binary, or None when the tests are told to skip it
/// (`DRIFTLINT_SKIP_REGISTRY_TESTS=1`). A missing binary otherwise fails the test.
pub fn registry_binary() -> Option<PathBuf> {
    if std::env::var_os("DRIFTLINT_SKIP_REGISTRY_TESTS").is_some_and(|v| v == "1") {
        eprintln!("SKIPPED: DRIFTLINT_SKIP_REGISTRY_TESTS=1, the OCI registry tests did not run");
        return None;
    }
    let bin = std::env::var_os("DRIFTLINT_REGISTRY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/docker-registry"));
    assert!(
        bin.is_file(),
        "{} is missing: install the Debian package docker-registry (apt-get install \
         docker-registry), set DRIFTLINT_REGISTRY_BIN, or DRIFTLINT_SKIP_REGISTRY_TESTS=1 to skip",
        bin.display()
    );
    Some(bin)
}

/// A distribution registry on 127.0.0.1, killed on drop.
pub struct Registry {
    child: Child,
    /// The port.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    /// Starts `bin` with storage in a temporary folder; `htpasswd` (a bcrypt htpasswd line)
    /// turns on Basic authentication. Waits until `/v2/` answers.
    pub fn start(bin: &Path, htpasswd: Option<&str>) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = format!(
            "version: 0.1\nlog: {{level: error}}\nstorage:\n  filesystem: {{rootdirectory: {}}}\n  delete: {{enabled: true}}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if let Some(line) = htpasswd {
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, format!("{line}\n")).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd: {{realm: test, path: {}}}\n",
                file.display()
            ));
        }
        let config_file = dir.path().join("config.yml");
        std::fs::write(&config_file, config).unwrap();
        let child = Command::new(bin)
            .arg("serve")
            .arg(&config_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let reg = Registry {
            child,
            port,
            _dir: dir,
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "registry did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        reg
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Pushes a chart archive as Helm does (`helm push`: an OCI image manifest with a
    /// `application/vnd.cncf.helm.config.v1+json` config and one
    /// `application/vnd.cncf.helm.chart.content.v1.tar+gzip` layer, tag = version with `+`
    /// as `_`) over the distribution API (monolithic blob uploads). Returns the manifest
    /// digest. `auth` is an `Authorization` header value.
    pub fn push(
        &self,
        repo: &str,
        name: &str,
        version: &str,
        tgz: &[u8],
        auth: Option<&str>,
    ) -> String {
        let config = format!(r#"{{"apiVersion":"v2","name":"{name}","version":"{version}"}}"#);
        let config_digest = self.upload(repo, config.as_bytes(), auth);
        let layer_digest = self.upload(repo, tgz, auth);
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"{layer_digest}","size":{}}}]}}"#,
            config.len(),
            tgz.len()
        );
        let tag = version.replace('+', "_");
        let url = format!("http://{}/v2/{repo}/manifests/{tag}", self.host());
        let (status, _) = request(
            "PUT",
            &url,
            Some((
                "application/vnd.oci.image.manifest.v1+json",
                manifest.as_bytes(),
            )),
            auth,
        );
        assert_eq!(status, 201, "manifest push of {repo}:{tag}");
        sha256(manifest.as_bytes())
    }

    fn upload(&self, repo: &str, bytes: &[u8], auth: Option<&str>) -> String {
        let digest = sha256(bytes);
        let url = format!("http://{}/v2/{repo}/blobs/uploads/", self.host());
        let (status, headers) = request("POST", &url, None, auth);
        assert_eq!(status, 202, "blob upload start");
        let location = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("location"))
            .map(|(_, v)| v.clone())
            .unwrap();
        let location = if location.starts_with('/') {
            format!("http://{}{location}", self.host())
        } else {
            location
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{sep}digest={digest}");
        let (status, _) = request("PUT", &put, Some(("application/octet-stream", bytes)), auth);
        assert_eq!(status, 201, "blob upload of {digest}");
        digest
    }
}

/// `sha256:<hex>`.
pub fn sha256(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`): status and headers.
fn request(
    method: &str,
    url: &str,
    body: Option<(&str, &[u8])>,
    auth: Option<&str>,
) -> (u16, Vec<(String, String)>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = TcpStream::connect(authority).unwrap();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    if let Some(a) = auth {
        head.push_str(&format!("Authorization: {a}\r\n"));
    }
    let bytes = body.map_or(&[][..], |(_, b)| b);
    if let Some((ct, _)) = body {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", bytes.len()));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(bytes).unwrap();
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
            break;
        }
        if let Some((n, v)) = h.trim_end().split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
    (status, headers)
}

/// The reference Helm (`DRIFTLINT_REFERENCE_HELM`, else /tmp/reftools/bin/helm) when present.
pub fn reference_helm() -> Option<PathBuf> {
    let helm = std::env::var_os("DRIFTLINT_REFERENCE_HELM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/reftools/bin/helm"));
    helm.is_file().then_some(helm)
}
