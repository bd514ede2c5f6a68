//! The evaluation budget of one HCL attribute, checked before it is evaluated: `hcl::eval`
//! runs `for` expressions and templates itself, so the work they would do is estimated from
//! the expression and the sizes of the values it reads. `[for i in range(9999) : [for j in
//! range(9999) : hv.big]]` is refused before it runs instead of taking minutes and gigabytes.
//!
//! Size of a value: one per node plus one per [`BYTES_PER_UNIT`] bytes of string. Estimated
//! work of an expression: the sizes of the values it references (each occurrence), one per
//! literal node, [`super::funcs::MAX_ITEMS`] for a `range(...)` call, `indent` as 1,024 times
//! its argument (the widest indent it accepts), and for a `for` expression or directive the
//! collection's estimate times the body's (every iteration evaluates the body).

use hcl::expr::{Expression, TraversalOperator};
use hcl::template::{Directive, Element, Template};
use hcl::Value as HclValue;

/// Most work one attribute may need, in size units (about 16 MiB of strings, or a million
/// values).
pub(super) const MAX_WORK: u64 = 1_000_000;

/// String bytes per size unit.
const BYTES_PER_UNIT: u64 = 16;

/// The size of `v` in budget units.
pub(super) fn size(v: &HclValue) -> u64 {
    match v {
        HclValue::String(s) => 1 + s.len() as u64 / BYTES_PER_UNIT,
        HclValue::Array(items) => items.iter().map(size).fold(1, u64::saturating_add),
        HclValue::Object(m) => m
            .iter()
            .map(|(k, v)| size(v).saturating_add(1 + k.len() as u64 / BYTES_PER_UNIT))
            .fold(1, u64::saturating_add),
        _ => 1,
    }
}

/// The estimated work of evaluating `e`; `sizes(root, name)` is the size of `root.name` (`hv`
/// or `local`; 0 for anything else, such as a `for` variable, whose cost the collection
/// carries).
pub(super) fn work(e: &Expression, sizes: &dyn Fn(&str, &str) -> u64) -> u64 {
    let sum = |items: &mut dyn Iterator<Item = &Expression>| {
        items.map(|i| work(i, sizes)).fold(1, u64::saturating_add)
    };
    match e {
        Expression::Array(items) => sum(&mut items.iter()),
        Expression::Object(o) => o
            .iter()
            .map(|(k, v)| {
                let k = match k {
                    hcl::ObjectKey::Expression(k) => work(k, sizes),
                    _ => 1,
                };
                k.saturating_add(work(v, sizes))
            })
            .fold(1, u64::saturating_add),
        Expression::TemplateExpr(t) => match Template::from_expr(t) {
            Ok(t) => template(&t, sizes),
            Err(_) => 1,
        },
        Expression::Traversal(t) => traversal(&t.expr, &t.operators, sizes),
        Expression::FuncCall(call) => {
            let args = sum(&mut call.args.iter());
            match call.name.name.as_str() {
                "range" => args.saturating_add(super::funcs::MAX_ITEMS as u64),
                "indent" => args.saturating_mul(1024),
                _ => args,
            }
        }
        Expression::Parenthesis(inner) => work(inner, sizes),
        Expression::Conditional(c) => {
            sum(&mut [&c.cond_expr, &c.true_expr, &c.false_expr].into_iter())
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => work(&u.expr, sizes),
            hcl::expr::Operation::Binary(b) => sum(&mut [&b.lhs_expr, &b.rhs_expr].into_iter()),
        },
        Expression::ForExpr(f) => {
            let body = [
                f.key_expr.as_ref(),
                f.cond_expr.as_ref(),
                Some(&f.value_expr),
            ];
            let body = sum(&mut body.into_iter().flatten());
            let collection = work(&f.collection_expr, sizes);
            collection.saturating_mul(body)
        }
        _ => 1,
    }
}

fn template(t: &Template, sizes: &dyn Fn(&str, &str) -> u64) -> u64 {
    let mut total: u64 = 1;
    for element in t.elements() {
        let w = match element {
            Element::Literal(l) => 1 + l.len() as u64 / BYTES_PER_UNIT,
            Element::Interpolation(i) => work(&i.expr, sizes),
            Element::Directive(d) => match d.as_ref() {
                Directive::If(i) => {
                    let f = i.false_template.as_ref().map_or(0, |f| template(f, sizes));
                    work(&i.cond_expr, sizes)
                        .saturating_add(template(&i.true_template, sizes))
                        .saturating_add(f)
                }
                Directive::For(f) => {
                    work(&f.collection_expr, sizes).saturating_mul(template(&f.template, sizes))
                }
            },
        };
        total = total.saturating_add(w);
    }
    total
}

/// `hv.name...` / `local.name...`: the referenced value's size; index expressions count too.
fn traversal(
    base: &Expression,
    ops: &[TraversalOperator],
    sizes: &dyn Fn(&str, &str) -> u64,
) -> u64 {
    let index: u64 = ops
        .iter()
        .filter_map(|op| match op {
            TraversalOperator::Index(i) => Some(work(i, sizes)),
            _ => None,
        })
        .fold(0, u64::saturating_add);
    let referenced = match (base, ops.first()) {
        (Expression::Variable(v), Some(TraversalOperator::GetAttr(name))) => {
            sizes(v.as_str(), name.as_str())
        }
        _ => work(base, sizes),
    };
    referenced.max(1).saturating_add(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(text: &str) -> Expression {
        let body: hcl::Body = hcl::from_str(&format!("x = {text}\n")).expect("hcl");
        body.attributes().next().expect("attribute").expr.clone()
    }

    fn big(root: &str, name: &str) -> u64 {
        match (root, name) {
            ("hv", "big") => 10_000,
            ("hv", "small") => 1,
            _ => 0,
        }
    }

    #[test]
    fn ordinary_expressions_are_cheap() {
        for text in [
            r#""${hv.small}-x""#,
            "[for s in hv.big : upper(s)]",
            r#"[for s in hv.big : "${s}-${hv.small}"]"#,
            "merge(hv.big, hv.small)",
            r#""%{for i in hv.big}${i}%{endfor}""#,
        ] {
            assert!(work(&expr(text), &big) < MAX_WORK, "{text}");
        }
    }

    #[test]
    fn multiplying_loops_are_over_budget() {
        for text in [
            "[for i in range(9999) : [for j in range(9999) : i]]",
            "[for i in range(10000) : hv.big]",
            r#""%{for i in range(10000)}${hv.big}%{endfor}""#,
            "[for i in hv.big : range(1000)]",
        ] {
            assert!(work(&expr(text), &big) > MAX_WORK, "{text}");
        }
    }

    #[test]
    fn sizes_count_nodes_and_string_bytes() {
        let v = HclValue::Array(vec![
            HclValue::String("x".repeat(160)),
            HclValue::Bool(true),
        ]);
        assert_eq!(size(&v), 1 + 11 + 1);
    }
}
