//! Fuzzes the span-aware YAML parser and the emitter: any input either parses or gives an
//! error, never a panic; whatever parses converts to JSON and re-emits without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(docs) = driftlint_yaml::parse_documents("fuzz.yaml".into(), text) else {
        return;
    };
    for doc in &docs {
        let _ = doc.to_json();
    }
    let _ = driftlint_yaml::emit_documents(docs.iter());
});
