//! The function library: XPath 1.0 core functions and the ODK additions.

use super::ast::Expr;
use super::dates::{self, Temporal};
use std::borrow::Cow;

use super::eval::{CACHED_PATTERNS, Ctx, EvalError, Evaluator};
use super::tree::NodeId;
use super::value::{Value, format_number, parse_xpath_number};

/// Every function name an expression may use. Those that need a device
/// (`digest`, `base64-decode`, `extract-signed`, `jr:itext`, and `pulldata`
/// without its data loaded) are accepted by [`check_functions`] but give an
/// [`EvalError`] when evaluated.
pub const KNOWN_FUNCTIONS: &[&str] = &[
    // XPath 1.0
    "true",
    "false",
    "not",
    "boolean",
    "number",
    "string",
    "concat",
    "contains",
    "starts-with",
    "ends-with",
    "substring",
    "substring-before",
    "substring-after",
    "string-length",
    "normalize-space",
    "translate",
    "count",
    "sum",
    "floor",
    "ceiling",
    "round",
    "last",
    "position",
    "name",
    "local-name",
    // ODK
    "if",
    "coalesce",
    "selected",
    "selected-at",
    "count-selected",
    "count-non-empty",
    "jr:choice-name",
    "regex",
    "int",
    "abs",
    "pow",
    "log",
    "log10",
    "exp",
    "exp10",
    "sqrt",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    "pi",
    "min",
    "max",
    "date",
    "decimal-date",
    "decimal-date-time",
    "decimal-time",
    "today",
    "now",
    "format-date",
    "format-date-time",
    "boolean-from-string",
    "join",
    "uuid",
    "random",
    "randomize",
    "distance",
    "area",
    "once",
    "indexed-repeat",
    "substr",
    "checklist",
    "weighted-checklist",
    "instance",
    "current",
    "pulldata",
    // Only on a device
    "digest",
    "base64-decode",
    "extract-signed",
    "jr:itext",
];

const MANY: usize = usize::MAX;

/// Accepted argument counts, `(min, max)` (the browser's compiled expressions check the same).
pub(crate) fn arity(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        "true" | "false" | "last" | "pi" | "today" | "now" | "random" | "current" => (0, 0),
        "not"
        | "boolean"
        | "count"
        | "sum"
        | "floor"
        | "ceiling"
        | "int"
        | "abs"
        | "log"
        | "log10"
        | "exp"
        | "exp10"
        | "sqrt"
        | "sin"
        | "cos"
        | "tan"
        | "asin"
        | "acos"
        | "atan"
        | "count-selected"
        | "count-non-empty"
        | "date"
        | "decimal-date"
        | "decimal-date-time"
        | "decimal-time"
        | "boolean-from-string"
        | "distance"
        | "area"
        | "once"
        | "instance"
        | "base64-decode"
        | "jr:itext" => (1, 1),
        "number" | "string" | "string-length" | "normalize-space" | "name" | "local-name" | "position" | "uuid" => {
            (0, 1)
        }
        "contains" | "starts-with" | "ends-with" | "substring-before" | "substring-after" | "coalesce" | "selected"
        | "selected-at" | "jr:choice-name" | "regex" | "pow" | "atan2" | "format-date" | "format-date-time"
        | "extract-signed" => (2, 2),
        "substring" | "substr" | "digest" => (2, 3),
        "translate" | "if" => (3, 3),
        "round" | "randomize" => (1, 2),
        "concat" => (0, MANY),
        "join" | "min" | "max" => (1, MANY),
        "checklist" | "weighted-checklist" => (2, MANY),
        "indexed-repeat" => (3, 7),
        "pulldata" => (4, 4),
        _ => return None,
    })
}

/// The functions `expr` calls that are not in [`KNOWN_FUNCTIONS`], each once.
pub fn check_functions(expr: &Expr) -> Vec<String> {
    expr.calls().into_iter().filter(|name| !KNOWN_FUNCTIONS.contains(name)).map(str::to_owned).collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "argument" } else { "arguments" }
}

