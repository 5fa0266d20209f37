//! The documents an expression is evaluated against: the primary instance (the
//! submission being checked) and the secondary instances (choice lists,
//! external data), all held in one arena.

use std::borrow::Cow;
use std::sync::OnceLock;

/// One node of an [`Instance`]: an element, an attribute or the document node
/// above a root element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(u32);

impl NodeId {
    fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Document,
    Element,
    Attribute,
}

/// Where a name or a value sits in the instance's text arena.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    start: usize,
    len: usize,
}

impl Span {
    fn end(self) -> usize {
        self.start + self.len
    }
}

// Names and values live in two strings shared by all nodes rather than in a
// `String` each: a submission of a few hundred answers then costs a handful of
// allocations instead of one or two per element, and copying or dropping an
// instance is a few `memcpy`s.
#[derive(Clone, Debug)]
struct Node {
    kind: NodeKind,
    /// [`NameKey`] of the name: most names that differ differ here.
    key: NameKey,
    name: Span,
    value: Span,
    parent: Option<NodeId>,
    children: Vec<NodeId>,
    attributes: Vec<NodeId>,
}

/// A summary of a name (its length, first and last eight bytes) compared
/// before the name itself: finding `age` among a group's sixty children then
/// costs sixty integer comparisons and one string comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NameKey(u64);

impl NameKey {
    pub(crate) fn of(name: &str) -> Self {
        let bytes = name.as_bytes();
        let n = bytes.len().min(8);
        let mut head = [0u8; 8];
        head[..n].copy_from_slice(&bytes[..n]);
        let mut tail = [0u8; 8];
        tail[8 - n..].copy_from_slice(&bytes[bytes.len() - n..]);
        NameKey(
            u64::from_le_bytes(head)
                ^ u64::from_le_bytes(tail).rotate_left(29)
                ^ (bytes.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        )
    }
}

/// Replaced values are left in the arena until this much of it is unused (and
/// at least half of it); then the arena is rewritten.
const GARBAGE_LIMIT: usize = 64 << 10;

/// The primary instance and any number of secondary instances (`instance('id')`).
///
/// Every root element sits below a document node, as in XML, so that `/data/age`
/// and `instance('places')/root/item` both start above the root element. Repeat
/// instances are simply several children with the same name under one parent,
/// added in the order they appear in the submission.
#[derive(Clone, Debug)]
pub struct Instance {
    nodes: Vec<Node>,
    names: String,
    values: String,
    /// Bytes of `values` no node refers to any more.
    garbage: usize,
    secondaries: Vec<(String, NodeId)>,
    /// Pre-order position of every node, computed on first use after a change.
    order: OnceLock<Vec<u32>>,
}

impl Instance {
    /// A primary instance whose root element is named `root_name` (e.g. `data`).
    pub fn new(root_name: &str) -> Self {
        Self::with_capacity(root_name, 2, 0)
    }

    /// Like [`Instance::new`], with room for `nodes` nodes and `text` bytes of
    /// names and values before it needs to grow.
    pub fn with_capacity(root_name: &str, nodes: usize, text: usize) -> Self {
        let mut instance = Instance {
            nodes: Vec::with_capacity(nodes.max(2)),
            names: String::with_capacity(text / 2),
            values: String::with_capacity(text / 2),
            garbage: 0,
            secondaries: Vec::new(),
            order: OnceLock::new(),
        };
        let document = instance.push(NodeKind::Document, "", None);
        instance.add_child(document, root_name);
        instance
    }

    /// Makes room for `nodes` more nodes and `text` more bytes of names and values.
    pub fn reserve(&mut self, nodes: usize, text: usize) {
        self.nodes.reserve(nodes);
        self.names.reserve(text / 2);
        self.values.reserve(text / 2);
    }

