//! Fuzzes the Kustomize loader and the whole build: the input is a small repository.
//!
//! Input format: parts separated by a NUL byte. Part 0 is `DIR\n<kustomization.yaml>`: the
//! build directory (repo-relative; `app` when the line is not a safe path) and the content
//! of its `kustomization.yaml`. Every later part is `PATH\n<content>`, a file at that
//! repo-relative path (`r<i>.yaml` in the build directory when the line is not a safe path).
//! The build (with the schema catalog) and the rendering must never panic.
#![no_main]

use std::path::PathBuf;

use driftlint_fuzz::{build_and_render, parts, path_and_body, safe_rel_path, scratch_repo, write};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parts = parts(data);
    let root = scratch_repo();
    let (dir_line, kustomization) = path_and_body(parts[0]);
    let dir = safe_rel_path(dir_line).unwrap_or_else(|| PathBuf::from("app"));
    write(&root, &dir.join("kustomization.yaml"), kustomization);
    for (i, part) in parts.iter().enumerate().skip(1) {
        let (line, body) = path_and_body(part);
        let rel = safe_rel_path(line).unwrap_or_else(|| dir.join(format!("r{i}.yaml")));
        write(&root, &rel, body);
    }
    build_and_render(&root, &dir);
});
