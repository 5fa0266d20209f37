//! XPath expressions compiled to JavaScript source for the web form runtime
//! (`crates/server/assets/webform.js`), where `R` is the runtime's evaluation
//! environment and `c` the XPath context (`{node, pos, size, cur}`).
//!
//! The generated code only calls methods of `R` and never builds code at run
//! time: it is served as a static script, which a `script-src 'self'` policy
//! allows, and it mirrors the Rust evaluator ([`crate::xpath::evaluate`])
//! step by step: same conversions, same `${name}` resolution, same errors
//! (an error is thrown where the Rust evaluator returns one).

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::xpath::{Axis, BinaryOp, Expr, NodeTest, Step, arity};

/// Field name -> element names from the primary root down (`age` ->
/// `["data", "member", "age"]`), as [`crate::xpath::Env::fields`].
pub type FieldPaths = HashMap<String, Vec<String>>;

/// Text as a JavaScript string literal that is also safe inside an HTML
/// `<script>` element: quotes, backslashes and control characters escaped,
/// and `<`, U+2028 and U+2029 written as `\u` escapes.
pub fn js_string(text: &str) -> String {
    let json = serde_json::Value::String(text.to_owned()).to_string();
    let mut out = String::with_capacity(json.len() + 8);
    for ch in json.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            // `*/` must not end a comment the text is written in.
            '/' => out.push_str("\\/"),
            '>' => out.push_str("\\u003e"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            other => out.push(other),
        }
    }
    out
}

fn js_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_owned()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity".to_owned() } else { "(-Infinity)".to_owned() }
    } else if n == 0.0 {
        if n.is_sign_negative() { "(-0)".to_owned() } else { "0".to_owned() }
    } else if n < 0.0 {
        format!("(-{:?})", -n)
    } else {
        format!("{n:?}")
    }
}

fn js_path(path: &[String]) -> String {
    let mut out = String::from("[");
    for (index, step) in path.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&js_string(step));
    }
    out.push(']');
    out
}

/// What the generated code yields, so that conversions already done are not
/// done again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ty {
    Num,
    Bool,
    Any,
}

struct Compiler<'f> {
    fields: &'f FieldPaths,
}

/// Compiles `expr` into a JavaScript expression over `R` and `c` (see the
/// module documentation). `fields` resolves `${name}`; a name it lacks
/// compiles to an error thrown when evaluated, as in the Rust evaluator.
pub fn compile(expr: &Expr, fields: &FieldPaths) -> String {
    Compiler { fields }.expr(expr).0
}

/// [`compile`] wrapped as `function(R,c){return ...;}`.
pub fn compile_function(expr: &Expr, fields: &FieldPaths) -> String {
    format!("function(R,c){{return {};}}", compile(expr, fields))
}