fn arity_error(name: &str, min: usize, max: usize, got: usize) -> EvalError {
    let expected = match (min, max) {
        (0, 0) => "no arguments".to_owned(),
        (min, max) if min == max => format!("{min} {}", plural(min)),
        (min, MANY) => format!("at least {min} {}", plural(min)),
        (min, max) if max == min + 1 => format!("{min} or {max} arguments"),
        (min, max) => format!("from {min} to {max} arguments"),
    };
    EvalError::new(format!("`{name}()` takes {expected}, got {got}"))
}

/// One function call being evaluated.
struct Call<'c, 'e, 'a> {
    ev: &'c mut Evaluator<'e, 'a>,
    name: &'c str,
    /// The evaluated arguments.
    values: Vec<Value>,
    ctx: Ctx,
}

impl Call<'_, '_, '_> {
    fn value(&self, i: usize) -> Value {
        self.values[i].clone()
    }

    fn arg(&self, i: usize) -> &Value {
        &self.values[i]
    }

    /// The `i`th argument as text, borrowed where it can be.
    fn text(&self, i: usize) -> Cow<'_, str> {
        self.values[i].to_text(self.ev.inst())
    }

    fn number(&self, i: usize) -> f64 {
        self.values[i].to_number(self.ev.inst())
    }

    fn string(&self, i: usize) -> String {
        self.values[i].to_string(self.ev.inst())
    }

    fn boolean(&self, i: usize) -> bool {
        self.values[i].to_bool(self.ev.inst())
    }

    /// The `i`th argument as text, or the context node's text when it is absent.
    fn string_or_context(&self, i: usize) -> String {
        if i < self.values.len() { self.string(i) } else { self.ev.inst().string_value(self.ctx.node) }
    }

    fn nodes(&self, i: usize) -> Result<&[NodeId], EvalError> {
        match self.arg(i) {
            Value::Nodes(nodes) => Ok(nodes),
            other => Err(self.error(format!(
                "needs a set of nodes (such as a field inside a repeat) as argument {}, not {}",
                i + 1,
                other.kind()
            ))),
        }
    }

    /// Every argument from `from` on, with node-sets spread into one text value per node.
    fn flattened(&self, from: usize) -> Vec<Value> {
        let mut out = Vec::new();
        for i in from..self.values.len() {
            match self.value(i) {
                Value::Nodes(nodes) => {
                    out.extend(nodes.iter().map(|n| Value::String(self.ev.inst().string_value(*n))));
                }
                other => out.push(other),
            }
        }
        out
    }

    fn error(&self, message: impl std::fmt::Display) -> EvalError {
        EvalError::new(format!("`{}()` {message}", self.name))
    }

    /// A date or dateTime argument; `None` for empty text or NaN.
    fn temporal(&mut self, i: usize, numbers_as_instants: bool) -> Result<Option<Temporal>, EvalError> {
        let value = self.value(i);
        let inst = self.ev.inst();
        match value {
            Value::Date(d) => Ok(Some(Temporal::Date(d))),
            Value::DateTime(dt) => Ok(Some(Temporal::DateTime(dt))),
            Value::Number(n) if n.is_nan() => Ok(None),
            Value::Number(n) => {
                let converted = if numbers_as_instants {
                    dates::date_time_from_days(n)
                        .map(|dt| Temporal::DateTime(dt.with_timezone(self.ev.env.now.offset())))
                } else {
                    dates::date_from_days(n).map(Temporal::Date)
                };
                converted.map(Some).ok_or_else(|| self.error(format!("cannot read {} as a date", format_number(n))))
            }
            Value::Bool(_) => Err(self.error("cannot read true/false as a date")),
            other => {
                let text = other.to_string(inst);
                if text.trim().is_empty() {
                    return Ok(None);
                }
                if let Some(t) = dates::parse_temporal(&text) {
                    return Ok(Some(t));
                }
                let n = parse_xpath_number(&text);
                if !n.is_nan() {
                    return Ok(dates::date_from_days(n).map(Temporal::Date));
                }
                Err(self.error(format!("cannot read `{text}` as a date (expected YYYY-MM-DD)")))
            }
        }
    }
}

