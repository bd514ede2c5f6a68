//! Fuzzes the chart loader on packaged charts (`.tgz`), within its unpacking budget.
//!
//! Input format: the first byte picks the mode. Even: the rest is the `.tgz` file itself
//! (arbitrary bytes, usually not even gzip). Odd: the rest describes a tar archive that this
//! target writes and gzips, so that the loader sees well-formed archives with hostile
//! contents: entries are `KIND NAMELEN NAME SIZE_HI SIZE_LO BODY...` where KIND picks a
//! regular file, a file whose PAX `size` record disagrees with its ustar header, a symbolic
//! link, a directory, a run of zeros (`SIZE` KiB, compressing to nothing) or a nested `.tgz`
//! (its body described the same way, up to four levels).
//!
//! Loading must never panic, and a loaded chart never holds more file bytes (all levels
//! together) than `MAX_UNPACKED_BYTES`.
#![no_main]

use std::io::Write;

use driftlint_helm::load::{load_archive, Chart, MAX_UNPACKED_BYTES};
use libfuzzer_sys::fuzz_target;

fn header(name: &[u8], size: u64, kind: u8, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    let l = link.len().min(100);
    h[157..157 + l].copy_from_slice(&link[..l]);
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    let size = format!("{:011o}", size.min(0o77777777777));
    h[124..135].copy_from_slice(size.as_bytes());
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

fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = gz.write_all(tar);
    gz.finish().unwrap_or_default()
}

/// Writes the tar the input describes (see the module docs), gzipped.
fn archive(mut data: &[u8], level: u32) -> Vec<u8> {
    let mut tar = Vec::new();
    let take = |data: &mut &[u8], n: usize| -> Vec<u8> {
        let n = n.min(data.len());
        let (a, b) = data.split_at(n);
        *data = b;
        a.to_vec()
    };
    while data.len() >= 4 {
        let kind = take(&mut data, 1)[0];
        let name_len = usize::from(take(&mut data, 1)[0] % 64);
        let name = take(&mut data, name_len);
        let size_bytes = take(&mut data, 2);
        let size = u64::from(size_bytes.first().copied().unwrap_or(0)) << 8
            | u64::from(size_bytes.get(1).copied().unwrap_or(0));
        let mut name = if name.is_empty() { b"c/f".to_vec() } else { name };
        match kind % 7 {
            0 => {
                let body = take(&mut data, size as usize);
                tar.extend_from_slice(&header(&name, body.len() as u64, b'0', b""));
                tar.extend_from_slice(&body);
            }
            1 => {
                // The PAX record says `size` KiB, the ustar header a few bytes.
                let real = size * 1024;
                let rec = |len: usize| format!("{len} size={real}\n");
                let mut len = rec(0).len();
                while rec(len).len() != len {
                    len = rec(len).len();
                }
                let pax = rec(len);
                tar.extend_from_slice(&header(b"PaxHeader", pax.len() as u64, b'x', b""));
                tar.extend_from_slice(pax.as_bytes());
                pad(&mut tar);
                tar.extend_from_slice(&header(&name, size % 7, b'0', b""));
                tar.resize(tar.len() + real as usize, 0);
            }
            2 => {
                let link = take(&mut data, (size % 64) as usize);
                tar.extend_from_slice(&header(&name, 0, b'2', &link));
            }
            3 => tar.extend_from_slice(&header(&name, 0, b'5', b"")),
            4 => {
                tar.extend_from_slice(&header(&name, size * 1024, b'0', b""));
                tar.resize(tar.len() + (size * 1024) as usize, 0);
            }
            5 if level < 4 => {
                let body = take(&mut data, size as usize);
                let nested = archive(&body, level + 1);
                if !name.ends_with(b".tgz") {
                    name.extend_from_slice(b"/charts/n.tgz");
                }
                tar.extend_from_slice(&header(&name, nested.len() as u64, b'0', b""));
                tar.extend_from_slice(&nested);
            }
            _ => {
                let body = b"apiVersion: v2\nname: c\nversion: 0.1.0\n";
                tar.extend_from_slice(&header(b"c/Chart.yaml", body.len() as u64, b'0', b""));
                tar.extend_from_slice(body);
            }
        }
        pad(&mut tar);
    }
    tar.extend_from_slice(&[0u8; 1024]);
    gzip(&tar)
}

/// Bytes of every file of `chart` and its subcharts.
fn file_bytes(chart: &Chart) -> u64 {
    let own: u64 = chart
        .files
        .iter()
        .map(|(_, b)| b.len() as u64)
        .chain(chart.templates.iter().map(|(_, t)| t.len() as u64))
        .sum();
    own + chart.subcharts.iter().map(file_bytes).sum::<u64>()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let tgz = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        archive(rest, 0)
    };
    if let Ok(chart) = load_archive("fuzz.tgz", &tgz) {
        assert!(file_bytes(&chart) <= MAX_UNPACKED_BYTES);
    }
});
