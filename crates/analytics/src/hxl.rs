//! Humanitarian Exchange Language: the hashtag row under the headers of every table Rumbo
//! publishes, so that other systems read the columns by meaning rather than by name.
//!
//! A table of an indicator has one row per combination of its place and time breakdowns
//! (round, month, country, admin 1, site...) and, when it is broken down by sex or age
//! group, one value column per sex × age group, tagged with HXL attributes
//! (`#affected+arrived+f+children+age0_4`). The tags come from the indicator's declaration
//! (its `hxl` or its id) and the dimensions, never from a form's field names, so they stay
//! the same across form versions.

use std::collections::BTreeMap;

use rumbo_store::analytics::Dim;

use crate::definition::{AGE_GROUPS, IndicatorDef, Kind};
use crate::estimate::Estimate;
use crate::query::Answer;

/// Whether `tag` is a hashtag with attributes: `#name(+attribute)*`, lower-case letters,
/// digits and `_`, each starting with a letter.
pub fn valid(tag: &str) -> bool {
    let word = |w: &str| {
        let mut chars = w.chars();
        chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let Some(rest) = tag.strip_prefix('#') else { return false };
    let mut parts = rest.split('+');
    parts.next().is_some_and(word) && parts.all(word)
}

/// The hashtags of a dimension's code and (when it has one) name columns.
pub fn dim_tags(dim: Dim) -> (&'static str, Option<&'static str>) {
    match dim {
        Dim::Round => ("#date+round+code", Some("#date+round+name")),
        Dim::Day => ("#date", None),
        Dim::Month => ("#date+month", None),
        Dim::Site => ("#loc+code", Some("#loc+name")),
        Dim::Country => ("#country+code", Some("#country+name")),
        Dim::Adm1 => ("#adm1+code", Some("#adm1+name")),
        Dim::Sex => ("#group+sex+code", Some("#group+sex+name")),
        Dim::AgeGroup => ("#group+age+code", None),
        Dim::Nationality => ("#country+nationality+code", Some("#country+nationality+name")),
        Dim::PopulationGroup => ("#group+population+code", Some("#group+population+name")),
        Dim::Direction => ("#meta+direction+code", Some("#meta+direction+name")),
        Dim::Origin => ("#loc+origin+code", Some("#loc+origin+name")),
        Dim::Destination => ("#loc+destination+code", Some("#loc+destination+name")),
    }
}

/// The HXL attributes of a sex: `female` → `+f`, `male` → `+m`, anything else by its code.
pub fn sex_attributes(sex: &str) -> String {
    match sex.to_ascii_lowercase().as_str() {
        "female" | "f" | "woman" | "women" | "girl" => "+f".to_owned(),
        "male" | "m" | "man" | "men" | "boy" => "+m".to_owned(),
        other => format!("+sex_{}", attribute_word(other)),
    }
}

/// The HXL attributes of an age group: the standard `+children`, `+adults` or `+elderly`
/// and the exact band, `+age0_4`, `+age60plus`.
pub fn age_attributes(group: &str) -> String {
    let band: String = group
        .replace('-', "_")
        .replace('+', "plus")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    let lower: Option<u32> = group.split(['-', '+']).next().and_then(|l| l.trim().parse().ok());
    let broad = match lower {
        Some(l) if l >= 60 => "+adults+elderly",
        Some(l) if l >= 18 => "+adults",
        Some(_) => "+children",
        None => "",
    };
    format!("{broad}+age{band}")
}

/// A value usable as an attribute: lower-case letters, digits and `_`.
fn attribute_word(value: &str) -> String {
    let word: String =
        value.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if word.starts_with(|c: char| c.is_ascii_lowercase()) { word } else { format!("x{word}") }
}

/// The hashtag of an indicator's figures.
pub fn base_tag(def: &IndicatorDef) -> String {
    match &def.hxl {
        Some(tag) if valid(tag) => tag.clone(),
        _ => format!("#indicator+value+{}", attribute_word(&def.id)),
    }
}

/// One cell of a published table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    /// Nothing to publish: no data, or suppressed.
    Empty,
}

impl Value {
    /// As written in CSV (numbers without trailing zeros, shares to 4 decimals).
    pub fn to_csv(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
            Value::Number(n) => format!("{:.4}", (n * 10_000.0).round() / 10_000.0),
            Value::Empty => String::new(),
        }
    }
}

/// A table with its header row and its HXL row.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub tags: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// The position of the column tagged `tag`.
    pub fn column(&self, tag: &str) -> Option<usize> {
        self.tags.iter().position(|t| t == tag)
    }
}