    /// How many nodes the instance holds (documents, elements and attributes).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Never true: there is always the primary document and its root element.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Removes every node added after the instance had `len` nodes (see
    /// [`Instance::len`]), keeping the memory for reuse. Values set since on
    /// the nodes that stay, and secondary instances added since, are kept.
    pub fn truncate(&mut self, len: usize) {
        let len = len.max(2);
        if len >= self.nodes.len() {
            return;
        }
        let boundary = NodeId(len as u32);
        // Children and attributes are appended in the order nodes are made, so
        // the removed ones are at the end of each list.
        for index in len..self.nodes.len() {
            if let Some(parent) = self.nodes[index].parent
                && parent.index() < len
            {
                let parent = &mut self.nodes[parent.index()];
                let keep = parent.children.partition_point(|child| *child < boundary);
                parent.children.truncate(keep);
                let keep = parent.attributes.partition_point(|attribute| *attribute < boundary);
                parent.attributes.truncate(keep);
            }
        }
        self.secondaries.retain(|(_, document)| *document < boundary);
        self.nodes.truncate(len);
        let names_end = self.nodes.iter().map(|node| node.name.end()).max().unwrap_or(0);
        self.names.truncate(names_end);
        let values_end = self.nodes.iter().map(|node| node.value.end()).max().unwrap_or(0);
        let used: usize = self.nodes.iter().map(|node| node.value.len).sum();
        self.values.truncate(values_end);
        self.garbage = values_end - used;
        self.order = OnceLock::new();
    }

    fn push(&mut self, kind: NodeKind, name: &str, parent: Option<NodeId>) -> NodeId {
        let id = NodeId(u32::try_from(self.nodes.len()).expect("an instance holds fewer than 2^32 nodes"));
        let span = if name.is_empty() { Span::default() } else { Span { start: self.names.len(), len: name.len() } };
        self.names.push_str(name);
        self.nodes.push(Node {
            kind,
            key: NameKey::of(name),
            name: span,
            value: Span::default(),
            parent,
            children: Vec::new(),
            attributes: Vec::new(),
        });
        if self.order.get().is_some() {
            self.order = OnceLock::new();
        }
        id
    }

    fn node(&self, node: NodeId) -> &Node {
        &self.nodes[node.index()]
    }

    /// The root element of the primary instance.
    pub fn root(&self) -> NodeId {
        self.node(self.primary_document()).children[0]
    }

    /// The document node above the primary root element: where `/` starts.
    pub fn primary_document(&self) -> NodeId {
        NodeId(0)
    }

    /// Appends an element as the last child of `parent`.
    pub fn add_child(&mut self, parent: NodeId, name: &str) -> NodeId {
        let child = self.push(NodeKind::Element, name, Some(parent));
        self.nodes[parent.index()].children.push(child);
        child
    }

    /// Sets (or replaces) attribute `name` of element `node`.
    pub fn add_attribute(&mut self, node: NodeId, name: &str, value: impl AsRef<str>) -> NodeId {
        if let Some(existing) = self.node(node).attributes.iter().copied().find(|a| self.name(*a) == name) {
            self.set_value(existing, value);
            return existing;
        }
        let attribute = self.push(NodeKind::Attribute, name, Some(node));
        self.set_value(attribute, value);
        self.nodes[node.index()].attributes.push(attribute);
        attribute
    }

    /// The value of attribute `name` of `node`, if it has one.
    pub fn attribute(&self, node: NodeId, name: &str) -> Option<&str> {
        self.node(node).attributes.iter().find(|a| self.name(**a) == name).map(|a| self.value(*a))
    }

    /// Sets the text of `node` (an answer, or a choice's `name`/`label`).
    pub fn set_value(&mut self, node: NodeId, value: impl AsRef<str>) {
        let value = value.as_ref();
        let old = self.nodes[node.index()].value;
        if old.len > 0 && old.end() == self.values.len() {
            // The last value set: overwrite it in place.
            self.values.truncate(old.start);
        } else {
            self.garbage += old.len;
        }
        // An empty value points at the start, so that no span ever lies past the end of the arena.
        let span = if value.is_empty() { Span::default() } else { Span { start: self.values.len(), len: value.len() } };
        self.values.push_str(value);
        self.nodes[node.index()].value = span;
        if self.garbage > GARBAGE_LIMIT && self.garbage > self.values.len() / 2 {
            self.compact_values();
        }
    }

    fn compact_values(&mut self) {
        let mut values = String::with_capacity(self.values.len() - self.garbage);
        for node in &mut self.nodes {
            if node.value.len > 0 {
                let start = values.len();
                values.push_str(&self.values[node.value.start..node.value.end()]);
                node.value.start = start;
            }
        }
        self.values = values;
        self.garbage = 0;
    }

    /// The node's own text, without that of its children.
    pub fn value(&self, node: NodeId) -> &str {
        let span = self.node(node).value;
        &self.values[span.start..span.end()]
    }

    /// True when the node's name is `name`, whose key is `key`.
    pub(crate) fn has_name(&self, node: NodeId, name: &str, key: NameKey) -> bool {
        self.node(node).key == key && self.name(node) == name
    }