pub(crate) fn call(ev: &mut Evaluator, name: &str, args: &[Expr], ctx: Ctx) -> Result<Value, EvalError> {
    let Some((min, max)) = arity(name) else {
        return Err(EvalError::new(format!("unknown function `{name}()`")));
    };
    if args.len() < min || args.len() > max {
        return Err(arity_error(name, min, max, args.len()));
    }
    // Functions that must not evaluate all their arguments. Everything else
    // gets its arguments evaluated here, in a small stack frame, so that deep
    // nesting does not stack up the big frame of `apply`.
    match name {
        "if" => {
            let condition = ev.eval(&args[0], ctx)?.to_bool(ev.inst());
            return ev.eval(&args[if condition { 1 } else { 2 }], ctx);
        }
        "once" => {
            let existing = ev.inst().value(ev.current);
            if existing.is_empty() {
                return ev.eval(&args[0], ctx);
            }
            return Ok(Value::String(existing.to_owned()));
        }
        "indexed-repeat" => return indexed_repeat(ev, name, args, ctx),
        _ => {}
    }
    let mut values = ev.value_list();
    for arg in args {
        values.push(ev.eval(arg, ctx)?);
    }
    let mut call = Call { ev, name, values, ctx };
    let result = apply(&mut call);
    call.ev.recycle_values(call.values);
    result
}

