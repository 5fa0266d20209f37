//! Between the two shapes of a submission: the OpenRosa XML document and the JSON record.

use std::fmt::Write as _;

use rumbo_xlsform::{Field, Form, Kind, QuestionType, Validated};
use serde_json::{Map, Value};

/// The form id and version an XML submission's root element names, read from its first
/// element without parsing the rest. Documents with a DOCTYPE are refused here already.
pub fn root_form_id(xml: &str) -> Result<(String, Option<String>), String> {
    let mut rest = xml.trim_start_matches('\u{feff}').trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("<?") {
            rest = after.split_once("?>").ok_or("the XML declaration is not closed")?.1.trim_start();
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.split_once("-->").ok_or("a comment is not closed")?.1.trim_start();
        } else if rest.starts_with("<!") {
            return Err("the document has a DOCTYPE or entity declaration, which submissions may not carry".into());
        } else {
            break;
        }
    }
    let tag = rest.strip_prefix('<').ok_or("the submission is not an XML document")?;
    let end = tag.find('>').ok_or("the root element is not closed")?;
    let tag = &tag[..end];
    let attr = |name: &str| -> Option<String> {
        let mut search = tag;
        while let Some(at) = search.find(name) {
            let before = search[..at].chars().last();
            let after = search[at + name.len()..].trim_start();
            search = &search[at + name.len()..];
            if !before.is_some_and(char::is_whitespace) {
                continue;
            }
            let Some(value) = after.strip_prefix('=') else { continue };
            let value = value.trim_start();
            let quote = value.chars().next()?;
            if quote != '"' && quote != '\'' {
                return None;
            }
            let value = &value[1..];
            let close = value.find(quote)?;
            return Some(unescape(&value[..close]));
        }
        None
    };
    let id = attr("id")
        .filter(|i| !i.is_empty())
        .ok_or("the root element has no id attribute: it does not say which form it answers")?;
    Ok((id, attr("version")))
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// Escapes text for XML and HTML (element content and quoted attributes).
pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// A form id as one URL path segment.
pub fn url_segment(id: &str) -> String {
    let mut out = String::new();
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// An answer by field name: at the top of the record, or one group down (and in `meta`).
pub fn answer<'a>(record: &'a Value, name: &str) -> Option<&'a Value> {
    let map = record.as_object()?;
    if let Some(v) = map.get(name) {
        return Some(v);
    }
    map.values().filter_map(Value::as_object).find_map(|group| group.get(name))
}

/// The OpenRosa XML document of a checked JSON submission, in the form's order.
pub fn to_xml(form: &Form, version: &str, validated: &Validated) -> String {
    let mut out = String::with_capacity(1024);
    out.push('<');
    out.push_str(&form.root);
    out.push_str(" id=\"");
    escape(&form.id, &mut out);
    out.push('"');
    if !version.is_empty() {
        out.push_str(" version=\"");
        escape(version, &mut out);
        out.push('"');
    }
    out.push('>');
    let empty = Map::new();
    let record = validated.record.as_object().unwrap_or(&empty);
    write_fields(&form.fields, record, &mut out);
    // The meta block, from the record or from the ids found in it.
    if !form.fields.iter().any(|f| f.name == "meta") {
        out.push_str("<meta>");
        let meta = record.get("meta").and_then(Value::as_object);
        let mut wrote_id = false;
        if let Some(meta) = meta {
            for (k, v) in meta {
                wrote_id |= k == "instanceID";
                write_value(k, v, None, &mut out);
            }
        }
        if !wrote_id && let Some(id) = &validated.instance_id {
            write_value("instanceID", &Value::String(id.clone()), None, &mut out);
        }
        if let (Some(old), false) = (&validated.deprecated_id, meta.is_some_and(|m| m.contains_key("deprecatedID"))) {
            write_value("deprecatedID", &Value::String(old.clone()), None, &mut out);
        }
        out.push_str("</meta>");
    }
    let _ = write!(out, "</{}>", form.root);
    out
}