    /// The element or attribute name; empty for a document node.
    pub fn name(&self, node: NodeId) -> &str {
        let span = self.node(node).name;
        &self.names[span.start..span.end()]
    }

    pub fn parent(&self, node: NodeId) -> Option<NodeId> {
        self.node(node).parent
    }

    /// Child elements, in document order.
    pub fn children(&self, node: NodeId) -> &[NodeId] {
        &self.node(node).children
    }

    pub fn attributes(&self, node: NodeId) -> &[NodeId] {
        &self.node(node).attributes
    }

    pub(crate) fn kind(&self, node: NodeId) -> NodeKind {
        self.node(node).kind
    }

    /// Adds a secondary instance reachable as `instance('id')` and returns its
    /// root element (to which the items are added). Adding the same id again
    /// makes `instance('id')` refer to the newer one.
    pub fn add_secondary(&mut self, id: &str, root_name: &str) -> NodeId {
        let document = self.push(NodeKind::Document, "", None);
        self.secondaries.push((id.to_owned(), document));
        self.add_child(document, root_name)
    }

    /// The root element of secondary instance `id`.
    pub fn secondary(&self, id: &str) -> Option<NodeId> {
        self.secondary_document(id).and_then(|d| self.children(d).first().copied())
    }

    /// The document node of secondary instance `id`: what `instance('id')` returns.
    pub fn secondary_document(&self, id: &str) -> Option<NodeId> {
        self.secondaries.iter().rev().find(|(name, _)| name == id).map(|(_, d)| *d)
    }

    /// The document node at the top of the instance holding `node`.
    pub fn document_of(&self, mut node: NodeId) -> NodeId {
        while let Some(parent) = self.parent(node) {
            node = parent;
        }
        node
    }

    /// XPath string-value: the node's text followed by the text of all its
    /// descendant elements in document order (a group's answers run together).
    pub fn string_value(&self, node: NodeId) -> String {
        self.string_value_ref(node).into_owned()
    }

    /// [`Instance::string_value`], borrowed when the node has no children
    /// (an answer), which is nearly always.
    pub fn string_value_ref(&self, node: NodeId) -> Cow<'_, str> {
        if self.node(node).children.is_empty() {
            return Cow::Borrowed(self.value(node));
        }
        let mut out = String::new();
        let mut stack = vec![node];
        while let Some(next) = stack.pop() {
            out.push_str(self.value(next));
            stack.extend(self.node(next).children.iter().rev());
        }
        Cow::Owned(out)
    }

    /// The elements reached from `from` by following child names, e.g.
    /// `find(root, &["member", "age"])` gives the age of every member.
    pub fn find(&self, from: NodeId, path: &[&str]) -> Vec<NodeId> {
        let mut nodes = vec![from];
        for name in path {
            nodes = nodes.iter().flat_map(|n| self.children(*n)).copied().filter(|c| self.name(*c) == *name).collect();
        }
        nodes
    }

    /// Every descendant element of `node`, in document order.
    pub(crate) fn descendants(&self, node: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack: Vec<NodeId> = self.children(node).iter().rev().copied().collect();
        while let Some(next) = stack.pop() {
            out.push(next);
            stack.extend(self.children(next).iter().rev());
        }
        out
    }

    fn order(&self) -> &[u32] {
        self.order.get_or_init(|| {
            let mut order = vec![0; self.nodes.len()];
            let mut next = 0;
            let documents =
                std::iter::once(self.primary_document()).chain(self.secondaries.iter().map(|(_, document)| *document));
            // Documents not listed (replaced secondaries) still get a position, after the rest.
            let mut stack: Vec<NodeId> = Vec::new();
            let mut visit = |root: NodeId, order: &mut Vec<u32>| {
                stack.push(root);
                while let Some(n) = stack.pop() {
                    order[n.index()] = next;
                    next += 1;
                    for a in self.attributes(n) {
                        order[a.index()] = next;
                        next += 1;
                    }
                    stack.extend(self.children(n).iter().rev());
                }
            };
            let mut seen = vec![false; self.nodes.len()];
            for document in documents {
                if !seen[document.index()] {
                    seen[document.index()] = true;
                    visit(document, &mut order);
                }
            }
            for (i, node) in self.nodes.iter().enumerate() {
                if node.kind == NodeKind::Document && !seen[i] {
                    visit(NodeId(i as u32), &mut order);
                }
            }
            order
        })
    }

