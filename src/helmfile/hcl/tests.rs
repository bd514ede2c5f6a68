use super::*;
use serde_json::json;

fn files(list: &[(&str, &str)]) -> Vec<HclFile> {
    list.iter()
        .map(|(d, t)| HclFile {
            display: d.to_string(),
            text: t.to_string(),
        })
        .collect()
}

fn eval(list: &[(&str, &str)]) -> Result<serde_json::Value, HclError> {
    evaluate(&files(list))
}

fn err(list: &[(&str, &str)]) -> HclError {
    eval(list).expect_err("must fail")
}

#[test]
fn values_read_each_other_and_locals_across_files() {
    let v = eval(&[
        (
            "a.hcl",
            "locals {\n  f = \"a.hcl\"\n  g = upper(local.f)\n}\nvalues {\n  c = \"${hv.a}-${hv.b}\"\n  a = local.g\n  l = [for x in [1, 2] : x * 2]\n  t = \"%{if hv.n > 1}big%{else}small%{endif}\"\n  s = \"%{for i in hv.l}${i},%{endfor}\"\n}\n",
        ),
        ("b.hcl", "values {\n  b = \"B\"\n  n = 1 + 2\n  all = local\n}\nlocals {\n  x = true ? 1 : 2\n}\n"),
    ])
    .expect("evaluates");
    assert_eq!(
        v,
        json!({"a": "A.HCL", "b": "B", "c": "A.HCL-B", "n": 3.0, "l": [2.0, 4.0],
               "t": "big", "s": "2,4,", "all": {"x": 1.0}})
    );
}

#[test]
fn later_definitions_deep_merge_and_all_definitions_order_the_graph() {
    // As helmfile's dep_base.hcl + dep_override.hcl: the override is a literal, yet the base
    // definition (reading hv.version) must still be evaluated after hv.version.
    let v = eval(&[
        (
            "base.hcl",
            "values {\n  image = \"app:${hv.version}\"\n  version = \"1.0\"\n  m = {a = 1, n = {x = 1, y = 2}}\n  l = [1, 2]\n}\n",
        ),
        (
            "over.hcl",
            "values {\n  image = \"app:override\"\n  m = {n = {y = 3}, b = null}\n  l = [3]\n}\nvalues {\n  keep = null\n}\n",
        ),
    ])
    .expect("evaluates");
    assert_eq!(v["image"], json!("app:override"));
    assert_eq!(
        v["m"],
        json!({"a": 1.0, "n": {"x": 1.0, "y": 3.0}, "b": null})
    );
    assert_eq!(v["l"], json!([3.0]));
}

