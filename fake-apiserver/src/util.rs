//! Small helpers: RFC 3339 timestamps, deterministic uids and ClusterIPs.

use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Formats Unix seconds as RFC 3339 with seconds and `Z`, as the apiserver writes
/// `metav1.Time` (`2026-11-22T02:43:16Z`).
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A deterministic RFC 4122 version-4-shaped uid derived from `seed`
/// (the apiserver uses random v4 uids; we hash so runs are reproducible).
pub fn uid_from(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let hex: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// A deterministic ClusterIP in the recorded `--service-cluster-ip-range 10.96.0.0/12`,
/// never `10.96.0.0`, `10.96.0.1` (the `kubernetes` Service) or `.255`.
pub fn cluster_ip_from(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let third = h[0] % 16 + 96; // 10.96.0.0/12 spans 10.96–10.111
    let fourth = h[1] % 250 + 2;
    format!("10.{third}.{}.{fourth}", h[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        // 2026-11-22T02:43:16Z, the fixtures' apply time
        assert_eq!(rfc3339(1_795_315_396), "2026-11-22T02:43:16Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn uid_is_v4_shaped_and_stable() {
        let u = uid_from("shop/web");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_eq!(u, uid_from("shop/web"));
        assert_ne!(u, uid_from("shop/web2"));
    }

    #[test]
    fn cluster_ip_in_range() {
        let ip = cluster_ip_from("shop/web");
        let parts: Vec<u32> = ip.split('.').map(|p| p.parse().unwrap_or(999)).collect();
        assert_eq!(parts[0], 10);
        assert!((96..112).contains(&parts[1]));
        assert!(parts[3] >= 2 && parts[3] < 252);
    }
}
