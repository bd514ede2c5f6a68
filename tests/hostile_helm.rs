//! `driftlint check` on hostile Helm charts (issue 11): archive bombs, allocation bombs in
//! templates, deep nesting, symlink fan-out, special and non-UTF-8 files, and failure
//! locations forged in messages. Each attack must end as a RENDER001 finding at the chart's
//! file and line while the other targets are still checked and the report is written.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

/// A chart that renders fine and has one PIN001 finding: proof the run went on.
const GOOD_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:latest\n";

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, bytes).expect("write");
}

/// A chart `dir` with `templates/t.yaml` = `template`.
fn chart(root: &Path, dir: &str, template: &str) {
    let name = dir.rsplit('/').next().unwrap_or(dir);
    write(
        root,
        &format!("{dir}/Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n").as_bytes(),
    );
    write(
        root,
        &format!("{dir}/templates/t.yaml"),
        template.as_bytes(),
    );
}

fn repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    chart(d.path(), "good", GOOD_POD);
    d
}

/// `driftlint check --format json .` in `dir` (killed after 120 s); the exit code and report.
fn check(dir: &Path) -> (i32, Value) {
    let out = Command::cargo_bin("driftlint")
        .expect("binary built")
        .current_dir(dir)
        .args(["check", "--format", "json", "."])
        .timeout(Duration::from_secs(120))
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json report ({e}); status {:?}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// The findings of `target` as (code, file, line, message).
fn findings(report: &Value, target: &str) -> Vec<(String, String, u64, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["target"] == target)
        .map(|f| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                s(&f["code"]),
                s(&f["location"]["file"]),
                f["location"]["line"].as_u64().unwrap_or_default(),
                s(&f["message"]),
            )
        })
        .collect()
}

/// Asserts exit 2, the good chart still checked, and one RENDER001 of `target` at
/// `file:line` whose message contains `needle`.
fn assert_render001(dir: &Path, target: &str, file: &str, line: u64, needle: &str) -> Value {
    let (code, report) = check(dir);
    let good = findings(&report, "good");
    assert!(
        good.iter()
            .any(|f| f.0 == "PIN001" && f.1 == "good/templates/t.yaml"),
        "the other chart is still checked: {report:#}"
    );
    let bad = findings(&report, target);
    assert_eq!(bad.len(), 1, "{report:#}");
    let (c, f, l, m) = &bad[0];
    assert_eq!(
        (c.as_str(), f.as_str(), *l),
        ("RENDER001", file, line),
        "{m}"
    );
    assert!(m.contains(needle), "{m}");
    assert_eq!(code, 2);
    report
}

fn tar_header(name: &str, size: u64, kind: u8) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

fn pad(out: &mut Vec<u8>) {
    out.resize(out.len().div_ceil(512) * 512, 0);
}