fn write_fields(fields: &[Field], record: &Map<String, Value>, out: &mut String) {
    for field in fields {
        let Some(value) = record.get(&field.name) else {
            // Not relevant (left out of the record): an empty element keeps the shape.
            if matches!(field.kind, Some(Kind::Question(_))) {
                let _ = write!(out, "<{}/>", field.name);
            }
            continue;
        };
        match field.kind {
            Some(Kind::Group) => {
                let _ = write!(out, "<{}>", field.name);
                write_fields(&field.children, value.as_object().unwrap_or(&Map::new()), out);
                let _ = write!(out, "</{}>", field.name);
            }
            Some(Kind::Repeat) => {
                for entry in value.as_array().into_iter().flatten() {
                    let _ = write!(out, "<{}>", field.name);
                    write_fields(&field.children, entry.as_object().unwrap_or(&Map::new()), out);
                    let _ = write!(out, "</{}>", field.name);
                }
            }
            Some(Kind::Question(q)) => write_value(&field.name, value, Some(q), out),
            None => {}
        }
    }
}

fn write_value(name: &str, value: &Value, question: Option<QuestionType>, out: &mut String) {
    // Names come from the form, or (inside `meta`) from the submission: only XML names are
    // written, so that no key can end an element or start another.
    let mut chars = name.chars();
    let xml_name = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !xml_name {
        return;
    }
    let _ = write!(out, "<{name}>");
    match value {
        Value::Null => {}
        Value::String(s) => escape(s, out),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Array(items) => {
            let points = matches!(question, Some(QuestionType::Geotrace | QuestionType::Geoshape));
            let parts: Vec<String> = items.iter().map(scalar_text).collect();
            escape(&parts.join(if points { ";" } else { " " }), out);
        }
        Value::Object(map) if map.contains_key("latitude") => escape(&scalar_text(value), out),
        Value::Object(map) => {
            for (k, v) in map {
                write_value(k, v, None, out);
            }
        }
    }
    let _ = write!(out, "</{name}>");
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Object(point) => ["latitude", "longitude", "altitude", "accuracy"]
            .iter()
            .map_while(|k| point.get(*k).filter(|v| !v.is_null()).map(scalar_text))
            .collect::<Vec<_>>()
            .join(" "),
        Value::Null | Value::Array(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_names_form_and_version() {
        let xml =
            "\u{feff}<?xml version=\"1.0\"?>\n<!-- c --><data xmlns:jr=\"x\" id=\"fms\" version='2026'><a/></data>";
        assert_eq!(root_form_id(xml).unwrap(), ("fms".into(), Some("2026".into())));
        assert_eq!(root_form_id("<data xid=\"no\" id=\"a&amp;b\">").unwrap(), ("a&b".into(), None));
        assert!(root_form_id("<!DOCTYPE x [<!ENTITY e \"y\">]><data id=\"x\"/>").unwrap_err().contains("DOCTYPE"));
        assert!(root_form_id("<data version=\"1\">").unwrap_err().contains("no id"));
        assert!(root_form_id("not xml").is_err());
    }

    #[test]
    fn keys_that_are_not_xml_names_are_not_written() {
        let mut out = String::new();
        write_value("a></meta><evil/><meta", &Value::String("1".into()), None, &mut out);
        write_value("ok", &serde_json::json!({ "x y": 1, "z": "<b>" }), None, &mut out);
        assert_eq!(out, "<ok><z>&lt;b&gt;</z></ok>");
    }

    #[test]
    fn answers_are_found_at_the_top_or_one_group_down() {
        let record = serde_json::json!({ "site": "A", "g": { "country": "COL" }, "meta": { "instanceID": "uuid:1" } });
        assert_eq!(answer(&record, "site"), Some(&Value::String("A".into())));
        assert_eq!(answer(&record, "country"), Some(&Value::String("COL".into())));
        assert_eq!(answer(&record, "instanceID"), Some(&Value::String("uuid:1".into())));
        assert_eq!(answer(&record, "nothing"), None);
    }
}