/// Names of things in a table: a dimension value's label in the reader's language.
pub trait Labeller {
    fn label(&self, dim: Dim, value: &str) -> String;
}

impl<F: Fn(Dim, &str) -> String> Labeller for F {
    fn label(&self, dim: Dim, value: &str) -> String {
        self(dim, value)
    }
}

/// Lays out an answer as a table: one row per place and time, one column group per sex ×
/// age group. `name` is the indicator's name in the reader's language.
pub fn table(def: &IndicatorDef, name: &str, answer: &Answer, labels: &dyn Labeller) -> Table {
    let pivots: Vec<Dim> = answer.by.iter().copied().filter(|d| matches!(d, Dim::Sex | Dim::AgeGroup)).collect();
    let keys: Vec<Dim> = answer.by.iter().copied().filter(|d| !pivots.contains(d)).collect();
    let mut headers = Vec::new();
    let mut tags = Vec::new();
    for d in &keys {
        let (code, label) = dim_tags(*d);
        headers.push(format!("{} (code)", header(*d)));
        tags.push(code.to_owned());
        if let Some(label) = label {
            headers.push(header(*d).to_owned());
            tags.push(label.to_owned());
        }
    }
    // The value columns: one group per sex × age group present, in a fixed order.
    let value_of = |row: &BTreeMap<String, String>, d: Dim| row.get(d.as_str()).cloned().unwrap_or_default();
    let mut groups: Vec<Vec<String>> =
        answer.rows.iter().map(|r| pivots.iter().map(|d| value_of(&r.keys, *d)).collect()).collect();
    let order = |d: Dim, v: &str| -> (usize, String) {
        match d {
            Dim::AgeGroup => (AGE_GROUPS.iter().position(|(g, _)| *g == v).unwrap_or(AGE_GROUPS.len()), v.to_owned()),
            _ => (0, v.to_owned()),
        }
    };
    groups.sort_by_cached_key(|g| pivots.iter().zip(g).map(|(d, v)| order(*d, v)).collect::<Vec<_>>());
    groups.dedup();
    if groups.is_empty() {
        groups.push(Vec::new());
    }
    let base = base_tag(def);
    let interval = matches!(def.kind, Kind::Proportion | Kind::Mean);
    for group in &groups {
        let mut attributes = String::new();
        let mut suffix = Vec::new();
        for (d, v) in pivots.iter().zip(group) {
            attributes.push_str(&match d {
                Dim::Sex => sex_attributes(v),
                _ => age_attributes(v),
            });
            suffix.push(labels.label(*d, v));
        }
        let title = if suffix.is_empty() { name.to_owned() } else { format!("{name} ({})", suffix.join(", ")) };
        headers.push(title.clone());
        tags.push(format!("{base}{attributes}"));
        if interval {
            headers.push(format!("{title}: 95% CI low"));
            tags.push(format!("{base}{attributes}+ci_low"));
            headers.push(format!("{title}: 95% CI high"));
            tags.push(format!("{base}{attributes}+ci_high"));
        }
        headers.push(format!("{title}: n"));
        tags.push(format!("#meta+n{attributes}"));
    }
    // The rows, by place and time.
    let mut by_key: BTreeMap<Vec<String>, BTreeMap<Vec<String>, Estimate>> = BTreeMap::new();
    for r in &answer.rows {
        let key: Vec<String> = keys.iter().map(|d| value_of(&r.keys, *d)).collect();
        let group: Vec<String> = pivots.iter().map(|d| value_of(&r.keys, *d)).collect();
        by_key.entry(key).or_default().insert(group, r.estimate);
    }
    let rows = by_key
        .into_iter()
        .map(|(key, cells)| {
            let mut row = Vec::with_capacity(headers.len());
            for (d, v) in keys.iter().zip(&key) {
                let code = match d {
                    Dim::Day | Dim::Month => labels.label(*d, v),
                    _ => v.clone(),
                };
                row.push(Value::Text(code));
                if dim_tags(*d).1.is_some() {
                    row.push(Value::Text(labels.label(*d, v)));
                }
            }
            for group in &groups {
                let e = cells.get(group).filter(|e| !e.suppressed);
                let number = |v: Option<f64>| v.map_or(Value::Empty, Value::Number);
                row.push(number(e.and_then(|e| e.value)));
                if interval {
                    row.push(number(e.and_then(|e| e.low)));
                    row.push(number(e.and_then(|e| e.high)));
                }
                row.push(e.map_or(Value::Empty, |e| Value::Number(e.n as f64)));
            }
            row
        })
        .collect();
    Table { headers, tags, rows }
}

