//! Conformance with the behaviour Go documents for `text/template` (the package
//! documentation's examples: pipelines, trimming, actions, builtin functions, nested template
//! definitions) and for `fmt`'s verbs as templates reach them through `printf`. Each case is
//! the template text and the output Go's documentation gives for it.

use gotmpl::{FuncMap, Templates, Value};

fn render(src: &str, data: &Value) -> String {
    let mut set = Templates::new("t", FuncMap::builtins());
    set.parse("t", src)
        .unwrap_or_else(|e| panic!("parse {src:?}: {e}"));
    set.execute("t", data)
        .unwrap_or_else(|e| panic!("execute {src:?}: {e}"))
}

fn ints(items: &[i64]) -> Value {
    Value::list(items.iter().map(|i| Value::Int(*i)).collect())
}

#[test]
fn every_pipeline_of_the_package_docs_prints_quoted_output() {
    // "Here are some example one-line templates demonstrating pipelines and variables. All
    // produce the quoted word "output"".
    for src in [
        r#"{{"\"output\""}}"#,
        r#"{{`"output"`}}"#,
        r#"{{printf "%q" "output"}}"#,
        r#"{{"output" | printf "%q"}}"#,
        r#"{{printf "%q" (print "out" "put")}}"#,
        r#"{{"put" | printf "%s%s" "out" | printf "%q"}}"#,
        r#"{{"output" | printf "%s" | printf "%q"}}"#,
        r#"{{with "output"}}{{printf "%q" .}}{{end}}"#,
        r#"{{with $x := "output" | printf "%q"}}{{$x}}{{end}}"#,
        r#"{{with $x := "output"}}{{printf "%q" $x}}{{end}}"#,
        r#"{{with $x := "output"}}{{$x | printf "%q"}}{{end}}"#,
    ] {
        assert_eq!(render(src, &Value::Nil), r#""output""#, "{src}");
    }
}

#[test]
fn trim_markers_remove_the_adjacent_white_space() {
    // The docs: `"{{23 -}} < {{- 45}}"` generates "23<45".
    assert_eq!(render("{{23 -}} < {{- 45}}", &Value::Nil), "23<45");
    assert_eq!(render("a  {{- /* comment */ -}}  b", &Value::Nil), "ab");
    assert_eq!(render("{{/* a comment */}}", &Value::Nil), "");
}

#[test]
fn nested_template_definitions_as_documented() {
    // The docs' T1/T2/T3 example prints "ONE TWO".
    let src = r#"{{define "T1"}}ONE{{end}}{{define "T2"}}TWO{{end}}{{define "T3"}}{{template "T1"}} {{template "T2"}}{{end}}{{template "T3"}}"#;
    assert_eq!(render(src, &Value::Nil), "ONE TWO");
    assert_eq!(
        render(r#"{{block "b" .}}default {{.}}{{end}}"#, &Value::Int(7)),
        "default 7"
    );
}

#[test]
fn range_else_break_continue_and_assignment() {
    assert_eq!(
        render("{{range .}}{{.}}{{else}}empty{{end}}", &ints(&[])),
        "empty"
    );
    assert_eq!(
        render("{{range $i, $e := .}}{{$i}}:{{$e}} {{end}}", &ints(&[5, 6])),
        "0:5 1:6 "
    );
    let src = "{{range .}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}";
    assert_eq!(render(src, &ints(&[1, 2, 3, 4])), "12");
    let src = "{{range .}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}";
    assert_eq!(render(src, &ints(&[1, 2, 3])), "13");
    assert_eq!(render("{{$x := 1}}{{$x = 2}}{{$x}}", &Value::Nil), "2");
    assert_eq!(render("{{if .}}yes{{else}}no{{end}}", &ints(&[])), "no");
    assert_eq!(
        render("{{with .}}{{.}}{{else}}none{{end}}", &Value::Nil),
        "none"
    );
}

#[test]
fn builtin_functions_as_documented() {
    let cases = [
        // "and: Returns the boolean AND of its arguments by returning the first empty
        // argument or the last argument"; "or" the first non-empty one or the last.
        ("{{and 1 0 2}}", "0"),
        ("{{and 1 2}}", "2"),
        ("{{or 0 \"\" \"x\"}}", "x"),
        ("{{or 0 \"\"}}", ""),
        ("{{not 0}}", "true"),
        // "eq: ... For simpler multi-way equality tests, eq (only) accepts two or more
        // arguments and compares the second and subsequent to the first".
        ("{{eq 1 2 1}}", "true"),
        ("{{eq 1 2 3}}", "false"),
        ("{{ne 1 2}}", "true"),
        ("{{lt 1 2}}", "true"),
        ("{{le 2 2}}", "true"),
        ("{{gt \"b\" \"a\"}}", "true"),
        ("{{ge 1 2}}", "false"),
        ("{{len \"abc\"}}", "3"),
        ("{{slice \"abcde\" 1 3}}", "bc"),
        ("{{index \"abc\" 1}}", "98"),
        ("{{html \"<a href='x'>\"}}", "&lt;a href=&#39;x&#39;&gt;"),
        ("{{urlquery \"a b&c\"}}", "a+b%26c"),
        // fmt.Sprint adds spaces between operands when neither is a string.
        ("{{print 1 2}}", "1 2"),
        ("{{print \"a\" \"b\"}}", "ab"),
        ("{{print \"a\" 1 2 \"b\"}}", "a1 2b"),
        ("{{println \"a\" 1}}", "a 1\n"),
    ];
    for (src, want) in cases {
        assert_eq!(render(src, &Value::Nil), want, "{src}");
    }
    assert_eq!(render("{{index . 1}}", &ints(&[4, 5])), "5");
    assert_eq!(render("{{len .}}", &ints(&[4, 5])), "2");
}

#[test]
fn printf_verbs_as_fmt_documents_them() {
    let cases = [
        (r#"{{printf "%d" 3}}"#, "3"),
        (r#"{{printf "%5d|%-5d|" 42 42}}"#, "   42|42   |"),
        (r#"{{printf "%05.2f" 3.14159}}"#, "03.14"),
        (r#"{{printf "%x %X %o %b" 255 255 8 5}}"#, "ff FF 10 101"),
        (
            r#"{{printf "%T %T %T %T" 1 1.5 "s" true}}"#,
            "int float64 string bool",
        ),
        (r#"{{printf "%v %v" true "x"}}"#, "true x"),
        (r#"{{printf "%s" 3}}"#, "%!s(int=3)"),
        (r#"{{printf "%d"}}"#, "%!d(MISSING)"),
        (r#"{{printf "%d" 1 2}}"#, "1%!(EXTRA int=2)"),
        (r#"{{printf "%e" 1234.5678}}"#, "1.234568e+03"),
        (r#"{{printf "%g" 0.000001}}"#, "1e-06"),
        (r#"{{printf "%6.2f%%" 99.5}}"#, " 99.50%"),
        (r#"{{printf "%q" 65}}"#, "'A'"),
        (r#"{{printf "%c" 65}}"#, "A"),
    ];
    for (src, want) in cases {
        assert_eq!(render(src, &Value::Nil), want, "{src}");
    }
}
