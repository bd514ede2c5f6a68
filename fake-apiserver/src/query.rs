//! Query strings and `Accept` headers, decoded as Go's `url.ParseQuery` and the
//! apiserver's content negotiation see them.

/// Decoded `key=value` pairs in order (`+` is a space, `%XX` a byte).
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// The first value of `key`.
pub fn get<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One media range of an `Accept` header with its parameters (`g`, `v`, `as`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRange {
    /// `application/json`.
    pub mime: String,
    /// Parameters in order, lower-cased keys.
    pub params: Vec<(String, String)>,
}

impl MediaRange {
    /// A parameter value.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits an `Accept` header into media ranges.
pub fn parse_accept(accept: &str) -> Vec<MediaRange> {
    accept
        .split(',')
        .map(|r| {
            let mut parts = r.split(';').map(str::trim);
            let mime = parts.next().unwrap_or("").to_ascii_lowercase();
            let params = parts
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            MediaRange { mime, params }
        })
        .collect()
}

/// The `as=` kind the client asks for first among JSON ranges with `g`/`v` (e.g.
/// `APIGroupDiscoveryList` with `g=apidiscovery.k8s.io;v=v2`), if any.
pub fn wants(accept: &str, group: &str, version: &str, kind: &str) -> bool {
    parse_accept(accept).iter().any(|m| {
        (m.mime == "application/json" || m.mime == "*/*")
            && m.param("g") == Some(group)
            && m.param("v") == Some(version)
            && m.param("as") == Some(kind)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_label_selector() {
        let q = parse_query("labelSelector=kustomize.toolkit.fluxcd.io%2Fname%3Dapps&limit=5&x");
        assert_eq!(
            get(&q, "labelSelector"),
            Some("kustomize.toolkit.fluxcd.io/name=apps")
        );
        assert_eq!(get(&q, "limit"), Some("5"));
        assert_eq!(get(&q, "x"), Some(""));
        assert_eq!(parse_query("a=%zz%2")[0].1, "%zz%2");
        assert_eq!(parse_query("a=b+c")[0].1, "b c");
    }

    #[test]
    fn negotiates() {
        let a = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
        assert!(wants(a, "meta.k8s.io", "v1", "PartialObjectMetadataList"));
        assert!(!wants(
            "application/json",
            "meta.k8s.io",
            "v1",
            "PartialObjectMetadataList"
        ));
    }
}