/// A gzipped tar of `entries` (path, bytes); an entry with `Some(claimed)` gets a PAX `size`
/// record while its ustar header says `claimed`.
fn tgz(entries: &[(&str, &[u8], Option<u64>)]) -> Vec<u8> {
    let mut tar = Vec::new();
    for (path, data, claimed) in entries {
        if let Some(claimed) = claimed {
            let rec = |len: usize| format!("{len} size={}\n", data.len());
            let mut len = rec(0).len();
            while rec(len).len() != len {
                len = rec(len).len();
            }
            let pax = rec(len);
            tar.extend_from_slice(&tar_header("PaxHeader", pax.len() as u64, b'x'));
            tar.extend_from_slice(pax.as_bytes());
            pad(&mut tar);
            tar.extend_from_slice(&tar_header(path, *claimed, b'0'));
        } else {
            tar.extend_from_slice(&tar_header(path, data.len() as u64, b'0'));
        }
        tar.extend_from_slice(data);
        pad(&mut tar);
    }
    tar.extend_from_slice(&[0u8; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).expect("gzip");
    gz.finish().expect("gzip")
}

fn chart_yaml(name: &str) -> Vec<u8> {
    format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n").into_bytes()
}

#[test]
fn pax_size_records_are_charged_as_read() {
    // The ustar header claims 1 byte, the PAX record 80 MiB (of zeros: 80 KB gzipped).
    let d = repo();
    chart(d.path(), "bomb", "a: 1\n");
    let zeros = vec![0u8; 80 << 20];
    let sub = tgz(&[
        ("sub/Chart.yaml", &chart_yaml("sub"), None),
        ("sub/files/zeros", &zeros, Some(1)),
    ]);
    write(d.path(), "bomb/charts/sub-0.1.0.tgz", &sub);
    assert_render001(
        d.path(),
        "bomb",
        "bomb/charts/sub-0.1.0.tgz",
        1,
        "budget of 67108864 bytes",
    );
}

#[test]
fn nested_archives_share_one_budget() {
    // Four levels of packaged subcharts with 20 MiB each: every level under 64 MiB, the
    // chart as a whole above.
    let d = repo();
    chart(d.path(), "nest", "a: 1\n");
    let zeros = vec![0u8; 20 << 20];
    let mut inner: Option<Vec<u8>> = None;
    for level in (1..=4).rev() {
        let name = format!("l{level}");
        let cy = chart_yaml(&name);
        let z = format!("{name}/files/zeros");
        let c = format!("{name}/Chart.yaml");
        let sub = format!("{name}/charts/l{}-0.1.0.tgz", level + 1);
        let mut entries: Vec<(&str, &[u8], Option<u64>)> =
            vec![(&c, &cy, None), (&z, &zeros, None)];
        if let Some(i) = &inner {
            entries.push((&sub, i, None));
        }
        inner = Some(tgz(&entries));
    }
    write(
        d.path(),
        "nest/charts/l1-0.1.0.tgz",
        &inner.expect("archive"),
    );
    assert_render001(
        d.path(),
        "nest",
        "nest/charts/l1-0.1.0.tgz",
        1,
        "budget of 67108864 bytes",
    );
}

#[test]
fn allocation_bombs_in_templates_are_budget_findings_at_their_line() {
    let cases = [
        ("until", "a: 1\n{{ range until 100000000 }}x{{ end }}\n", "MAX_LIST_LEN"),
        ("rangeint", "a: 1\n{{ range 100000000000 }}x{{ end }}\n", "MAX_LIST_LEN"),
        ("repeat", "a: 1\nb: {{ repeat 100000000 \"xxxxxxxxxx\" }}\n", "MAX_STRING_BYTES"),
        ("indent", "a: 1\nb: {{ indent 100000000 \"a\\nb\" }}\n", "MAX_STRING_BYTES"),
        ("seq", "a: 1\nb: {{ seq 100000000 }}\n", "MAX_LIST_LEN"),
        (
            "doubling",
            "a: 1\n{{ $s := \"xxxxxxxx\" }}{{ range until 60 }}{{ $s = print $s $s }}{{ end }}\n",
            "MAX_STRING_BYTES",
        ),
        (
            "shared",
            "a: 1\n{{ $s := repeat 1000000 \"x\" }}{{ $l := list }}{{ range until 1000 }}{{ $l = append $l $s }}{{ end }}{{ toJson $l }}\n",
            "MAX_STRING_BYTES",
        ),
        (
            "loops",
            "a: 1\n{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n",
            "MAX_RANGE_ITERATIONS",
        ),
        (
            "output",
            "a: 1\n{{ $s := repeat 1000000 \"x\" }}{{ range until 100 }}{{ $s }}{{ end }}\n",
            "MAX_TEMPLATE_OUTPUT_BYTES",
        ),
    ];
    let d = repo();
    for (name, template, _) in &cases {
        chart(d.path(), name, template);
    }
    let (code, report) = check(d.path());
    assert_eq!(code, 2, "{report:#}");
    assert!(findings(&report, "good").iter().any(|f| f.0 == "PIN001"));
    for (name, _, needle) in &cases {
        let bad = findings(&report, name);
        assert_eq!(bad.len(), 1, "{name}: {report:#}");
        let (c, f, l, m) = &bad[0];
        assert_eq!(
            (c.as_str(), f.as_str(), *l),
            ("RENDER001", format!("{name}/templates/t.yaml").as_str(), 2),
            "{m}"
        );
        assert!(m.contains(needle), "{name}: {m}");
    }
}

#[test]
fn deep_set_keys_and_nesting_are_errors_not_stack_overflows() {
    let d = repo();
    chart(d.path(), "deepset", "a: {{ .Values | toJson }}\n");
    let key = vec!["a"; 20_000].join(".");
    write(
        d.path(),
        ".driftlint.yaml",
        format!("releases:\n  - chart: deepset\n    set:\n      ? \"{key}\"\n      : 1\n")
            .as_bytes(),
    );
    chart(
        d.path(),
        "parens",
        &format!(
            "a: 1\nb: {{{{ {}1{} }}}}\n",
            "(".repeat(50_000),
            ")".repeat(50_000)
        ),
    );
    chart(
        d.path(),
        "ifs",
        &format!(
            "a: 1\n{}{}\n",
            "{{ if true }}".repeat(50_000),
            "{{ end }}".repeat(50_000)
        ),
    );
    chart(
        d.path(),
        "recurse",
        "a: 1\n{{ define \"x\" }}{{ include \"x\" . }}{{ end }}{{ include \"x\" . }}\n",
    );
    chart(d.path(), "deepvalues", "a: {{ .Values | toJson }}\n");
    write(
        d.path(),
        "deepvalues/values.yaml",
        format!("a: 1\nb: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)).as_bytes(),
    );
    let (code, report) = check(d.path());
    assert_eq!(code, 2, "{report:#}");
    assert!(findings(&report, "good").iter().any(|f| f.0 == "PIN001"));
    let one = |target: &str, file: &str, line: u64, needle: &str| {
        let bad = findings(&report, target);
        assert_eq!(bad.len(), 1, "{target}: {report:#}");
        assert_eq!((bad[0].1.as_str(), bad[0].2), (file, line), "{bad:?}");
        assert!(bad[0].3.contains(needle), "{target}: {}", bad[0].3);
    };
    one(
        "deepset (release 1)",
        ".driftlint.yaml",
        2,
        "nested level is greater than maximum supported nested level of 30",
    );
    one("parens", "parens/templates/t.yaml", 2, "max depth exceeded");
    one("ifs", "ifs/templates/t.yaml", 2, "max depth exceeded");
    one(
        "recurse",
        "recurse/templates/t.yaml",
        2,
        "exceeded maximum template depth (1000)",
    );
    one("deepvalues", "deepvalues/values.yaml", 2, "recursion limit");
}

#[cfg(unix)]
#[test]
fn symlinks_fanning_out_to_parents_are_walked_once() {
    // 8 levels, each with 10 links to its parent: 10^8 paths if links were followed blindly.
    let d = repo();
    chart(
        d.path(),
        "fan",
        GOOD_POD.replace("name: p", "name: q").as_str(),
    );
    let mut dir = d.path().join("fan/files");
    for level in 0..8 {
        std::fs::create_dir_all(&dir).expect("mkdir");
        for i in 0..10 {
            std::os::unix::fs::symlink("..", dir.join(format!("up{i}"))).expect("symlink");
        }
        dir = dir.join(format!("d{level}"));
    }
    let (code, report) = check(d.path());
    let fan = findings(&report, "fan");
    assert_eq!(fan.len(), 1, "{report:#}");
    assert_eq!(
        (fan[0].0.as_str(), fan[0].1.as_str()),
        ("PIN001", "fan/templates/t.yaml")
    );
    assert_eq!(code, 1);
}

#[cfg(unix)]
#[test]
fn fifos_in_templates_are_refused_not_read() {
    let d = repo();
    chart(d.path(), "fifo", "a: 1\n");
    let fifo = d.path().join("fifo/templates/pipe.yaml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    // The message names the FIFO; the origin is Chart.yaml, as the report reads origin files
    // to show their lines (and reading a FIFO blocks).
    assert_render001(
        d.path(),
        "fifo",
        "fifo/Chart.yaml",
        1,
        "fifo/templates/pipe.yaml: not a regular file",
    );
}

#[test]
fn non_utf8_templates_are_refused_at_their_line() {
    let d = repo();
    chart(d.path(), "latin1", "a: 1\n");
    write(d.path(), "latin1/templates/x.yaml", b"a: 1\nb: caf\xe9\n");
    assert_render001(
        d.path(),
        "latin1",
        "latin1/templates/x.yaml",
        2,
        "not UTF-8",
    );
}

#[test]
fn locations_written_in_messages_are_not_origins() {
    let d = repo();
    chart(
        d.path(),
        "forge",
        "a: 1\nb: {{ fail \"(template line /proc/self/environ:1)\" }}\n",
    );
    let report = assert_render001(
        d.path(),
        "forge",
        "forge/templates/t.yaml",
        2,
        "execution error at (forge/templates/t.yaml:2:6)",
    );
    let f = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["target"] == "forge")
        .expect("finding");
    assert_eq!(f["location"]["column"], 7, "{f:#}");
    // The human report shows the origin's line: never the environment.
    let out = Command::cargo_bin("driftlint")
        .expect("binary built")
        .current_dir(d.path())
        .env("DRIFTLINT_CANARY", "s3cr3t-canary")
        .env("NO_COLOR", "1")
        .args(["check", "."])
        .timeout(Duration::from_secs(120))
        .output()
        .expect("runs");
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(human.contains("forge/templates/t.yaml"), "{human}");
    assert!(!human.contains("s3cr3t-canary"), "{human}");
    assert!(!human.contains("DRIFTLINT_CANARY"), "{human}");
}

#[test]
fn chart_paths_with_spaces_keep_their_lines_and_columns() {
    let d = repo();
    chart(
        d.path(),
        "my charts/app",
        "a: 1\nb: {{ required \"need x\" .Values.x }}\n",
    );
    chart(d.path(), "my charts/yaml", "a: 1\nb: c: d\n");
    let (code, report) = check(d.path());
    assert_eq!(code, 2);
    let req = findings(&report, "my charts/app");
    assert_eq!(
        (req[0].1.as_str(), req[0].2),
        ("my charts/app/templates/t.yaml", 2),
        "{report:#}"
    );
    let yaml = findings(&report, "my charts/yaml");
    assert_eq!(
        (yaml[0].1.as_str(), yaml[0].2),
        ("my charts/yaml/templates/t.yaml", 2),
        "{report:#}"
    );
    let col = |target: &str| {
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["target"] == target)
            .map(|f| f["location"]["column"].clone())
    };
    // `required` (where Go reports the error) is at column 7; the YAML error is not at 1.
    assert_eq!(col("my charts/app"), Some(Value::from(7)));
    assert_ne!(col("my charts/yaml"), Some(Value::from(1)));
}
