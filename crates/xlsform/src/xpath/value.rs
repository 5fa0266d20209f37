//! The values expressions produce, and XPath 1.0's conversions between them
//! (extended, as ODK does, so that date and dateTime text counts as a number of days).

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::ast::BinaryOp;
use super::dates::{self, Temporal};
use super::tree::{Instance, NodeId};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Number(f64),
    String(String),
    /// A node-set, in document order without duplicates (except after `randomize()`).
    Nodes(Vec<NodeId>),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
}

/// XPath 1.0 `number()` of text: optional `-`, digits with an optional `.`,
/// surrounded by whitespace; anything else is NaN.
pub(crate) fn parse_xpath_number(s: &str) -> f64 {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let valid = !digits.is_empty()
        && digits != "."
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|b| *b == b'.').count() <= 1;
    if valid { t.parse().unwrap_or(f64::NAN) } else { f64::NAN }
}

/// `number()` of an answer: a number, else the day number of a date or dateTime, else NaN.
pub(crate) fn text_to_number(s: &str) -> f64 {
    let n = parse_xpath_number(s);
    if n.is_nan() {
        return dates::parse_temporal(s).map_or(f64::NAN, Temporal::days);
    }
    n
}

/// XPath 1.0 `string()` of a number: no exponent, integers without `.0`, the
/// shortest text that reads back as the same number.
pub(crate) fn format_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_owned()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity".to_owned() } else { "-Infinity".to_owned() }
    } else if n == 0.0 {
        "0".to_owned()
    } else {
        // Rust's `Display` for f64 is shortest round-trip and never uses an exponent.
        format!("{n}")
    }
}

impl Value {
    pub fn to_bool(&self, instance: &Instance) -> bool {
        let _ = instance;
        match self {
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::String(s) => !s.is_empty(),
            Value::Nodes(nodes) => !nodes.is_empty(),
            Value::Date(_) | Value::DateTime(_) => true,
        }
    }

    pub fn to_number(&self, instance: &Instance) -> f64 {
        match self {
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Number(n) => *n,
            Value::String(s) => text_to_number(s),
            Value::Nodes(nodes) => nodes.first().map_or(f64::NAN, |n| text_to_number(&instance.string_value_ref(*n))),
            Value::Date(d) => dates::date_days(*d),
            Value::DateTime(dt) => dates::date_time_days(*dt),
        }
    }

    /// XPath 1.0 `string()`; dates as `YYYY-MM-DD`, dateTimes as `YYYY-MM-DDThh:mm:ss.sss+hh:mm`.
    pub fn to_string(&self, instance: &Instance) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => format_number(*n),
            Value::String(s) => s.clone(),
            Value::Nodes(nodes) => nodes.first().map(|n| instance.string_value(*n)).unwrap_or_default(),
            Value::Date(d) => dates::date_to_string(*d),
            Value::DateTime(dt) => dates::date_time_to_string(*dt),
        }
    }

    /// [`Value::to_string`], borrowed from the value or the instance where it can be.
    pub(crate) fn to_text<'v>(&'v self, instance: &'v Instance) -> Cow<'v, str> {
        match self {
            Value::String(s) => Cow::Borrowed(s),
            Value::Nodes(nodes) => nodes.first().map_or(Cow::Borrowed(""), |n| instance.string_value_ref(*n)),
            other => Cow::Owned(other.to_string(instance)),
        }
    }

    /// A short description for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Bool(_) => "true/false",
            Value::Number(_) => "a number",
            Value::String(_) => "text",
            Value::Nodes(_) => "a set of nodes",
            Value::Date(_) => "a date",
            Value::DateTime(_) => "a date and time",
        }
    }
}

/// A single value being compared, text borrowed where it can be (from an
/// answer or a literal): comparing `${x} = 'yes'` copies nothing.
#[derive(Debug, Clone)]
pub(crate) enum Atom<'v> {
    Bool(bool),
    Number(f64),
    Text(Cow<'v, str>),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
}

impl<'v> Atom<'v> {
    pub(crate) fn text(text: &'v str) -> Self {
        Atom::Text(Cow::Borrowed(text))
    }

    fn of(value: &'v Value) -> Self {
        match value {
            Value::Bool(b) => Atom::Bool(*b),
            Value::Number(n) => Atom::Number(*n),
            Value::String(s) => Atom::text(s),
            // Callers turn node-sets into one atom per node first.
            Value::Nodes(nodes) => Atom::Bool(!nodes.is_empty()),
            Value::Date(d) => Atom::Date(*d),
            Value::DateTime(dt) => Atom::DateTime(*dt),
        }
    }

    fn to_bool(&self) -> bool {
        match self {
            Atom::Bool(b) => *b,
            Atom::Number(n) => *n != 0.0 && !n.is_nan(),
            Atom::Text(s) => !s.is_empty(),
            Atom::Date(_) | Atom::DateTime(_) => true,
        }
    }

    fn to_number(&self) -> f64 {
        match self {
            Atom::Bool(b) => f64::from(u8::from(*b)),
            Atom::Number(n) => *n,
            Atom::Text(s) => text_to_number(s),
            Atom::Date(d) => dates::date_days(*d),
            Atom::DateTime(dt) => dates::date_time_days(*dt),
        }
    }

    fn to_text(&self) -> Cow<'_, str> {
        match self {
            Atom::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Atom::Number(n) => Cow::Owned(format_number(*n)),
            Atom::Text(s) => Cow::Borrowed(s),
            Atom::Date(d) => Cow::Owned(dates::date_to_string(*d)),
            Atom::DateTime(dt) => Cow::Owned(dates::date_time_to_string(*dt)),
        }
    }

    fn to_temporal(&self) -> Option<Temporal> {
        match self {
            Atom::Date(d) => Some(Temporal::Date(*d)),
            Atom::DateTime(dt) => Some(Temporal::DateTime(*dt)),
            Atom::Text(s) => dates::parse_temporal(s),
            Atom::Number(n) => dates::date_from_days(*n).map(Temporal::Date),
            Atom::Bool(_) => None,
        }
    }

    fn is_temporal(&self) -> bool {
        matches!(self, Atom::Date(_) | Atom::DateTime(_))
    }
}

