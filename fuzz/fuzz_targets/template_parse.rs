//! Fuzzes the Go text/template lexer and parser: any input either parses or gives a parse
//! error, never a panic; whatever parses executes (builtins only, nil data) without a panic.
#![no_main]

use gotmpl::{FuncMap, Templates, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut set = Templates::new("gotpl", FuncMap::builtins());
    if set.parse("fuzz", text).is_err() {
        return;
    }
    let _ = set.execute("fuzz", &Value::Nil);
});
