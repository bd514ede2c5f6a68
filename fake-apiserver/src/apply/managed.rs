//! `metadata.managedFields` entries: parsing, ordering and writing, as the apiserver's
//! fieldmanager encodes them (README point 3).

use super::fieldset::FieldSet;
use serde_json::{json, Map, Value};

/// One managedFields entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `manager`.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// `apiVersion`.
    pub api_version: String,
    /// `subresource` (`status`, `scale`), if any.
    pub subresource: Option<String>,
    /// `time` (RFC 3339), absent for `kubectl scale`.
    pub time: Option<String>,
    /// Owned fields.
    pub set: FieldSet,
    /// The entry as read, reused verbatim while unchanged.
    pub raw: Option<Value>,
}

impl Entry {
    /// Parses `metadata.managedFields` of `obj` (missing = none).
    pub fn read_all(obj: &Value) -> Vec<Entry> {
        obj.pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(Entry::read)
            .collect()
    }

    fn read(v: &Value) -> Entry {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Entry {
            manager: s("manager").unwrap_or_default(),
            operation: s("operation").unwrap_or_default(),
            api_version: s("apiVersion").unwrap_or_default(),
            subresource: s("subresource"),
            time: s("time"),
            set: FieldSet::from_json(v.get("fieldsV1").unwrap_or(&Value::Null)),
            raw: Some(v.clone()),
        }
    }

    /// A fresh `Apply` entry.
    pub fn apply(manager: &str, api_version: &str, time: String, set: FieldSet) -> Entry {
        Entry {
            manager: manager.to_string(),
            operation: "Apply".into(),
            api_version: api_version.to_string(),
            subresource: None,
            time: Some(time),
            set,
            raw: None,
        }
    }

    /// Whether this is `manager`'s Apply entry on the main resource.
    pub fn is_apply_of(&self, manager: &str) -> bool {
        self.manager == manager && self.operation == "Apply" && self.subresource.is_none()
    }

    /// How conflicts name the manager: `"kubectl" with subresource "scale" using apps/v1`.
    pub fn describe(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if let Some(sub) = &self.subresource {
            s.push_str(&format!(" with subresource {sub:?}"));
        }
        format!("{s} using {}", self.api_version)
    }

    /// Writes the entry in the apiserver's key order (`manager, operation, apiVersion,
    /// time, fieldsType, fieldsV1, subresource`), or the original when untouched.
    pub fn to_json(&self) -> Value {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        let mut m = Map::new();
        m.insert("manager".into(), json!(self.manager));
        m.insert("operation".into(), json!(self.operation));
        m.insert("apiVersion".into(), json!(self.api_version));
        if let Some(t) = &self.time {
            m.insert("time".into(), json!(t));
        }
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), self.set.to_json());
        if let Some(sub) = &self.subresource {
            m.insert("subresource".into(), json!(sub));
        }
        Value::Object(m)
    }
}

/// Sorts as the apiserver: `Apply` before `Update`, then by time (missing first), then
/// by manager.
pub fn sort(entries: &mut [Entry]) {
    entries.sort_by(|a, b| {
        let op = |e: &Entry| e.operation != "Apply";
        op(a)
            .cmp(&op(b))
            .then_with(|| a.time.cmp(&b.time))
            .then_with(|| a.manager.cmp(&b.manager))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_order_is_kept_by_sort() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/cluster/live-after-drift/shop.Deployment.web.json"
        ))
        .unwrap_or_default();
        let obj: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let mut entries = Entry::read_all(&obj);
        let before: Vec<String> = entries.iter().map(|e| e.manager.clone()).collect();
        entries.reverse();
        sort(&mut entries);
        let after: Vec<String> = entries.iter().map(|e| e.manager.clone()).collect();
        assert_eq!(before, after);
        assert_eq!(before.len(), 4);
        assert_eq!(
            entries[1].describe(),
            "\"kubectl\" with subresource \"scale\" using apps/v1"
        );
    }
}