fn apply(c: &mut Call) -> Result<Value, EvalError> {
    let (name, ctx) = (c.name, c.ctx);
    let argc = c.values.len();
    let inst = c.ev.inst();
    let num = Value::Number;
    let text = Value::String;
    Ok(match name {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "not" => Value::Bool(!c.boolean(0)),
        "boolean" => Value::Bool(c.boolean(0)),
        "number" => {
            num(if argc == 0 { super::value::text_to_number(&inst.string_value(ctx.node)) } else { c.number(0) })
        }
        "string" => text(c.string_or_context(0)),
        "concat" => {
            let mut out = String::new();
            for i in 0..argc {
                match c.arg(i) {
                    Value::Nodes(nodes) => nodes.iter().for_each(|n| out.push_str(&inst.string_value(*n))),
                    other => out.push_str(&other.to_string(inst)),
                }
            }
            text(out)
        }
        "contains" => Value::Bool(c.text(0).contains(&*c.text(1))),
        "starts-with" => Value::Bool(c.text(0).starts_with(&*c.text(1))),
        "ends-with" => Value::Bool(c.text(0).ends_with(&*c.text(1))),
        "substring-before" => {
            let (s, pat) = (c.string(0), c.string(1));
            text(s.find(&pat).map(|i| s[..i].to_owned()).unwrap_or_default())
        }
        "substring-after" => {
            let (s, pat) = (c.string(0), c.string(1));
            text(s.find(&pat).map(|i| s[i + pat.len()..].to_owned()).unwrap_or_default())
        }
        "substring" => {
            let s = c.string(0);
            // XPath 1.0 rounding and comparisons, so NaN and infinities behave as specified.
            let round = |x: f64| (x + 0.5).floor();
            let start = round(c.number(1));
            let end = if argc > 2 { start + round(c.number(2)) } else { f64::INFINITY };
            text(
                s.chars()
                    .enumerate()
                    .filter(|(i, _)| {
                        let p = (i + 1) as f64;
                        p >= start && p < end
                    })
                    .map(|(_, ch)| ch)
                    .collect(),
            )
        }
        "substr" => {
            let chars: Vec<char> = c.string(0).chars().collect();
            let clamp = |x: f64| if x.is_nan() { 0 } else { x.clamp(0.0, chars.len() as f64) as usize };
            let start = clamp(c.number(1));
            let end = if argc > 2 { clamp(c.number(2)) } else { chars.len() };
            text(if start < end { chars[start..end].iter().collect() } else { String::new() })
        }
        "string-length" => num(c.string_or_context(0).chars().count() as f64),
        "normalize-space" => text(c.string_or_context(0).split_whitespace().collect::<Vec<_>>().join(" ")),
        "translate" => {
            let (s, from, to) = (c.string(0), c.string(1), c.string(2));
            let from: Vec<char> = from.chars().collect();
            let to: Vec<char> = to.chars().collect();
            text(
                s.chars()
                    .filter_map(|ch| match from.iter().position(|f| *f == ch) {
                        Some(i) => to.get(i).copied(),
                        None => Some(ch),
                    })
                    .collect(),
            )
        }
        "count" => num(c.nodes(0)?.len() as f64),
        "count-non-empty" => num(c.nodes(0)?.iter().filter(|n| !inst.string_value_ref(**n).is_empty()).count() as f64),
        "sum" => num(c.nodes(0)?.iter().map(|n| super::value::text_to_number(&inst.string_value_ref(*n))).sum()),
        "floor" => num(c.number(0).floor()),
        "ceiling" => num(c.number(0).ceil()),
        "round" => {
            let x = c.number(0);
            let digits = if argc > 1 { c.number(1) } else { 0.0 };
            num(round_half_away(x, digits))
        }
        "int" => num(c.number(0).trunc()),
        "abs" => num(c.number(0).abs()),
        "pow" => num(c.number(0).powf(c.number(1))),
        "log" => num(c.number(0).ln()),
        "log10" => num(c.number(0).log10()),
        "exp" => num(c.number(0).exp()),
        "exp10" => num(10f64.powf(c.number(0))),
        "sqrt" => num(c.number(0).sqrt()),
        "sin" => num(c.number(0).sin()),
        "cos" => num(c.number(0).cos()),
        "tan" => num(c.number(0).tan()),
        "asin" => num(c.number(0).asin()),
        "acos" => num(c.number(0).acos()),
        "atan" => num(c.number(0).atan()),
        "atan2" => num(c.number(0).atan2(c.number(1))),
        "pi" => num(std::f64::consts::PI),
        "min" | "max" => {
            let values: Vec<f64> = c.flattened(0).iter().map(|v| v.to_number(inst)).collect();
            let pick = if name == "min" { f64::min } else { f64::max };
            num(if values.is_empty() || values.iter().any(|v| v.is_nan()) {
                f64::NAN
            } else {
                values.into_iter().fold(if name == "min" { f64::INFINITY } else { f64::NEG_INFINITY }, pick)
            })
        }
        "last" => num(ctx.size as f64),
        "position" => {
            if argc == 0 {
                num(ctx.position as f64)
            } else {
                let nodes = c.nodes(0)?;
                let Some(node) = nodes.first() else {
                    return Err(c.error("needs a node, but the set of nodes is empty"));
                };
                let index = inst.parent(*node).map_or(1, |p| {
                    inst.children(p)
                        .iter()
                        .take_while(|s| *s != node)
                        .filter(|s| inst.name(**s) == inst.name(*node))
                        .count()
                        + 1
                });
                num(index as f64)
            }
        }
        "name" | "local-name" => {
            let node = if argc == 0 { Some(ctx.node) } else { c.nodes(0)?.first().copied() };
            let full = node.map(|n| inst.name(n)).unwrap_or_default();
            let shown = if name == "local-name" { full.rsplit(':').next().unwrap_or(full) } else { full };
            text(shown.to_owned())
        }
        "coalesce" => {
            let first = c.string(0);
            text(if first.is_empty() { c.string(1) } else { first })
        }
        "selected" => {
            let (list, value) = (c.text(0), c.text(1));
            let value = value.trim();
            Value::Bool(list.split_whitespace().any(|item| item == value))
        }
        "selected-at" => {
            let list = c.string(0);
            let n = c.number(1);
            let item = if n.is_finite() && n >= 0.0 { list.split_whitespace().nth(n as usize) } else { None };
            text(item.unwrap_or_default().to_owned())
        }
        "count-selected" => num(c.text(0).split_whitespace().count() as f64),
        "jr:choice-name" => {
            let value = c.string(0);
            let field = field_of_reference(&c.string(1));
            let label = c.ev.env.choice_labels.and_then(|labels| labels(&field, value.trim()));
            text(label.unwrap_or_default())
        }
        "regex" => {
            let pattern = c.text(1);
            let matched = if let Some(re) = c.ev.scratch.regexes.get(&*pattern) {
                re.is_match(&c.text(0))
            } else {
                let re = regex::Regex::new(&pattern)
                    .map_err(|e| c.error(format!("pattern `{pattern}` is not a valid regular expression: {e}")))?;
                let matched = re.is_match(&c.text(0));
                let pattern = pattern.into_owned();
                let regexes = &mut c.ev.scratch.regexes;
                if regexes.len() >= CACHED_PATTERNS {
                    regexes.clear();
                }
                regexes.insert(pattern, re);
                matched
            };
            Value::Bool(matched)
        }
        "boolean-from-string" => {
            let s = c.text(0);
            let s = s.trim();
            Value::Bool(s.eq_ignore_ascii_case("true") || s == "1")
        }
        "join" => {
            let separator = c.string(0);
            let items: Vec<String> = c.flattened(1).iter().map(|v| v.to_string(inst)).collect();
            text(items.join(&separator))
        }
        "date" => match c.temporal(0, false)? {
            Some(t) => Value::Date(t.date()),
            None => text(String::new()),
        },
        "decimal-date-time" => match *c.arg(0) {
            Value::Number(n) => num(n),
            _ => num(c.temporal(0, true)?.map_or(f64::NAN, Temporal::days)),
        },
        "decimal-date" => num(c.temporal(0, false)?.map_or(f64::NAN, |t| dates::date_days(t.date()))),
        "decimal-time" => {
            let s = c.string(0);
            if s.trim().is_empty() {
                num(f64::NAN)
            } else {
                let time_text = s.split_once('T').map_or(s.as_str(), |(_, t)| t);
                let Some((time, offset)) = dates::parse_time(time_text) else {
                    return Err(c.error(format!("cannot read `{s}` as a time (expected hh:mm:ss)")));
                };
                let seconds = f64::from(chrono::Timelike::num_seconds_from_midnight(&time))
                    + f64::from(chrono::Timelike::nanosecond(&time)) / 1e9;
                let here = f64::from(c.ev.env.now.offset().local_minus_utc());
                let shift = offset.map_or(0.0, |o| here - f64::from(o.local_minus_utc()));
                num((seconds + shift).rem_euclid(86_400.0) / 86_400.0)
            }
        }
        "today" => Value::Date(c.ev.env.now.date_naive()),
        "now" => Value::DateTime(c.ev.env.now),
        "format-date" | "format-date-time" => {
            let value = c.temporal(0, name == "format-date-time")?;
            let pattern = c.string(1);
            text(value.map(|t| dates::format(t, &pattern)).unwrap_or_default())
        }
        "uuid" => {
            if argc == 0 {
                text(uuid_v4(c.ev))
            } else {
                let n = c.number(0);
                if !(0.0..=10_000.0).contains(&n) {
                    return Err(c.error(format!("length must be from 0 to 10000, got {}", format_number(n))));
                }
                const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
                text((0..n as usize).map(|_| ALPHABET[(c.ev.next_random() % 62) as usize] as char).collect())
            }
        }
        "random" => num((c.ev.next_random() >> 11) as f64 / (1u64 << 53) as f64),
        "randomize" => {
            let mut nodes = c.nodes(0)?.to_vec();
            if argc > 1 {
                let seed = c.number(1);
                c.ev.rng = seed.to_bits();
            }
            for i in (1..nodes.len()).rev() {
                let j = (c.ev.next_random() % (i as u64 + 1)) as usize;
                nodes.swap(i, j);
            }
            Value::Nodes(nodes)
        }
        "distance" | "area" => {
            let points = match c.value(0) {
                Value::Nodes(nodes) if nodes.len() > 1 => {
                    nodes.iter().map(|n| inst.string_value(*n)).collect::<Vec<_>>().join(";")
                }
                other => other.to_string(inst),
            };
            let points = parse_points(&points).map_err(|bad| {
                c.error(format!("cannot read `{bad}` as a point (latitude longitude [altitude accuracy])"))
            })?;
            num(if name == "distance" { path_length(&points) } else { polygon_area(&points) })
        }
        "checklist" | "weighted-checklist" => {
            let (min, max) = (c.number(0), c.number(1));
            let total = if name == "checklist" {
                c.flattened(2).iter().filter(|v| checked(v, inst)).count() as f64
            } else {
                if !argc.is_multiple_of(2) {
                    return Err(c.error("takes a minimum, a maximum and then pairs of value and weight"));
                }
                let mut total = 0.0;
                for i in (2..argc).step_by(2) {
                    if checked(&c.value(i), inst) {
                        total += c.number(i + 1);
                    }
                }
                total
            };
            Value::Bool((min < 0.0 || total >= min) && (max < 0.0 || total <= max))
        }
        "instance" => {
            let id = c.string(0);
            match inst.secondary_document(&id) {
                Some(document) => Value::Nodes(vec![document]),
                None => {
                    return Err(
                        c.error(format!("refers to `{id}`, but the form has no choice list or data by that name"))
                    );
                }
            }
        }
        "current" => Value::Nodes(vec![c.ev.current]),
        "pulldata" => {
            let id = c.string(0);
            let Some(root) = inst.secondary(&id) else {
                return Err(c.error(format!("can only run on a device: the data `{id}` is not available here")));
            };
            let (wanted, key, query) = (c.string(1), c.string(2), c.string(3));
            let found = inst.children(root).iter().find(|item| {
                inst.children(**item).iter().any(|f| inst.name(*f) == key && inst.string_value(*f) == query)
            });
            let value = found
                .and_then(|item| inst.children(*item).iter().find(|f| inst.name(**f) == wanted))
                .map(|f| inst.string_value(*f));
            text(value.unwrap_or_default())
        }
        "digest" | "base64-decode" | "extract-signed" | "jr:itext" => return Err(c.error("can only run on a device")),
        _ => unreachable!("every function with an arity is implemented, `{name}()` is not"),
    })
}

