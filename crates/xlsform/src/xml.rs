//! A small XML tree: enough to write XForms and to compare two of them.

use std::fmt::Write as _;

use quick_xml::events::Event;

/// An element with its attributes (in writing order) and children.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    pub fn new(name: impl Into<String>) -> Self {
        Element { name: name.into(), attributes: Vec::new(), children: Vec::new() }
    }

    /// Adds an attribute (builder style).
    pub fn attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.set(name, value);
        self
    }

    /// Sets an attribute, replacing one of the same name.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.attributes.iter_mut().find(|(key, _)| key == name) {
            Some((_, old)) => *old = value,
            None => self.attributes.push((name.to_owned(), value)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    pub fn child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    pub fn push(&mut self, child: Element) {
        self.children.push(Node::Element(child));
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Node::Text(text.into()));
        self
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|node| match node {
            Node::Element(element) => Some(element),
            Node::Text(_) => None,
        })
    }

    /// The concatenated text directly inside this element.
    pub fn own_text(&self) -> String {
        self.children
            .iter()
            .filter_map(|node| match node {
                Node::Text(text) => Some(text.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }

    /// Writes the element as XML text, with an XML declaration.
    pub fn to_document(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\"?>\n");
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let indent = "  ".repeat(depth);
        let _ = write!(out, "{indent}<{}", self.name);
        for (name, value) in &self.attributes {
            let _ = write!(out, " {name}=\"{}\"", escape(value, true));
        }
        if self.children.is_empty() {
            out.push_str("/>\n");
            return;
        }
        out.push('>');
        let mixed = self.children.iter().any(|node| matches!(node, Node::Text(_)));
        if mixed {
            // Text content: write inline so whitespace is not added to it.
            for node in &self.children {
                match node {
                    Node::Text(text) => out.push_str(&escape(text, false)),
                    Node::Element(element) => {
                        let mut inner = String::new();
                        element.write(&mut inner, 0);
                        out.push_str(inner.trim_end());
                    }
                }
            }
        } else {
            out.push('\n');
            for element in self.elements() {
                element.write(out, depth + 1);
            }
            out.push_str(&indent);
        }
        let _ = writeln!(out, "</{}>", self.name);
    }
}

/// Escapes text for XML content or (with `attribute`) a quoted attribute.
pub fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' if attribute => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            _ => out.push(c),
        }
    }
    out
}

/// Why a document could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XmlError(pub String);

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for XmlError {}

/// How deep elements may nest before a document is refused.
pub const MAX_DEPTH: usize = 200;

/// Parses a document into a tree. Refuses DOCTYPE declarations (and so
/// every entity but XML's five), processing instructions other than the
/// XML declaration are skipped, whitespace-only text is dropped.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = vec![Element::new("#document")];
    loop {
        let event = reader.read_event().map_err(|error| XmlError(format!("not well-formed XML: {error}")))?;
        match event {
            Event::Start(start) => {
                if stack.len() > MAX_DEPTH {
                    return Err(XmlError(format!("elements nest deeper than {MAX_DEPTH} levels")));
                }
                stack.push(element_of(&start)?);
            }
            Event::Empty(start) => {
                let element = element_of(&start)?;
                stack.last_mut().expect("the document").push(element);
            }
            Event::End(_) => {
                let element = stack.pop().expect("balanced by quick-xml");
                let Some(parent) = stack.last_mut() else {
                    return Err(XmlError("unbalanced end tag".to_owned()));
                };
                parent.push(element);
            }
            Event::Text(text) => {
                let text = text.xml_content().map_err(|error| XmlError(format!("bad text: {error}")))?;
                let parent = stack.last_mut().expect("the document");
                match parent.children.last_mut() {
                    Some(Node::Text(existing)) => existing.push_str(&text),
                    _ if text.trim().is_empty() => {}
                    _ => parent.children.push(Node::Text(text.into_owned())),
                }
            }
            Event::GeneralRef(reference) => {
                let name = String::from_utf8_lossy(&reference).into_owned();
                let resolved = match name.as_str() {
                    "amp" => "&".to_owned(),
                    "lt" => "<".to_owned(),
                    "gt" => ">".to_owned(),
                    "quot" => "\"".to_owned(),
                    "apos" => "'".to_owned(),
                    _ => match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => return Err(XmlError(format!("unknown entity `&{name};`: entities are not allowed"))),
                    },
                };
                let parent = stack.last_mut().expect("the document");
                match parent.children.last_mut() {
                    Some(Node::Text(text)) => text.push_str(&resolved),
                    _ => parent.children.push(Node::Text(resolved)),
                }
            }
            Event::CData(data) => {
                let text = String::from_utf8_lossy(&data).into_owned();
                stack.last_mut().expect("the document").children.push(Node::Text(text));
            }
            Event::DocType(_) => {
                return Err(XmlError("a DOCTYPE is not allowed (it can declare entities)".to_owned()));
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if stack.len() != 1 {
        return Err(XmlError("the document ends before its elements are closed".to_owned()));
    }
    let document = stack.pop().expect("the document");
    let mut roots = document.children.into_iter().filter_map(|node| match node {
        Node::Element(element) => Some(element),
        Node::Text(_) => None,
    });
    let root = roots.next().ok_or_else(|| XmlError("the document has no element".to_owned()))?;
    Ok(root)
}

fn element_of(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, XmlError> {
    let mut element = Element::new(String::from_utf8_lossy(start.name().as_ref()).into_owned());
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| XmlError(format!("bad attribute: {error}")))?;
        let value = attribute
            .unescape_value()
            .map_err(|error| XmlError(format!("bad attribute value (entities are not allowed): {error}")))?;
        element.attributes.push((String::from_utf8_lossy(attribute.key.as_ref()).into_owned(), value.into_owned()));
    }
    Ok(element)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_escapes() {
        let tree = Element::new("a").attr("x", "1 < 2 \"q\"").child(Element::new("b").text("R&D <ok>"));
        let text = tree.to_document();
        assert!(text.contains("x=\"1 &lt; 2 &quot;q&quot;\""));
        assert_eq!(parse(&text).unwrap(), tree);
    }

    #[test]
    fn refuses_doctype_and_unknown_entities() {
        let bomb = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>";
        assert!(parse(bomb).unwrap_err().0.contains("DOCTYPE"));
        assert!(parse("<x>&a;</x>").is_err());
        assert_eq!(parse("<x>&#233;&amp;</x>").unwrap().own_text(), "é&");
        assert!(parse("<x><y></x>").is_err());
        assert!(parse("").is_err());
        let deep = "<a>".repeat(MAX_DEPTH + 5);
        assert!(parse(&deep).is_err());
    }
}
