//! Engine tests written from Go's `text/template` documentation and `exec_test.go` cases.

use super::*;

fn data() -> Value {
    Value::map([
        ("M", Value::map([("k", Value::str("v")), ("n", Value::Nil)])),
        ("L", Value::list(vec![1.into(), 2.into(), 3.into()])),
        ("S", Value::str("héllo")),
        ("Z", Value::Int(0)),
        ("F", Value::Float(1.5)),
        ("T", Value::Bool(true)),
        ("Empty", Value::list(vec![])),
    ])
}

fn run_mode(text: &str, mk: MissingKey) -> Result<String, String> {
    let mut set = Templates::new("gotpl", FuncMap::builtins());
    set.set_missing_key(mk);
    set.parse("t", text).map_err(|e| e.to_string())?;
    set.execute("t", &data()).map_err(|e| e.to_string())
}

fn run(text: &str) -> Result<String, String> {
    run_mode(text, MissingKey::Default)
}

fn ok(text: &str) -> String {
    match run(text) {
        Ok(s) => s,
        Err(e) => panic!("{text}: {e}"),
    }
}

#[test]
fn text_and_simple_actions() {
    assert_eq!(ok("hello"), "hello");
    assert_eq!(ok("{{.S}}"), "héllo");
    assert_eq!(ok("{{.M.k}}"), "v");
    assert_eq!(ok("{{.L}}"), "[1 2 3]");
    assert_eq!(ok("{{.M}}"), "map[k:v n:<nil>]");
    assert_eq!(ok("{{.F}}"), "1.5");
    assert_eq!(
        ok("{{1.0}} {{1e3}} {{0x10}} {{'a'}} {{1_000}}"),
        "1 1000 16 97 1000"
    );
    assert_eq!(ok(r#"{{"a\tb"}}|{{`raw\n`}}"#), "a\tb|raw\\n");
    assert_eq!(ok("{{/* a comment */}}x"), "x");
    assert_eq!(ok("{{true}} {{false}}"), "true false");
}

#[test]
fn whitespace_trimming() {
    assert_eq!(ok("{{23 -}} < {{- 45}}"), "23<45");
    assert_eq!(ok("a \n {{- .S -}} \n b"), "ahéllob");
}

#[test]
fn missing_keys() {
    assert_eq!(ok("{{.missing}}"), "<no value>");
    assert_eq!(ok("{{.missing.deeper}}"), "<no value>");
    assert_eq!(ok("{{.M.n}}"), "<no value>");
    assert_eq!(ok("{{print .missing}}"), "<nil>");
    assert_eq!(
        run("{{.M.n.x}}").unwrap_err(),
        "template: t:1:4: executing \"t\" at <.M.n.x>: nil pointer evaluating interface {}.x"
    );
    assert_eq!(
        run_mode("{{.missing}}", MissingKey::Error).unwrap_err(),
        "template: t:1:2: executing \"t\" at <.missing>: map has no entry for key \"missing\""
    );
    assert_eq!(
        run_mode("{{.missing.x}}", MissingKey::Zero).unwrap_err(),
        "template: t:1:10: executing \"t\" at <.missing.x>: nil pointer evaluating interface {}.x"
    );
    assert_eq!(
        run_mode("{{.missing}}", MissingKey::Zero).unwrap(),
        "<no value>"
    );
    assert_eq!(
        run("{{.S.x}}").unwrap_err(),
        "template: t:1:4: executing \"t\" at <.S.x>: can't evaluate field x in type interface {}"
    );
}

#[test]
fn if_else_chains() {
    assert_eq!(ok("{{if .T}}y{{else}}n{{end}}"), "y");
    assert_eq!(ok("{{if .Z}}y{{else}}n{{end}}"), "n");
    assert_eq!(ok("{{if .Empty}}y{{else if .L}}l{{else}}n{{end}}"), "l");
    assert_eq!(ok("{{if .missing}}y{{else}}n{{end}}"), "n");
    assert_eq!(ok("{{if and .T .Z}}y{{else}}n{{end}}"), "n");
}

#[test]
fn with_sets_dot_and_else_with() {
    assert_eq!(ok("{{with .M}}{{.k}}{{end}}"), "v");
    assert_eq!(ok("{{with $x := 3}}{{$x}}{{end}}"), "3");
    assert_eq!(ok("{{with .Z}}a{{else}}b{{end}}"), "b");
    assert_eq!(
        ok("{{with .Z}}a{{else with .S}}{{.}}{{else}}c{{end}}"),
        "héllo"
    );
}

#[test]
fn range_forms() {
    assert_eq!(ok("{{range .L}}<{{.}}>{{end}}"), "<1><2><3>");
    assert_eq!(
        ok("{{range $i, $e := .L}}{{$i}}:{{$e}} {{end}}"),
        "0:1 1:2 2:3 "
    );
    assert_eq!(ok("{{range $e := .L}}{{$e}}{{end}}"), "123");
    assert_eq!(
        ok("{{range $k, $v := .M}}{{$k}}={{$v}};{{end}}"),
        "k=v;n=<no value>;"
    );
    assert_eq!(ok("{{range .Empty}}x{{else}}empty{{end}}"), "empty");
    assert_eq!(ok("{{range .missing}}x{{else}}none{{end}}"), "none");
    assert_eq!(ok("{{range 3}}{{.}}{{end}}"), "012");
    assert_eq!(ok("{{range $i := 2}}{{$i}}{{end}}"), "01");
    assert_eq!(
        ok("{{range .L}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}"),
        "13"
    );
    assert_eq!(
        ok("{{range .L}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}"),
        "1"
    );
    assert_eq!(
        run("{{range .F}}{{end}}").unwrap_err(),
        "template: t:1:8: executing \"t\" at <.F>: range can't iterate over 1.5"
    );
    assert_eq!(
        run("{{range $i, $v := 3}}{{end}}").unwrap_err(),
        "template: t:1:18: executing \"t\" at <3>: can't use 3 to iterate over more than one variable"
    );
}

#[test]
fn range_map_keys_are_sorted() {
    let mut set = Templates::new("gotpl", FuncMap::builtins());
    set.parse("t", "{{range $k, $v := .}}{{$k}}{{end}}")
        .unwrap();
    let m = Value::map([
        ("b", Value::Int(1)),
        ("a", Value::Int(2)),
        ("c", Value::Int(3)),
    ]);
    assert_eq!(set.execute("t", &m).unwrap(), "abc");
}

#[test]
fn variables_scope_and_assignment() {
    assert_eq!(
        ok("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}"),
        "21"
    );
    assert_eq!(ok("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}"), "2");
    assert_eq!(ok("{{$x := 1}}{{range .L}}{{$x = .}}{{end}}{{$x}}"), "3");
    assert_eq!(ok("{{with .M}}{{$.S}}{{end}}"), "héllo");
    assert_eq!(ok("{{$m := .M}}{{$m.k}}"), "v");
}

#[test]
fn pipelines_and_parens() {
    assert_eq!(ok("{{.S | printf \"%q\"}}"), "\"héllo\"");
    assert_eq!(ok("{{\"x\" | printf \"%s-%s\" \"a\"}}"), "a-x");
    assert_eq!(ok("{{(index .M \"k\") | len}}"), "1");
    assert_eq!(ok("{{(.M).k}}"), "v");
    assert_eq!(ok("{{printf \"%d\" (len .L)}}"), "3");
}

#[test]
fn and_or_not_return_deciding_value() {
    assert_eq!(ok("{{and 0 1}}"), "0");
    assert_eq!(ok("{{and 1 2}}"), "2");
    assert_eq!(ok("{{or 0 \"\" \"x\"}}"), "x");
    assert_eq!(ok("{{or 0 \"\"}}"), "");
    assert_eq!(ok("{{not 0}} {{not .S}}"), "true false");
    // Short-circuit: the failing call after the deciding value is never evaluated.
    assert_eq!(ok("{{or 1 (index .L 99)}}"), "1");
    assert_eq!(ok("{{and 0 (index .L 99)}}"), "0");
    assert_eq!(ok("{{1 | and 2}}"), "1");
}

#[test]
fn builtins_len_index_slice() {
    assert_eq!(ok("{{len \"héllo\"}}"), "6");
    assert_eq!(ok("{{len .L}} {{len .M}}"), "3 2");
    assert_eq!(ok("{{index .M \"k\"}}"), "v");
    assert_eq!(ok("{{index .M \"nope\"}}"), "<no value>");
    assert_eq!(ok("{{index .L 1}}"), "2");
    assert_eq!(ok("{{index .S 0}}"), "104");
    let nested = "{{$l := list}}";
    assert!(run(nested).is_err());
    assert_eq!(
        ok("{{slice .L 1 2}} {{slice .L 1}} {{slice \"abcd\" 1 3}}"),
        "[2] [2 3] bc"
    );
    assert_eq!(
        run("{{index .L 5}}").unwrap_err(),
        "template: t:1:2: executing \"t\" at <index .L 5>: error calling index: index out of range: 5"
    );
    assert_eq!(
        run("{{len 3}}").unwrap_err(),
        "template: t:1:2: executing \"t\" at <len 3>: error calling len: len of type int"
    );
}

#[test]
fn comparisons() {
    assert_eq!(
        ok("{{eq 1 1}} {{eq 1 2}} {{eq 1 2 3 1}} {{eq \"a\" \"a\"}}"),
        "true false true true"
    );
    assert_eq!(
        ok("{{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt 1 2}} {{ge 2 2}}"),
        "true true true false true"
    );
    assert_eq!(ok("{{lt \"a\" \"b\"}} {{lt 1.5 2.5}}"), "true true");
    assert_eq!(
        run("{{eq 1 1.0}}").unwrap_err(),
        "template: t:1:2: executing \"t\" at <eq 1 1.0>: error calling eq: incompatible types for comparison"
    );
    assert_eq!(
        run("{{lt .F 2}}").unwrap_err(),
        "template: t:1:2: executing \"t\" at <lt .F 2>: error calling lt: incompatible types for comparison"
    );
    assert_eq!(ok("{{eq .missing .alsoMissing}}"), "true");
}

#[test]
fn printing_functions() {
    assert_eq!(ok("{{printf \"%05.2f\" 3.14159}}"), "03.14");
    assert_eq!(
        ok("{{printf \"%-4s|%4d|%x|%t\" \"ab\" 7 255 true}}"),
        "ab  |   7|ff|true"
    );
    assert_eq!(ok("{{printf \"%v\" .M}}"), "map[k:v n:<nil>]");
    assert_eq!(ok("{{print 1 2 \"a\" 3}}"), "1 2a3");
    assert_eq!(ok("{{println 1 \"a\"}}"), "1 a\n");
    assert_eq!(ok("{{html \"<a&b>\"}}"), "&lt;a&amp;b&gt;");
    assert_eq!(ok("{{js \"it's\"}}"), "it\\'s");
    assert_eq!(ok("{{urlquery \"a b\"}}"), "a+b");
    assert_eq!(ok("{{printf \"%s\" 5}}"), "%!s(int=5)");
}

#[test]
fn define_template_block() {
    assert_eq!(
        ok(r#"{{define "T"}}<{{.}}>{{end}}{{template "T" .S}}"#),
        "<héllo>"
    );
    assert_eq!(
        ok(r#"{{define "T"}}[{{.}}]{{end}}{{template "T"}}"#),
        "[<no value>]"
    );
    assert_eq!(ok(r#"{{block "B" .Z}}b{{.}}{{end}}"#), "b0");
    assert_eq!(
        run(r#"{{template "nope"}}"#).unwrap_err(),
        "template: t:1:11: executing \"t\" at <{{template \"nope\"}}>: template \"nope\" not defined"
    );
    // Template invocations inherit no variables; `$` is the new dot.
    assert_eq!(ok(r#"{{define "T"}}{{$}}{{end}}{{template "T" 5}}"#), "5");
}

#[test]
fn later_definition_replaces_earlier() {
    let mut set = Templates::new("gotpl", FuncMap::builtins());
    set.parse("a", r#"{{define "x"}}1{{end}}"#).unwrap();
    set.parse("b", r#"{{define "x"}}2{{end}}{{template "x"}}"#)
        .unwrap();
    set.parse("c", r#"{{define "x"}}{{end}}"#).unwrap();
    assert_eq!(set.execute("b", &Value::Nil).unwrap(), "2");
}

#[test]
fn exec_errors_locate_inside_defined_templates() {
    let mut set = Templates::new("gotpl", FuncMap::builtins());
    set.parse(
        "file.yaml",
        "x\n{{define \"T\"}}\n  {{index . 3}}{{end}}{{template \"T\" .}}",
    )
    .unwrap();
    let err = set.execute("file.yaml", &Value::list(vec![])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "template: file.yaml:3:4: executing \"T\" at <index . 3>: error calling index: index out of range: 3"
    );
}

#[test]
fn call_and_wrong_args() {
    assert_eq!(
        run("{{printf 3}}").unwrap_err(),
        "template: t:1:9: executing \"t\" at <3>: expected string; found 3"
    );
    assert_eq!(
        run("{{printf .Z}}").unwrap_err(),
        "template: t:1:9: executing \"t\" at <.Z>: wrong type for value; expected string; got int"
    );
    assert_eq!(
        run("{{printf .M.n}}").unwrap_err(),
        "template: t:1:11: executing \"t\" at <.M.n>: wrong type for value; expected string; got interface {}"
    );
    assert_eq!(
        run("{{not}}").unwrap_err(),
        "template: t:1:2: executing \"t\" at <not>: wrong number of args for not: want 1 got 0"
    );
    assert_eq!(
        run("{{.S 1}}").unwrap_err(),
        "template: t:1:2: executing \"t\" at <.S>: S is not a method but has arguments"
    );
    let mut funcs = FuncMap::builtins();
    funcs.insert(
        "mk",
        Function::new(&[], None, |_, _| {
            Ok(Value::Func(Function::new(
                &[Param::Int("int")],
                None,
                |_, a| {
                    Ok(Value::Int(
                        a.first()
                            .and_then(|v| {
                                if let Value::Int(i) = v {
                                    Some(i * 2)
                                } else {
                                    None
                                }
                            })
                            .unwrap_or(0),
                    ))
                },
            )))
        }),
    );
    let mut set = Templates::new("gotpl", funcs);
    set.parse("t", "{{call mk 21}}").unwrap();
    assert_eq!(set.execute("t", &Value::Nil).unwrap(), "42");
    set.parse("u", "{{call .}}").unwrap();
    assert!(set
        .execute("u", &Value::Nil)
        .unwrap_err()
        .to_string()
        .ends_with("error calling call: call of nil"));
}

#[derive(Debug)]
struct Caps;

impl Object for Caps {
    fn type_name(&self) -> String {
        "chartutil.Capabilities".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        (name == "KubeVersion").then(|| Value::str("v1.30.0"))
    }
    fn method(&self, name: &str) -> Option<Function> {
        (name == "Has").then(|| {
            Function::new(&[Param::String], None, |_, a| {
                Ok(Value::Bool(
                    a.first().and_then(Value::as_str) == Some("apps/v1"),
                ))
            })
        })
    }
    fn format(&self) -> String {
        "{caps}".into()
    }
}

#[test]
fn objects_have_fields_and_methods() {
    let mut set = Templates::new("gotpl", FuncMap::builtins());
    set.parse(
        "t",
        "{{.C.KubeVersion}} {{.C.Has \"apps/v1\"}} {{.C.Has \"x\"}}",
    )
    .unwrap();
    set.parse("u", "{{.C.Nope}}").unwrap();
    let d = Value::map([("C", Value::Object(std::sync::Arc::new(Caps)))]);
    assert_eq!(set.execute("t", &d).unwrap(), "v1.30.0 true false");
    assert_eq!(
        set.execute("u", &d).unwrap_err().to_string(),
        "template: u:1:4: executing \"u\" at <.C.Nope>: can't evaluate field Nope in type interface {}"
    );
}

fn helm_like_set() -> Templates {
    let mut funcs = FuncMap::builtins();
    funcs.insert("include", funcs::include());
    funcs.insert(
        "tpl",
        Function::new(&[Param::String, Param::Any], None, |ctx, a| {
            let text = a.first().and_then(Value::as_str).unwrap_or("").to_string();
            ctx.execute_text("gotpl", &text, a.get(1).cloned().unwrap_or_default())
                .map(Value::from)
        }),
    );
    Templates::new("gotpl", funcs)
}

#[test]
fn include_executes_named_templates_with_context() {
    let mut set = helm_like_set();
    set.parse("_helpers.tpl", r#"{{define "name"}}{{.n}}-svc{{end}}"#)
        .unwrap();
    set.parse("main", r#"name: {{include "name" . | printf "%q"}}"#)
        .unwrap();
    let d = Value::map([("n", Value::str("web"))]);
    assert_eq!(set.execute("main", &d).unwrap(), "name: \"web-svc\"");
}

#[test]
fn include_recursion_is_limited() {
    let mut set = helm_like_set();
    set.parse(
        "main",
        r#"{{define "r"}}{{include "r" .}}{{end}}{{include "r" .}}"#,
    )
    .unwrap();
    let err = set.execute("main", &Value::Nil).unwrap_err().to_string();
    assert!(
        err.contains("exceeded maximum template depth (1000)"),
        "{}",
        &err[..200.min(err.len())]
    );
    let mut set = Templates::new("gotpl", FuncMap::builtins());
    set.parse(
        "main",
        r#"{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}"#,
    )
    .unwrap();
    let err = set.execute("main", &Value::Nil).unwrap_err().to_string();
    assert!(
        err.ends_with("exceeded maximum template depth (1000)"),
        "{err}"
    );
}

#[test]
fn tpl_parses_text_in_the_current_set() {
    let mut set = helm_like_set();
    set.parse("_h", r#"{{define "x"}}X{{end}}"#).unwrap();
    set.parse("main", r#"{{tpl "{{include \"x\" .}}-{{.a}}" .}}"#)
        .unwrap();
    let d = Value::map([("a", Value::Int(1))]);
    assert_eq!(set.execute("main", &d).unwrap(), "X-1");
    assert!(set.get("gotpl").is_none(), "tpl must not change the set");
    set.parse("bad", r#"{{tpl "{{.a.b}}" .}}"#).unwrap();
    assert_eq!(
        set.execute("bad", &d).unwrap_err().to_string(),
        "template: bad:1:2: executing \"bad\" at <tpl \"{{.a.b}}\" .>: error calling tpl: \
         template: gotpl:1:4: executing \"gotpl\" at <.a.b>: can't evaluate field b in type interface {}"
    );
}

#[test]
fn no_such_template() {
    let set = Templates::new("gotpl", FuncMap::builtins());
    assert_eq!(
        set.execute("x", &Value::Nil).unwrap_err().to_string(),
        "template: no template \"x\" associated with template \"gotpl\""
    );
}

#[test]
fn deep_nesting_fails_cleanly() {
    let mut set = Templates::new("gotpl", FuncMap::builtins());
    let text = "{{with 1}}".repeat(150) + &"{{end}}".repeat(150);
    set.parse("t", &text).unwrap();
    assert_eq!(set.execute("t", &Value::Nil).unwrap(), "");
}

/// A deterministic stand-in for the fuzz target on stable Rust: random token soup must parse
/// or fail, and execute or fail, without panicking.
#[test]
fn token_soup_never_panics() {
    const PIECES: &[&str] = &[
        "{{", "}}", "{{- ", " -}}", "/*", "*/", "(", ")", "|", " ", "\n", ".", ".a", ".b", "$",
        "$x", ":=", "=", ",", "if", "else", "end", "range", "with", "define", "template", "block",
        "break", "continue", "\"s\"", "`r`", "'c'", "1", "-2", "0x1F", "1e3", "3.5", "nil", "true",
        "and", "or", "not", "len", "index", "slice", "eq", "lt", "printf", "\"%d\"", "print",
        "call", "é", "\"T\"", "'\\", "0b", "1_", "\"\\x",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..4000 {
        let mut text = String::new();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let n = (seed >> 59) as usize + 1;
        for _ in 0..n * 3 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.push_str(PIECES[(seed >> 33) as usize % PIECES.len()]);
        }
        let mut set = Templates::new("gotpl", FuncMap::builtins());
        if set.parse("t", &text).is_ok() {
            let _ = set.execute_nested("t", &data(), 0, &mut Extensions::default());
        }
    }
}
