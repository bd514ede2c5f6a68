//! A map keyed by (apiVersion, kind) that is looked up with borrowed strings.

use std::collections::HashMap;

/// Values keyed by apiVersion, then kind; `get` allocates nothing.
#[derive(Debug, Clone)]
pub(crate) struct GvkMap<T> {
    by_api_version: HashMap<String, HashMap<String, T>>,
}

impl<T> Default for GvkMap<T> {
    fn default() -> Self {
        Self {
            by_api_version: HashMap::new(),
        }
    }
}

impl<T> GvkMap<T> {
    /// The value for `api_version` / `kind`, if any.
    pub(crate) fn get(&self, api_version: &str, kind: &str) -> Option<&T> {
        self.by_api_version.get(api_version)?.get(kind)
    }

    /// Insert or replace; returns the previous value.
    pub(crate) fn insert(&mut self, api_version: &str, kind: &str, value: T) -> Option<T> {
        self.by_api_version
            .entry(api_version.to_owned())
            .or_default()
            .insert(kind.to_owned(), value)
    }

    /// (version, kind) of every entry whose apiVersion is `group/version` (`group` not empty).
    pub(crate) fn kinds_in_group(
        &self,
        group: &str,
        out: &mut std::collections::BTreeSet<(String, String)>,
    ) {
        for (api_version, kinds) in &self.by_api_version {
            let version = api_version
                .strip_prefix(group)
                .and_then(|rest| rest.strip_prefix('/'));
            if let Some(version) = version {
                out.extend(kinds.keys().map(|k| (version.to_owned(), k.clone())));
            }
        }
    }

    /// Number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_api_version.values().map(HashMap::len).sum()
    }

    /// Every (apiVersion, kind), sorted.
    #[cfg(test)]
    pub(crate) fn keys_sorted(&self) -> Vec<(String, String)> {
        let mut keys: Vec<(String, String)> = self
            .by_api_version
            .iter()
            .flat_map(|(av, kinds)| kinds.keys().map(move |k| (av.clone(), k.clone())))
            .collect();
        keys.sort();
        keys
    }

    /// The value for `api_version` / `kind`, inserted by `make` when missing.
    pub(crate) fn get_or_insert_with(
        &mut self,
        api_version: &str,
        kind: &str,
        make: impl FnOnce() -> T,
    ) -> &mut T {
        self.by_api_version
            .entry(api_version.to_owned())
            .or_default()
            .entry(kind.to_owned())
            .or_insert_with(make)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_insert_remove() {
        let mut map = GvkMap::default();
        assert_eq!(map.insert("apps/v1", "Deployment", 1), None);
        assert_eq!(map.insert("apps/v1", "Deployment", 2), Some(1));
        *map.get_or_insert_with("v1", "Pod", || 7) += 1;
        assert_eq!(map.get("v1", "Pod"), Some(&8));
        assert_eq!(map.get("apps/v1", "Deployment"), Some(&2));
        assert_eq!(map.get("apps/v1", "Pod"), None);
        assert_eq!(map.len(), 2);
        assert_eq!(
            map.keys_sorted(),
            vec![
                ("apps/v1".into(), "Deployment".into()),
                ("v1".into(), "Pod".into())
            ]
        );
    }
}