/// ODK `round(x, digits)`: halves go away from zero.
fn round_half_away(x: f64, digits: f64) -> f64 {
    if digits.is_nan() || !x.is_finite() {
        return if digits.is_nan() { f64::NAN } else { x };
    }
    let digits = digits.trunc().clamp(-300.0, 300.0);
    if digits == 0.0 {
        return x.round();
    }
    let factor = 10f64.powf(digits);
    let scaled = x * factor;
    if !scaled.is_finite() {
        return x;
    }
    scaled.round() / factor
}

/// The field a `jr:choice-name` second argument names: `'${field}'` or a path such as `/data/field`.
fn field_of_reference(reference: &str) -> String {
    let r = reference.trim();
    if let Some(inner) = r.strip_prefix("${").and_then(|s| s.strip_suffix('}')) {
        return inner.trim().to_owned();
    }
    r.rsplit('/').next().unwrap_or(r).trim().to_owned()
}

fn checked(value: &Value, inst: &super::tree::Instance) -> bool {
    match value {
        Value::Bool(b) => *b,
        other => other.to_number(inst) > 0.0 || other.to_string(inst).trim() == "true",
    }
}

fn uuid_v4(ev: &mut Evaluator) -> String {
    let (a, b) = (ev.next_random(), ev.next_random());
    let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFFF,
        b >> 48,
        b & 0xFFFF_FFFF_FFFF
    )
}