    /// Sorts `nodes` into document order and removes duplicates, as XPath node-sets require.
    pub fn sort_document_order(&self, nodes: &mut Vec<NodeId>) {
        let order = self.order();
        nodes.sort_unstable_by_key(|n| order[n.index()]);
        nodes.dedup();
    }

    /// True when `ancestor` is `node` or one of its ancestors.
    pub(crate) fn is_ancestor_or_self(&self, ancestor: NodeId, mut node: NodeId) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match self.parent(node) {
                Some(parent) => node = parent,
                None => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_share_one_arena() {
        let mut inst = Instance::new("data");
        let root = inst.root();
        let a = inst.add_child(root, "a");
        let b = inst.add_child(root, "b");
        inst.set_value(a, "first");
        inst.set_value(b, "");
        // Replacing the last value set, then emptying it, leaves `b` readable.
        inst.set_value(a, "second");
        inst.set_value(a, "");
        assert_eq!((inst.value(a), inst.value(b)), ("", ""));
        inst.set_value(b, "bee");
        inst.set_value(a, "ay");
        assert_eq!((inst.value(a), inst.value(b)), ("ay", "bee"));
        // Many replacements: the arena is rewritten now and then, values stay.
        for i in 0..20_000 {
            inst.set_value(if i % 2 == 0 { a } else { b }, format!("value {i} {}", "x".repeat(i % 50)));
        }
        assert_eq!(inst.value(a), format!("value 19998 {}", "x".repeat(48)));
        assert_eq!(inst.value(b), format!("value 19999 {}", "x".repeat(49)));
        assert!(inst.values.len() < 200_000);
        assert_eq!(inst.string_value(root), format!("{}{}", inst.value(a), inst.value(b)));
        assert!(matches!(inst.string_value_ref(a), Cow::Borrowed(_)));
    }

    #[test]
    fn truncating_gives_back_the_earlier_instance() {
        let mut inst = Instance::new("data");
        let list = inst.add_secondary("list", "root");
        let item = inst.add_child(list, "item");
        inst.set_value(item, "kept");
        let len = inst.len();
        let root = inst.root();
        let a = inst.add_child(root, "a");
        inst.set_value(a, "gone");
        inst.add_attribute(item, "id", "7");
        inst.add_secondary("later", "root");
        let mut nodes = vec![a, item];
        inst.sort_document_order(&mut nodes);
        inst.truncate(len);
        assert_eq!(inst.len(), len);
        assert!(inst.children(root).is_empty());
        assert!(inst.attributes(item).is_empty());
        assert_eq!(inst.value(item), "kept");
        assert_eq!(inst.secondary("later"), None);
        assert_eq!(inst.secondary("list"), Some(list));
        let b = inst.add_child(root, "b");
        inst.set_value(b, "new");
        assert_eq!(inst.find(root, &["b"]), vec![b]);
        assert_eq!(inst.string_value(inst.primary_document()), "new");
        let mut nodes = vec![item, b];
        inst.sort_document_order(&mut nodes);
        assert_eq!(nodes, vec![b, item]);
    }

    #[test]
    fn builds_a_tree_and_keeps_document_order() {
        let mut inst = Instance::new("data");
        let root = inst.root();
        let a = inst.add_child(root, "a");
        let b = inst.add_child(root, "b");
        // Added after `b` but belongs before it in the document.
        let a1 = inst.add_child(a, "x");
        inst.set_value(a1, "1");
        let b1 = inst.add_child(b, "x");
        inst.set_value(b1, "2");
        let mut nodes = vec![b1, a1, b, a, a1];
        inst.sort_document_order(&mut nodes);
        assert_eq!(nodes, vec![a, a1, b, b1]);
        assert_eq!(inst.string_value(root), "12");
        assert_eq!(inst.find(root, &["b", "x"]), vec![b1]);
        assert_eq!(inst.name(inst.parent(a1).unwrap()), "a");
        let list = inst.add_secondary("places", "root");
        assert_eq!(inst.secondary("places"), Some(list));
        assert_eq!(inst.document_of(list), inst.secondary_document("places").unwrap());
        let attr = inst.add_attribute(a, "id", "7");
        assert_eq!(inst.attribute(a, "id"), Some("7"));
        let mut nodes = vec![a1, attr, a];
        inst.sort_document_order(&mut nodes);
        assert_eq!(nodes, vec![a, attr, a1]);
    }
}
