//! `driftlint helm template` end to end on a small chart written to a temp dir: subcharts,
//! values layering, hooks, install order and Helm's output/error shapes.

use assert_cmd::Command;
use std::fs;

fn write(root: &std::path::Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn chart() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\ndependencies:\n- name: sub\n  version: 0.1.0\n  condition: sub.enabled\n- name: sub\n  alias: other\n  version: 0.1.0\n");
    write(
        r,
        "c/values.yaml",
        "num: 3\nglobal:\n  g: top\nsub:\n  enabled: true\n  who: parent\nother:\n  who: aliased\n",
    );
    write(r, "c/templates/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\n  namespace: {{ .Release.Namespace }}\n  x: \"{{ .Values.num }} {{ .Values.missing }} {{ .Capabilities.KubeVersion.Minor }}\"\n");
    write(
        r,
        "c/templates/_helpers.tpl",
        "{{ define \"x\" }}parent{{ end }}",
    );
    write(r, "c/templates/NOTES.txt", "notes {{ .Release.Name }}");
    write(
        r,
        "c/templates/hook.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\n",
    );
    write(
        r,
        "c/charts/sub/Chart.yaml",
        "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
    );
    write(
        r,
        "c/charts/sub/values.yaml",
        "who: default\nglobal:\n  g: sub\n",
    );
    write(r, "c/charts/sub/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Chart.Name }}\ndata:\n  who: {{ .Values.who }}\n  g: {{ .Values.global.g }}\n");
    write(r, "over.yaml", "num: 4\n");
    d
}

#[test]
fn renders_like_helm() {
    let d = chart();
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .current_dir(d.path())
        .args([
            "helm",
            "template",
            "rel",
            "c",
            "-n",
            "ns",
            "-f",
            "over.yaml",
            "--set",
            "sub.who=cli",
            "--kube-version",
            "1.30.2",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = "---\n# Source: c/charts/other/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  who: aliased\n  g: top\n---\n# Source: c/charts/sub/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n  who: cli\n  g: top\n---\n# Source: c/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: rel-c\n  namespace: ns\n  x: \"4  30\"\n---\n# Source: c/templates/hook.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\n";
    assert_eq!(text, expected);
    let skipped = Command::cargo_bin("driftlint")
        .unwrap()
        .current_dir(d.path())
        .args([
            "helm",
            "template",
            "rel",
            "c",
            "--skip-tests",
            "--set",
            "sub.enabled=false",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(skipped.stdout).unwrap();
    assert!(
        !text.contains("kind: Pod") && !text.contains("c/charts/sub/"),
        "{text}"
    );
    assert!(text.contains("c/charts/other/"), "{text}");
}

#[test]
fn errors_like_helm() {
    let d = chart();
    write(
        d.path(),
        "c/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 1.0.0\nkubeVersion: \">=1.31.0-0\"\n",
    );
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .current_dir(d.path())
        .args(["helm", "template", "rel", "c", "--kube-version", "1.30.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: chart requires kubeVersion: >=1.31.0-0 which is incompatible with Kubernetes v1.30.0\n\nUse --debug flag to render out invalid YAML\n"
    );
}

/// Packs `dir` as Helm does (`NAME/...` entries, gzip).
fn package(dir: &std::path::Path, name: &str) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut b = tar::Builder::new(gz);
    b.append_dir_all(name, dir).unwrap();
    b.into_inner().unwrap().finish().unwrap()
}

#[test]
fn packaged_subchart_renders_as_its_folder() {
    let d = chart();
    let run = || {
        let out = Command::cargo_bin("driftlint")
            .unwrap()
            .current_dir(d.path())
            .args(["helm", "template", "rel", "c"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let from_dir = run();
    let sub = d.path().join("c/charts/sub");
    let tgz = package(&sub, "sub");
    fs::remove_dir_all(&sub).unwrap();
    fs::write(d.path().join("c/charts/sub-0.1.0.tgz"), tgz).unwrap();
    assert_eq!(run(), from_dir);
}

#[test]
fn files_object_like_helm() {
    // Output observed with helm v4.1.4 on the same chart.
    let d = chart();
    write(d.path(), "c/files/a.conf", "a=1\nb=2\n");
    write(d.path(), "c/files/b.txt", "x\n");
    write(
        d.path(),
        "c/templates/files.txt",
        "# {{ .Files.Get \"files/b.txt\" | trim }} {{ len (.Files.Lines \"files/a.conf\") }}\n{{- range $p, $_ := .Files.Glob \"files/*\" }}\n# {{ $p }}\n{{- end }}\n# {{ (.Files.Glob \"files/*\").AsConfig | replace \"\\n\" \"|\" }}\n# {{ (.Files.Glob \"files/*\").AsSecrets | replace \"\\n\" \"|\" }}\n",
    );
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .current_dir(d.path())
        .args([
            "helm",
            "template",
            "rel",
            "c",
            "--show-only",
            "templates/files.txt",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "---\n# Source: c/templates/files.txt\n# x 2\n# files/a.conf\n# files/b.txt\n# a.conf: ||  a=1|  b=2|b.txt: ||  x\n# a.conf: YT0xCmI9Mgo=|b.txt: eAo=\n"
    );
}