/// `indexed-repeat(value, repeat1, index1[, repeat2, index2[, repeat3, index3]])`.
fn indexed_repeat(ev: &mut Evaluator, name: &str, args: &[Expr], ctx: Ctx) -> Result<Value, EvalError> {
    if args.len().is_multiple_of(2) {
        return Err(EvalError::new(format!("`{name}()` takes a field followed by pairs of repeat and position")));
    }
    let inst = ev.inst();
    let mut within: Option<NodeId> = None;
    for pair in (1..args.len()).step_by(2) {
        let repeats = uncontextualized(ev, args, pair, ctx)?;
        let index = ev.eval(&args[pair + 1], ctx)?.to_number(inst);
        let candidates: Vec<NodeId> =
            repeats.into_iter().filter(|r| within.is_none_or(|w| inst.is_ancestor_or_self(w, *r))).collect();
        let chosen = if index >= 1.0 && index.is_finite() { candidates.get(index as usize - 1).copied() } else { None };
        match chosen {
            Some(r) => within = Some(r),
            None => return Ok(Value::String(String::new())),
        }
    }
    let values = uncontextualized(ev, args, 0, ctx)?;
    let found = values.into_iter().find(|v| within.is_none_or(|w| inst.is_ancestor_or_self(w, *v)));
    Ok(Value::String(found.map(|n| inst.string_value(n)).unwrap_or_default()))
}

