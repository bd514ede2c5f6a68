//! Merging an apply configuration into the live object, as structured-merge-diff's
//! `Merge`: maps are merged key by key (atomic maps replaced), associative lists are
//! merged item by item on their keys (new items appended), set lists gain missing
//! values, atomic lists and scalars are replaced. Removal of fields the applier
//! stopped setting happens separately (see `apply::mod`).

use super::fieldset::{find_item, item_key};
use super::schema::{atomic_map, list_type, ListType};
use serde_json::Value;

/// Merges `patch` into `live` at `path` (field names from the root, `[]` for items).
pub fn merge(kind: &str, path: &mut Vec<String>, live: &mut Value, patch: &Value) {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match (live, patch) {
        (Value::Object(lm), Value::Object(pm)) if !atomic_map(kind, &p) => {
            for (k, pv) in pm.iter().filter(|(_, v)| !v.is_null()) {
                path.push(k.clone());
                match lm.get_mut(k) {
                    Some(lv) => merge(kind, path, lv, pv),
                    None => {
                        lm.insert(k.clone(), pv.clone());
                    }
                }
                path.pop();
            }
        }
        (Value::Array(li), Value::Array(pi)) => match list_type(kind, &p) {
            ListType::Map(keys) => {
                for item in pi {
                    let found = item_key(&keys, item).and_then(|k| find_item(li, &k));
                    match found.and_then(|i| li.get_mut(i)) {
                        Some(existing) => {
                            path.push("[]".into());
                            merge(kind, path, existing, item);
                            path.pop();
                        }
                        None => li.push(item.clone()),
                    }
                }
            }
            ListType::Set => {
                for item in pi {
                    if !li.contains(item) {
                        li.push(item.clone());
                    }
                }
            }
            ListType::Atomic if li != pi => *li = pi.clone(),
            ListType::Atomic => {}
        },
        // Equal values (JSON equality ignores key order) keep the live spelling.
        (live, patch) if *live != *patch => *live = patch.clone(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_keyed_lists_and_replaces_atomics() {
        let mut live = json!({"spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}},
            "template": {"spec": {"containers": [
                {"name": "web", "image": "nginx:1.27", "imagePullPolicy": "Always",
                 "ports": [{"containerPort": 80, "protocol": "TCP"}], "command": ["a", "b"]}]}}}});
        let patch = json!({"spec": {"selector": {"matchLabels": {"a": "1"}},
            "template": {"spec": {"containers": [
                {"name": "web", "image": "nginx:latest", "ports": [{"containerPort": 80}, {"containerPort": 81}],
                 "command": ["c"]},
                {"name": "side", "image": "busybox"}]}}}});
        merge("Deployment", &mut Vec::new(), &mut live, &patch);
        let c = &live["spec"]["template"]["spec"]["containers"];
        assert_eq!(c[0]["image"], "nginx:latest");
        assert_eq!(c[0]["imagePullPolicy"], "Always");
        assert_eq!(
            c[0]["ports"],
            json!([{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 81}])
        );
        assert_eq!(c[0]["command"], json!(["c"]));
        assert_eq!(c[1]["name"], "side");
        assert_eq!(live["spec"]["selector"], json!({"matchLabels": {"a": "1"}}));
    }
}
