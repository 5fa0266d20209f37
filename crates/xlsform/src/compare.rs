//! Structural comparison of two XForms, the way pyxform's own tests compare
//! them: attribute order, whitespace around text, the order of the
//! `<model>`'s children, of translations and their texts, and of the
//! fields inside a choice item do not matter; everything else does.

use crate::xml::{Element, Node, XmlError, parse};

/// One way in which two XForms differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// Where, as a path of element names with their identifying attribute.
    pub at: String,
    pub what: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.what)
    }
}

/// Every difference between the `expected` and `actual` XForm texts.
pub fn compare_xforms(expected: &str, actual: &str) -> Result<Vec<Difference>, XmlError> {
    let mut expected = parse(expected)?;
    let mut actual = parse(actual)?;
    normalise(&mut expected, "");
    normalise(&mut actual, "");
    let mut differences = Vec::new();
    compare(&expected, &actual, &label(&expected), &mut differences);
    Ok(differences)
}

/// Puts the parts whose order does not matter in a canonical order.
fn normalise(element: &mut Element, parent: &str) {
    for node in &mut element.children {
        if let Node::Text(text) = node {
            *text = collapse(text);
        }
    }
    for (_, value) in &mut element.attributes {
        *value = collapse(value);
    }
    element.children.retain(|node| !matches!(node, Node::Text(text) if text.is_empty()));
    element.attributes.sort();
    let name = element.name.clone();
    for node in &mut element.children {
        if let Node::Element(child) = node {
            normalise(child, &name);
        }
    }
    let sort = unordered(element) || (parent == "root" && name == "item");
    if sort {
        element.children.sort_by_key(|node| match node {
            Node::Element(child) => (0, key(child)),
            Node::Text(text) => (1, text.clone()),
        });
    }
}

/// Runs of whitespace count as one space; leading and trailing whitespace
/// does not count.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether the order of an element's children does not matter.
fn unordered(element: &Element) -> bool {
    matches!(element.name.as_str(), "model" | "itext" | "translation" | "text")
}

/// What tells an element apart from its siblings.
fn key(element: &Element) -> String {
    let id = ["id", "nodeset", "ref", "lang", "form"].iter().find_map(|name| element.get(name)).unwrap_or("");
    format!("{}[{id}]", element.name)
}

fn label(element: &Element) -> String {
    let id = ["id", "nodeset", "ref", "lang"].iter().find_map(|name| element.get(name));
    match id {
        Some(id) => format!("{}[{id}]", element.name),
        None => element.name.clone(),
    }
}

fn compare(expected: &Element, actual: &Element, at: &str, out: &mut Vec<Difference>) {
    if expected.name != actual.name {
        out.push(Difference {
            at: at.to_owned(),
            what: format!("expected <{}>, got <{}>", expected.name, actual.name),
        });
        return;
    }
    if expected.attributes != actual.attributes {
        for (name, value) in &expected.attributes {
            match actual.get(name) {
                None => out.push(Difference { at: at.to_owned(), what: format!("missing {name}=\"{value}\"") }),
                Some(other) if other != value => out.push(Difference {
                    at: at.to_owned(),
                    what: format!("{name}: expected \"{value}\", got \"{other}\""),
                }),
                Some(_) => {}
            }
        }
        for (name, value) in &actual.attributes {
            if expected.get(name).is_none() {
                out.push(Difference { at: at.to_owned(), what: format!("unexpected {name}=\"{value}\"") });
            }
        }
    }
    if unordered(expected) {
        compare_keyed(expected, actual, at, out);
        return;
    }
    let before = out.len();
    let mut expected_children = expected.children.iter();
    let mut actual_children = actual.children.iter();
    loop {
        match (expected_children.next(), actual_children.next()) {
            (None, None) => break,
            (Some(Node::Element(a)), Some(Node::Element(b))) => {
                compare(a, b, &format!("{at}/{}", label(a)), out);
            }
            (Some(Node::Text(a)), Some(Node::Text(b))) if a == b => {}
            (Some(a), b) => {
                out.push(Difference {
                    at: at.to_owned(),
                    what: format!("expected {}, got {}", show(Some(a)), show(b)),
                });
                break;
            }
            (None, Some(b)) => {
                out.push(Difference { at: at.to_owned(), what: format!("unexpected {}", show(Some(b))) });
                break;
            }
        }
        if out.len() - before > 20 {
            break;
        }
    }
}

/// Children matched by key (both lists are sorted by key): what is missing,
/// what is extra, and how the matching ones differ.
fn compare_keyed(expected: &Element, actual: &Element, at: &str, out: &mut Vec<Difference>) {
    let mut theirs: Vec<&Element> = expected.elements().collect();
    let mut ours: Vec<&Element> = actual.elements().collect();
    theirs.reverse();
    ours.reverse();
    loop {
        match (theirs.last(), ours.last()) {
            (None, None) => break,
            (Some(a), Some(b)) if key(a) == key(b) => {
                compare(a, b, &format!("{at}/{}", label(a)), out);
                theirs.pop();
                ours.pop();
            }
            (Some(a), Some(b)) if key(a) < key(b) => {
                out.push(Difference { at: at.to_owned(), what: format!("missing <{}>", label(a)) });
                theirs.pop();
            }
            (Some(a), None) => {
                out.push(Difference { at: at.to_owned(), what: format!("missing <{}>", label(a)) });
                theirs.pop();
            }
            (_, Some(b)) => {
                out.push(Difference { at: at.to_owned(), what: format!("unexpected <{}>", label(b)) });
                ours.pop();
            }
        }
    }
    if expected.own_text() != actual.own_text() {
        out.push(Difference {
            at: at.to_owned(),
            what: format!("text: expected \"{}\", got \"{}\"", expected.own_text(), actual.own_text()),
        });
    }
}

fn show(node: Option<&Node>) -> String {
    match node {
        None => "nothing".to_owned(),
        Some(Node::Text(text)) => format!("text \"{text}\""),
        Some(Node::Element(element)) => format!("<{}>", label(element)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_of_model_children_and_attributes_does_not_matter() {
        let a = r#"<h><model><bind nodeset="/a" type="string"/><instance id="x"/></model><body><input ref="/a"/></body></h>"#;
        let b = r#"<h><model><instance id="x"/><bind type="string" nodeset="/a"/></model><body><input ref="/a"/></body></h>"#;
        assert_eq!(compare_xforms(a, b).unwrap(), vec![]);
    }

    #[test]
    fn differences_are_located() {
        let a = r#"<h><body><input ref="/a"><label>A</label></input></body></h>"#;
        let b = r#"<h><body><input ref="/a"><label>B</label></input></body></h>"#;
        let differences = compare_xforms(a, b).unwrap();
        assert_eq!(differences.len(), 1);
        assert_eq!(differences[0].at, "h/body/input[/a]/label");
        let c = r#"<h><body><input ref="/b"/></body></h>"#;
        assert!(!compare_xforms(a, c).unwrap().is_empty());
    }
}