/// A node-set argument where `${field}` means every instance of the field, not
/// the one in the current repeat instance.
fn uncontextualized(ev: &mut Evaluator, args: &[Expr], i: usize, ctx: Ctx) -> Result<Vec<NodeId>, EvalError> {
    if let Expr::Field(name) = &args[i] {
        return ev.resolve_field(name, false);
    }
    match ev.eval(&args[i], ctx)? {
        Value::Nodes(nodes) => Ok(nodes),
        other => Err(EvalError::new(format!(
            "`indexed-repeat()` needs a field or path as argument {}, not {}",
            i + 1,
            other.kind()
        ))),
    }
}

const EARTH_RADIUS_M: f64 = 6_378_100.0;

/// `lat lon [alt acc]` points separated by `;`; on failure the unreadable point.
fn parse_points(text: &str) -> Result<Vec<(f64, f64)>, String> {
    let mut points = Vec::new();
    for raw in text.split(';') {
        let point = raw.trim();
        if point.is_empty() {
            continue;
        }
        let numbers: Vec<f64> = point.split_whitespace().map(parse_xpath_number).collect();
        match numbers.as_slice() {
            [lat, lon, ..]
                if numbers.len() <= 4
                    && numbers.iter().all(|n| n.is_finite())
                    && (-90.0..=90.0).contains(lat)
                    && (-180.0..=180.0).contains(lon) =>
            {
                points.push((lat.to_radians(), lon.to_radians()));
            }
            _ => return Err(point.to_owned()),
        }
    }
    Ok(points)
}

fn path_length(points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .map(|w| {
            let ((lat1, lon1), (lat2, lon2)) = (w[0], w[1]);
            let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
            2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
        })
        .sum()
}

/// Area of a polygon on a sphere (the spherical-excess sum over edges).
fn polygon_area(points: &[(f64, f64)]) -> f64 {
    if points.len() < 3 {
        return 0.0;
    }
    let mut total = 0.0;
    for i in 0..points.len() {
        let (lat1, lon1) = points[i];
        let (lat2, lon2) = points[(i + 1) % points.len()];
        total += (lon2 - lon1) * (2.0 + lat1.sin() + lat2.sin());
    }
    (total * EARTH_RADIUS_M * EARTH_RADIUS_M / 2.0).abs()
}