impl Compiler<'_> {
    fn num(&self, e: &Expr) -> String {
        match self.expr(e) {
            (code, Ty::Num) => code,
            (code, _) => format!("R.num({code})"),
        }
    }

    fn boolean(&self, e: &Expr) -> String {
        match self.expr(e) {
            (code, Ty::Bool) => code,
            (code, _) => format!("R.bool({code})"),
        }
    }

    fn fail(message: &str) -> (String, Ty) {
        (format!("R.fail({})", js_string(message)), Ty::Any)
    }

    fn predicates(&self, predicates: &[Expr]) -> String {
        let mut out = String::from("[");
        for (index, predicate) in predicates.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            let _ = write!(out, "function(c){{return {};}}", self.expr(predicate).0);
        }
        out.push(']');
        out
    }

    fn steps(&self, steps: &[Step]) -> String {
        let mut out = String::from("[");
        for (index, step) in steps.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            let test = match &step.test {
                NodeTest::Name(name) => js_string(name),
                NodeTest::Any => "1".to_owned(),
                NodeTest::Node => "2".to_owned(),
                NodeTest::Text => "3".to_owned(),
            };
            let axis = axis_code(step.axis);
            if step.predicates.is_empty() {
                let _ = write!(out, "[{axis},{test}]");
            } else {
                let _ = write!(out, "[{axis},{test},{}]", self.predicates(&step.predicates));
            }
        }
        out.push(']');
        out
    }

    fn field(&self, name: &str, contextualize: bool) -> (String, Ty) {
        match self.fields.get(name) {
            Some(path) if contextualize => (format!("R.field(c,{})", js_path(path)), Ty::Any),
            Some(path) => (format!("R.fieldAll({})", js_path(path)), Ty::Any),
            None => Self::fail(&format!("no field named `{name}`")),
        }
    }

    fn expr(&self, e: &Expr) -> (String, Ty) {
        match e {
            Expr::Number(n) => (js_number(*n), Ty::Num),
            Expr::Literal(text) => (js_string(text), Ty::Any),
            Expr::Field(name) => self.field(name, true),
            Expr::Path(path) => (format!("R.path(c,{},{})", u8::from(path.absolute), self.steps(&path.steps)), Ty::Any),
            Expr::Filter { primary, predicates, steps } => (
                format!(
                    "R.filter(c,{},{},{},{})",
                    self.expr(primary).0,
                    self.predicates(predicates),
                    self.steps(steps),
                    js_string(&primary.to_string())
                ),
                Ty::Any,
            ),
            Expr::Negate(inner) => (format!("(-{})", self.num(inner)), Ty::Num),
            Expr::Binary { .. } => self.binary(e),
            Expr::Call { name, args } => self.call(name, args),
        }
    }

    /// A left-associative chain, walked without recursing down its left side.
    fn binary(&self, e: &Expr) -> (String, Ty) {
        let mut spine: Vec<(BinaryOp, &Expr)> = Vec::new();
        let mut leftmost = e;
        while let Expr::Binary { op, left, right } = leftmost {
            spine.push((*op, right));
            leftmost = left;
        }
        let mut acc = self.expr(leftmost);
        for (op, right) in spine.into_iter().rev() {
            let as_bool = |(code, ty): (String, Ty)| if ty == Ty::Bool { code } else { format!("R.bool({code})") };
            let as_num = |(code, ty): (String, Ty)| if ty == Ty::Num { code } else { format!("R.num({code})") };
            acc = match op {
                BinaryOp::And => (format!("({}&&{})", as_bool(acc), self.boolean(right)), Ty::Bool),
                BinaryOp::Or => (format!("({}||{})", as_bool(acc), self.boolean(right)), Ty::Bool),
                BinaryOp::Union => (format!("R.union({},{})", acc.0, self.expr(right).0), Ty::Any),
                BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                    (format!("R.cmp({},{},{})", js_string(op.symbol()), acc.0, self.expr(right).0), Ty::Bool)
                }
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                    let symbol = match op {
                        BinaryOp::Add => "+",
                        BinaryOp::Sub => "-",
                        BinaryOp::Mul => "*",
                        BinaryOp::Div => "/",
                        _ => "%",
                    };
                    (format!("({}{symbol}{})", as_num(acc), self.num(right)), Ty::Num)
                }
            };
        }
        acc
    }

    fn call(&self, name: &str, args: &[Expr]) -> (String, Ty) {
        let Some((min, max)) = arity(name) else {
            return Self::fail(&format!("unknown function `{name}()`"));
        };
        if args.len() < min || args.len() > max {
            return Self::fail(&format!("`{name}()` takes from {min} arguments, got {}", args.len()));
        }
        match name {
            "true" => return ("true".to_owned(), Ty::Bool),
            "false" => return ("false".to_owned(), Ty::Bool),
            "if" => {
                let (yes, yes_ty) = self.expr(&args[1]);
                let (no, no_ty) = self.expr(&args[2]);
                let ty = if yes_ty == no_ty { yes_ty } else { Ty::Any };
                return (format!("({}?{yes}:{no})", self.boolean(&args[0])), ty);
            }
            "once" => return (format!("R.once(c,function(){{return {};}})", self.expr(&args[0]).0), Ty::Any),
            "indexed-repeat" => {
                if args.len().is_multiple_of(2) {
                    return Self::fail("`indexed-repeat()` takes a field followed by pairs of repeat and position");
                }
                let mut out = String::from("R.indexedRepeat(c,[");
                for (index, arg) in args.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    // The value and the repeats: `${field}` means every instance of it.
                    let code = match arg {
                        Expr::Field(field) if index == 0 || index % 2 == 1 => self.field(field, false).0,
                        other => self.expr(other).0,
                    };
                    let _ = write!(out, "function(){{return {code};}}");
                }
                out.push_str("])");
                return (out, Ty::Any);
            }
            _ => {}
        }
        let mut out = format!("R[{}](c", js_string(&format!("f:{name}")));
        for arg in args {
            out.push(',');
            out.push_str(&self.expr(arg).0);
        }
        out.push(')');
        let ty = match name {
            "not"
            | "boolean"
            | "contains"
            | "starts-with"
            | "ends-with"
            | "selected"
            | "regex"
            | "boolean-from-string"
            | "checklist"
            | "weighted-checklist" => Ty::Bool,
            "number" | "string-length" | "count" | "count-non-empty" | "sum" | "floor" | "ceiling" | "round"
            | "int" | "abs" | "pow" | "log" | "log10" | "exp" | "exp10" | "sqrt" | "sin" | "cos" | "tan" | "asin"
            | "acos" | "atan" | "atan2" | "pi" | "min" | "max" | "last" | "position" | "count-selected"
            | "decimal-date" | "decimal-date-time" | "decimal-time" | "random" | "distance" | "area" => Ty::Num,
            _ => Ty::Any,
        };
        (out, ty)
    }
}

fn axis_code(axis: Axis) -> u8 {
    match axis {
        Axis::Child => 0,
        Axis::Parent => 1,
        Axis::SelfNode => 2,
        Axis::Attribute => 3,
        Axis::Descendant => 4,
        Axis::DescendantOrSelf => 5,
        Axis::Ancestor => 6,
        Axis::AncestorOrSelf => 7,
        Axis::FollowingSibling => 8,
        Axis::PrecedingSibling => 9,
    }
}