#[test]
fn functions_mirror_go_cty() {
    let v = eval(&[(
        "f.hcl",
        r#"values {
  merged = merge({a = 1, n = {x = 1}}, {n = {y = 2}})
  keys = keys({b = 1, a = 2})
  joined = join("-", ["a", "b"], ["c"])
  parts = split(",", "x,y")
  sub = substr("hello", 1, 3)
  num = max(1, 5, 3) + min(4, 2) + abs(-1) + floor(1.7) + ceil(1.2)
  lookup = lookup({a = "x"}, "b", "dflt")
  range = range(1, 4)
  zip = zipmap(["k"], ["v"])
  flat = flatten([[1], [2, [3]]])
  coalesced = coalesce("", "x")
  title = title("hello world")
  trimmed = trimsuffix(trimprefix("<x>", "<"), ">")
  json = jsonencode({a = [1, "b"]})
  decoded = jsondecode("{\"k\": [true]}")
  len = length("héllo") + length([1]) + length({a = 1})
  element = element(["a", "b"], 3)
}
"#,
    )])
    .expect("evaluates");
    assert_eq!(v["merged"], json!({"a": 1.0, "n": {"y": 2.0}}));
    assert_eq!(v["keys"], json!(["a", "b"]));
    assert_eq!(v["joined"], json!("a-b-c"));
    assert_eq!(v["parts"], json!(["x", "y"]));
    assert_eq!(v["sub"], json!("ell"));
    assert_eq!(v["num"], json!(11.0));
    assert_eq!(v["lookup"], json!("dflt"));
    assert_eq!(v["range"], json!([1.0, 2.0, 3.0]));
    assert_eq!(v["zip"], json!({"k": "v"}));
    assert_eq!(v["flat"], json!([1.0, 2.0, 3.0]));
    assert_eq!(v["coalesced"], json!("x"));
    assert_eq!(v["title"], json!("Hello World"));
    assert_eq!(v["trimmed"], json!("x"));
    assert_eq!(v["json"], json!(r#"{"a":[1.0,"b"]}"#));
    assert_eq!(v["decoded"], json!({"k": [true]}));
    assert_eq!(v["len"], json!(7.0));
    assert_eq!(v["element"], json!("b"));
}

#[test]
fn cycles_and_undefined_references_point_at_the_attribute() {
    let e = err(&[("c.hcl", "values {\n  a = hv.b\n  b = \"${hv.a}\"\n}\n")]);
    assert!(
        e.message.contains("cycle") && e.message.contains("a, b"),
        "{}",
        e.message
    );
    assert_eq!((e.origin.file.as_ref(), e.origin.line), ("c.hcl", 2));
    assert!(!e.unsupported);
    let e = err(&[("u.hcl", "values {\n\n  a = hv.missing\n}\n")]);
    assert_eq!(
        e.message,
        "variables \"a\" depend(s) on undefined vars \"missing\""
    );
    assert_eq!(e.origin.line, 3);
    let e = err(&[(
        "l.hcl",
        "locals {\n  a = local.a\n}\nvalues {\n  v = 1\n}\n",
    )]);
    assert!(e.message.contains("cycle"), "{}", e.message);
}

#[test]
fn helmfile_structure_rules_are_errors() {
    let e = err(&[("t.hcl", "x = 1\n")]);
    assert!(
        e.message.starts_with("Unsupported argument"),
        "{}",
        e.message
    );
    let e = err(&[("t.hcl", "values {}\nresource \"a\" {}\n")]);
    assert!(
        e.message.starts_with("Unsupported block type"),
        "{}",
        e.message
    );
    assert_eq!(e.origin.line, 2);
    let e = err(&[("t.hcl", "locals {\n}\nlocals {\n}\n")]);
    assert_eq!(
        e.message,
        "A file can only support exactly 1 `locals` block"
    );
    let e = err(&[("t.hcl", "values {\n  a = hv\n}\n")]);
    assert!(
        e.message.contains("cannot be accessed directly"),
        "{}",
        e.message
    );
    let e = err(&[("t.hcl", "values {\n  a = hv[\"x\"]\n}\n")]);
    assert!(e.message.contains("does not support"), "{}", e.message);
    let e = err(&[("t.hcl", "values {\n  a = \"x\"\n  a = \"y\"\n}\n")]);
    assert!(e.message.contains("redefined"), "{}", e.message);
    assert_eq!(e.origin.line, 3);
    let e = err(&[("t.hcl", "values {\n  a = \n}\n")]);
    assert_eq!(e.origin.file.as_ref(), "t.hcl");
    let e = err(&[("t.hcl", "values {\n  a = local.x\n}\n")]);
    assert!(e.message.contains("local"), "{}", e.message);
}

#[test]
fn unimplemented_and_unknown_functions() {
    let e = err(&[(
        "f.hcl",
        "values {\n  a = 1\n  b = format(\"%s\", \"x\")\n}\n",
    )]);
    assert!(e.unsupported, "{}", e.message);
    assert!(e.message.contains("format()"), "{}", e.message);
    assert_eq!(e.origin.line, 3);
    let e = err(&[("f.hcl", "values {\n  b = nosuch(1)\n}\n")]);
    assert!(!e.unsupported);
    assert!(
        e.message.contains("no function named \"nosuch\""),
        "{}",
        e.message
    );
}

#[test]
fn budgets_stop_hostile_files() {
    let deep = format!(
        "values {{\n  a = {}1{}\n}}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    let e = err(&[("d.hcl", &deep)]);
    assert!(e.message.contains("nested deeper"), "{}", e.message);
    let big = format!("values {{\n  a = \"{}\"\n}}\n", "x".repeat(MAX_FILE_BYTES));
    assert!(err(&[("b.hcl", &big)]).message.contains("larger than"));
    let e = err(&[("r.hcl", "values {\n  a = range(100000)\n}\n")]);
    assert!(e.message.contains("budget"), "{}", e.message);
    let e = err(&[(
        "n.hcl",
        "values {\n  a = [for x in [1] : [for y in [1] : [for z in [1] : z]]]\n}\n",
    )]);
    assert!(e.message.contains("nested deeper"), "{}", e.message);
}