/// Compares two values that are not node-sets.
#[allow(clippy::float_cmp, reason = "XPath `=` on numbers is exact IEEE equality")]
fn compare_atoms(op: BinaryOp, left: &Atom, right: &Atom) -> bool {
    match op {
        BinaryOp::Eq | BinaryOp::Ne => {
            let equal = if matches!(left, Atom::Bool(_)) || matches!(right, Atom::Bool(_)) {
                left.to_bool() == right.to_bool()
            } else if matches!(left, Atom::Number(_)) || matches!(right, Atom::Number(_)) {
                left.to_number() == right.to_number()
            } else if left.is_temporal() || right.is_temporal() {
                match (left.to_temporal(), right.to_temporal()) {
                    (Some(a), Some(b)) => a.days() == b.days(),
                    _ => left.to_text() == right.to_text(),
                }
            } else {
                left.to_text() == right.to_text()
            };
            equal == (op == BinaryOp::Eq)
        }
        _ => {
            let (a, b) = (left.to_number(), right.to_number());
            match op {
                BinaryOp::Lt => a < b,
                BinaryOp::Le => a <= b,
                BinaryOp::Gt => a > b,
                _ => a >= b,
            }
        }
    }
}

/// One side of a comparison: a node-set or a single value.
#[derive(Debug, Clone)]
pub(crate) enum Side<'v> {
    Nodes(&'v [NodeId]),
    Atom(Atom<'v>),
}

impl<'v> Side<'v> {
    pub(crate) fn of(value: &'v Value) -> Self {
        match value {
            Value::Nodes(nodes) => Side::Nodes(nodes),
            other => Side::Atom(Atom::of(other)),
        }
    }
}

/// XPath 1.0 §3.4 comparison: node-sets compare existentially, through their string-values.
#[cfg(test)]
pub(crate) fn compare(op: BinaryOp, left: &Value, right: &Value, inst: &Instance) -> bool {
    compare_sides(op, Side::of(left), Side::of(right), inst)
}

/// XPath 1.0 §3.4 comparison, on sides that may borrow their text: node-sets
/// compare existentially, through their string-values.
pub(crate) fn compare_sides(op: BinaryOp, left: Side, right: Side, inst: &Instance) -> bool {
    let text = |node: &NodeId| Atom::Text(inst.string_value_ref(*node));
    match (left, right) {
        (Side::Nodes(nodes), right @ Side::Atom(Atom::Bool(_))) => {
            compare_sides(op, Side::Atom(Atom::Bool(!nodes.is_empty())), right, inst)
        }
        (left @ Side::Atom(Atom::Bool(_)), Side::Nodes(nodes)) => {
            compare_sides(op, left, Side::Atom(Atom::Bool(!nodes.is_empty())), inst)
        }
        (Side::Nodes(a), Side::Nodes(b)) => a.iter().any(|x| b.iter().any(|y| compare_atoms(op, &text(x), &text(y)))),
        (Side::Nodes(a), Side::Atom(right)) => a.iter().any(|x| compare_atoms(op, &text(x), &right)),
        (Side::Atom(left), Side::Nodes(b)) => b.iter().any(|y| compare_atoms(op, &left, &text(y))),
        (Side::Atom(left), Side::Atom(right)) => compare_atoms(op, &left, &right),
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_like_xpath() {
        for (n, s) in [
            (3.0, "3"),
            (-0.0, "0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1000000000000000000000"),
            (1e-7, "0.0000001"),
            (-2.5, "-2.5"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(format_number(n), s);
        }
    }

    #[test]
    fn reads_numbers_like_xpath() {
        for (s, n) in [(" 12 ", 12.0), ("-1.5", -1.5), (".5", 0.5), ("5.", 5.0)] {
            assert_eq!(parse_xpath_number(s), n, "{s}");
        }
        for s in ["", " ", "1e3", "+1", "0x10", "1.2.3", ".", "-", "1 2", "inf", "NaN"] {
            assert!(parse_xpath_number(s).is_nan(), "{s}");
        }
        assert_eq!(text_to_number("1970-01-03"), 2.0);
    }

    #[test]
    fn compares_atoms_by_xpath_rules() {
        let inst = Instance::new("data");
        let s = |x: &str| Value::String(x.into());
        assert!(compare(BinaryOp::Eq, &s("1.0"), &Value::Number(1.0), &inst));
        assert!(!compare(BinaryOp::Eq, &s("1.0"), &s("1"), &inst));
        assert!(compare(BinaryOp::Eq, &s("false"), &Value::Bool(true), &inst));
        assert!(compare(BinaryOp::Lt, &s("2024-01-01"), &s("2024-01-02"), &inst));
        let date = Value::Date(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
        assert!(compare(BinaryOp::Eq, &date, &s("2024-01-01"), &inst));
        assert!(compare(BinaryOp::Ne, &date, &s("2024-01-02"), &inst));
        assert!(!compare(BinaryOp::Eq, &date, &s("soon"), &inst));
        assert!(!compare(BinaryOp::Lt, &s(""), &Value::Number(1.0), &inst));
        assert!(!compare(BinaryOp::Eq, &Value::Number(f64::NAN), &Value::Number(f64::NAN), &inst));
        assert!(compare(BinaryOp::Ne, &Value::Number(f64::NAN), &Value::Number(f64::NAN), &inst));
    }
}