/// The header of a dimension's column.
fn header(dim: Dim) -> &'static str {
    match dim {
        Dim::Round => "Round",
        Dim::Day => "Date",
        Dim::Month => "Month",
        Dim::Site => "Site",
        Dim::Country => "Country",
        Dim::Adm1 => "Admin 1",
        Dim::Sex => "Sex",
        Dim::AgeGroup => "Age group",
        Dim::Nationality => "Nationality",
        Dim::PopulationGroup => "Population group",
        Dim::Direction => "Direction",
        Dim::Origin => "Origin",
        Dim::Destination => "Destination",
    }
}

/// Writes a table as CSV: headers, the HXL row, the rows. Cells that a spreadsheet would
/// run as a formula are prefixed with `'`.
pub fn write_csv<W: std::io::Write>(table: &Table, out: W) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&table.headers)?;
    w.write_record(&table.tags)?;
    for row in &table.rows {
        w.write_record(row.iter().map(|v| defuse(&v.to_csv()).into_owned()))?;
    }
    w.flush()
}

/// A text a spreadsheet would not run: one starting with `= + - @` gets a leading `'`.
pub fn defuse(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '@', '\t', '\r']) || (text.starts_with('-') && text.parse::<f64>().is_err()) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Row;

    fn def() -> IndicatorDef {
        toml::from_str(
            r##"
id = "fmr_people"
form = "f"
kind = "sum"
name = { en = "People" }
value = "1"
disaggregations = ["adm1", "sex", "age_group"]
hxl = "#affected+arrived"
"##,
        )
        .unwrap()
    }

    fn row(keys: &[(&str, &str)], value: f64) -> Row {
        Row {
            keys: keys.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            estimate: Estimate { value: Some(value), n: 3, ..Estimate::default() },
        }
    }

    #[test]
    fn tags_are_checked() {
        assert!(valid("#affected+f+children"));
        assert!(valid("#adm1+code"));
        assert!(!valid("affected"));
        assert!(!valid("#Affected"));
        assert!(!valid("#affected+"));
        assert!(!valid("#affected+f children"));
        assert!(!valid("#1st"));
    }

    #[test]
    fn sex_and_age_become_attributes_of_the_value_columns() {
        let answer = Answer {
            indicator: "fmr_people".into(),
            kind: Kind::Sum,
            by: vec![Dim::Adm1, Dim::Sex, Dim::AgeGroup],
            weighted: false,
            cube: "strata".into(),
            rows: vec![
                row(&[("adm1", "CO05"), ("sex", "female"), ("age_group", "0-4")], 10.0),
                row(&[("adm1", "CO05"), ("sex", "male"), ("age_group", "60+")], 7.0),
                row(&[("adm1", "CO08"), ("sex", "female"), ("age_group", "0-4")], 4.0),
            ],
            suppressed_rows: 0,
            total: Estimate::default(),
        };
        let labels = |d: Dim, v: &str| format!("{d}:{v}");
        let t = table(&def(), "People", &answer, &labels);
        assert_eq!(
            t.tags,
            [
                "#adm1+code",
                "#adm1+name",
                "#affected+arrived+f+children+age0_4",
                "#meta+n+f+children+age0_4",
                "#affected+arrived+m+adults+elderly+age60plus",
                "#meta+n+m+adults+elderly+age60plus"
            ]
        );
        assert_eq!(t.headers.len(), t.tags.len());
        assert!(t.tags.iter().all(|tag| valid(tag)), "{:?}", t.tags);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0][..3], [Value::Text("CO05".into()), Value::Text("adm1:CO05".into()), Value::Number(10.0)]);
        // CO08 has no men over 60: an empty cell, not a zero.
        assert_eq!(t.rows[1][4], Value::Empty);
        let mut csv = Vec::new();
        write_csv(&t, &mut csv).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert!(text.lines().nth(1).unwrap().starts_with("#adm1+code,#adm1+name,#affected+arrived+f+children+age0_4"));
    }

    #[test]
    fn an_indicator_without_a_tag_gets_one_from_its_id() {
        let mut d = def();
        d.hxl = None;
        assert_eq!(base_tag(&d), "#indicator+value+fmr_people");
        assert!(valid(&base_tag(&d)));
        assert_eq!(defuse("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(defuse("-3.5"), "-3.5");
    }
}
