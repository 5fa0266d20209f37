//! Evaluating an expression against an [`Instance`].

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};

use super::ast::{Axis, BinaryOp, Expr, NodeTest, Step};
use super::functions;
use super::tree::{Instance, NameKey, NodeId, NodeKind};
use super::value::{Atom, Side, Value, compare_sides};

/// Looks up the label of a choice: `(field name, choice value) -> label`.
pub type ChoiceLabels<'a> = &'a dyn Fn(&str, &str) -> Option<String>;

/// Everything an expression can see besides its context node.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub instance: &'a Instance,
    /// Field name -> element names from the primary root down, e.g. `"age"` ->
    /// `["data", "member", "age"]`.
    pub fields: &'a HashMap<String, Vec<String>>,
    /// The moment `now()` and `today()` return (and the seed of `random()`).
    pub now: DateTime<FixedOffset>,
    /// Labels for `jr:choice-name(value, '${field}')`; without it the function returns `""`.
    pub choice_labels: Option<ChoiceLabels<'a>>,
}

impl<'a> Env<'a> {
    pub fn new(instance: &'a Instance, fields: &'a HashMap<String, Vec<String>>, now: DateTime<FixedOffset>) -> Self {
        Env { instance, fields, now, choice_labels: None }
    }

    pub fn with_choice_labels(self, labels: ChoiceLabels<'a>) -> Self {
        Env { choice_labels: Some(labels), ..self }
    }
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("fields", &self.fields)
            .field("now", &self.now)
            .field("choice_labels", &self.choice_labels.is_some())
            .finish_non_exhaustive()
    }
}

/// Why an expression could not be evaluated, worded for the person who wrote the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub message: String,
}

impl EvalError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        EvalError { message: message.into() }
    }
}

/// Evaluates `expr` with `context` as both the context node and `current()`:
/// for a question's `relevant` or `constraint`, the question's own node.
pub fn evaluate(expr: &Expr, env: &Env, context: NodeId) -> Result<Value, EvalError> {
    // The buffers and compiled patterns of the last evaluation on this thread
    // are reused; an evaluation started from inside another (by a
    // `choice_labels` callback) simply starts with empty ones.
    let scratch = SCRATCH.with(RefCell::take);
    let mut evaluator = Evaluator::new(env, context, scratch);
    let result = evaluator.eval(expr, Ctx { node: context, position: 1, size: 1 });
    let scratch = evaluator.scratch;
    SCRATCH.with(|cell| cell.replace(scratch));
    result
}

/// Buffers kept from one evaluation to the next, so that the common
/// expressions (`${x} = 'yes'`, `. < 120`, `selected(${x}, 'a')`) allocate
/// nothing once a thread has evaluated a few.
#[derive(Default)]
pub(crate) struct Scratch {
    node_sets: Vec<Vec<NodeId>>,
    value_lists: Vec<Vec<Value>>,
    /// Compiled `regex()` patterns.
    pub regexes: HashMap<String, regex::Regex>,
}

/// How many spare buffers of each kind are kept, and the largest kept.
const SPARE_BUFFERS: usize = 32;
const SPARE_CAPACITY: usize = 4096;
/// How many compiled patterns a thread keeps (all are dropped when more are needed).
pub(crate) const CACHED_PATTERNS: usize = 64;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// The XPath context: node, position and size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx {
    pub node: NodeId,
    pub position: usize,
    pub size: usize,
}

pub(crate) struct Evaluator<'e, 'a> {
    pub env: &'e Env<'a>,
    /// What `current()` returns: the context of the outermost expression.
    pub current: NodeId,
    pub rng: u64,
    pub scratch: Scratch,
}

impl<'e, 'a> Evaluator<'e, 'a> {
    fn new(env: &'e Env<'a>, current: NodeId, scratch: Scratch) -> Self {
        let seed = env.now.timestamp_millis() as u64 ^ 0x9E37_79B9_7F4A_7C15;
        Evaluator { env, current, rng: seed, scratch }
    }

    /// An empty node list, from the spare ones when there is one.
    pub(crate) fn node_set(&mut self) -> Vec<NodeId> {
        self.scratch.node_sets.pop().unwrap_or_default()
    }

    /// Gives a node list back for reuse.
    pub(crate) fn recycle_nodes(&mut self, mut nodes: Vec<NodeId>) {
        if self.scratch.node_sets.len() < SPARE_BUFFERS && nodes.capacity() <= SPARE_CAPACITY {
            nodes.clear();
            self.scratch.node_sets.push(nodes);
        }
    }

    /// Gives the node list of a value back for reuse.
    pub(crate) fn recycle(&mut self, value: Value) {
        if let Value::Nodes(nodes) = value {
            self.recycle_nodes(nodes);
        }
    }

    pub(crate) fn value_list(&mut self) -> Vec<Value> {
        self.scratch.value_lists.pop().unwrap_or_default()
    }

    pub(crate) fn recycle_values(&mut self, mut values: Vec<Value>) {
        for value in values.drain(..) {
            self.recycle(value);
        }
        if self.scratch.value_lists.len() < SPARE_BUFFERS && values.capacity() <= SPARE_CAPACITY {
            self.scratch.value_lists.push(values);
        }
    }

    pub(crate) fn inst(&self) -> &'a Instance {
        self.env.instance
    }

    pub(crate) fn eval(&mut self, expr: &Expr, ctx: Ctx) -> Result<Value, EvalError> {
        match expr {
            Expr::Number(n) => Ok(Value::Number(*n)),
            Expr::Literal(s) => Ok(Value::String(s.clone())),
            Expr::Field(name) => Ok(Value::Nodes(self.resolve_field(name, true)?)),
            Expr::Path(path) => {
                let start = if path.absolute { self.inst().primary_document() } else { ctx.node };
                let mut nodes = self.node_set();
                nodes.push(start);
                Ok(Value::Nodes(self.steps(nodes, &path.steps)?))
            }
            Expr::Filter { primary, predicates, steps } => {
                let value = self.eval(primary, ctx)?;
                let Value::Nodes(mut nodes) = value else {
                    return Err(EvalError::new(format!(
                        "`{expr}`: `[...]` and `/` can only follow a set of nodes, but `{primary}` is {}",
                        value.kind()
                    )));
                };
                for predicate in predicates {
                    nodes = self.filter(nodes, predicate)?;
                }
                Ok(Value::Nodes(self.steps(nodes, steps)?))
            }
            Expr::Negate(inner) => Ok(Value::Number(-self.eval(inner, ctx)?.to_number(self.inst()))),
            Expr::Binary { .. } => self.binary(expr, ctx),
            Expr::Call { name, args } => functions::call(self, name, args, ctx),
        }
    }

    /// Evaluates a left-associative chain iteratively (chains can be long).
    fn binary(&mut self, expr: &Expr, ctx: Ctx) -> Result<Value, EvalError> {
        let mut spine: Vec<(BinaryOp, &Expr)> = Vec::new();
        let mut leftmost = expr;
        while let Expr::Binary { op, left, right } = leftmost {
            spine.push((*op, right));
            leftmost = left;
        }
        let mut acc = self.eval(leftmost, ctx)?;
        let inst = self.inst();
        for (op, right) in spine.into_iter().rev() {
            acc = match op {
                BinaryOp::And | BinaryOp::Or => {
                    let left = acc.to_bool(inst);
                    self.recycle(acc);
                    // `and` stops at the first false operand, `or` at the first true one.
                    let result = if left == (op == BinaryOp::And) {
                        let r = self.eval(right, ctx)?;
                        let result = r.to_bool(inst);
                        self.recycle(r);
                        result
                    } else {
                        left
                    };
                    Value::Bool(result)
                }
                BinaryOp::Union => {
                    let r = self.eval(right, ctx)?;
                    match (acc, r) {
                        (Value::Nodes(mut a), Value::Nodes(b)) => {
                            a.extend(b);
                            inst.sort_document_order(&mut a);
                            Value::Nodes(a)
                        }
                        (a, b) => {
                            let wrong = if matches!(a, Value::Nodes(_)) { b } else { a };
                            return Err(EvalError::new(format!(
                                "`|` can only join sets of nodes, not {}",
                                wrong.kind()
                            )));
                        }
                    }
                }
                BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                    // A literal operand is compared as it stands, without a copy.
                    let result = match right {
                        Expr::Literal(text) => compare_sides(op, Side::of(&acc), Side::Atom(Atom::text(text)), inst),
                        Expr::Number(n) => compare_sides(op, Side::of(&acc), Side::Atom(Atom::Number(*n)), inst),
                        _ => {
                            let r = self.eval(right, ctx)?;
                            let result = compare_sides(op, Side::of(&acc), Side::of(&r), inst);
                            self.recycle(r);
                            result
                        }
                    };
                    self.recycle(acc);
                    Value::Bool(result)
                }
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                    let a = acc.to_number(inst);
                    self.recycle(acc);
                    let r = self.eval(right, ctx)?;
                    let b = r.to_number(inst);
                    self.recycle(r);
                    Value::Number(match op {
                        BinaryOp::Add => a + b,
                        BinaryOp::Sub => a - b,
                        BinaryOp::Mul => a * b,
                        BinaryOp::Div => a / b,
                        _ => a % b,
                    })
                }
            };
        }
        Ok(acc)
    }

    /// Applies location steps to a set of starting nodes.
    pub(crate) fn steps(&mut self, mut nodes: Vec<NodeId>, steps: &[Step]) -> Result<Vec<NodeId>, EvalError> {
        let inst = self.inst();
        for step in steps {
            let mut next = self.node_set();
            for &node in &nodes {
                let from = next.len();
                push_axis_matches(inst, node, step, &mut next);
                if step.test == NodeTest::Text && step.axis == Axis::Child && !inst.value(node).is_empty() {
                    // The tree has no text nodes: an element's `text()` is the element itself.
                    next.push(node);
                }
                if !step.predicates.is_empty() {
                    let mut candidates = self.node_set();
                    candidates.extend(next.drain(from..));
                    for predicate in &step.predicates {
                        candidates = self.filter(candidates, predicate)?;
                    }
                    next.extend_from_slice(&candidates);
                    self.recycle_nodes(candidates);
                }
            }
            // From a single node these axes give distinct nodes in document order already.
            let ordered = next.len() <= 1
                || (nodes.len() == 1
                    && matches!(
                        step.axis,
                        Axis::Child
                            | Axis::Attribute
                            | Axis::SelfNode
                            | Axis::Descendant
                            | Axis::DescendantOrSelf
                            | Axis::FollowingSibling
                    ));
            if !ordered {
                inst.sort_document_order(&mut next);
            }
            self.recycle_nodes(std::mem::replace(&mut nodes, next));
        }
        Ok(nodes)
    }

    /// Keeps the nodes for which the predicate holds (a number means "the node at that position").
    #[allow(clippy::float_cmp, reason = "XPath compares a number predicate with the position exactly")]
    pub(crate) fn filter(&mut self, nodes: Vec<NodeId>, predicate: &Expr) -> Result<Vec<NodeId>, EvalError> {
        let size = nodes.len();
        let mut kept = self.node_set();
        for (i, &node) in nodes.iter().enumerate() {
            let value = self.eval(predicate, Ctx { node, position: i + 1, size })?;
            let keep = match &value {
                Value::Number(n) => *n == (i + 1) as f64,
                other => other.to_bool(self.inst()),
            };
            self.recycle(value);
            if keep {
                kept.push(node);
            }
        }
        self.recycle_nodes(nodes);
        Ok(kept)
    }

    /// The nodes `${name}` stands for. With `contextualize`, the part of the
    /// field's path it shares with `current()` (the repeat instances both are
    /// in) is taken from `current()`'s own ancestors, as JavaRosa does.
    pub(crate) fn resolve_field(&mut self, name: &str, contextualize: bool) -> Result<Vec<NodeId>, EvalError> {
        let path = self.env.fields.get(name).ok_or_else(|| EvalError::new(format!("no field named `{name}`")))?;
        let inst = self.inst();
        let mut nodes = self.node_set();
        nodes.push(inst.primary_document());
        let mut rest: &[String] = path;
        if contextualize && !path.is_empty() {
            // `current()` and its ancestors up to (not including) the document node, innermost first.
            let mut chain = self.node_set();
            let mut node = Some(self.current);
            while let Some(n) = node {
                if inst.kind(n) == NodeKind::Document {
                    break;
                }
                chain.push(n);
                node = inst.parent(n);
            }
            if node == Some(inst.primary_document()) {
                // The field's own element is never shared: `${repeat}` inside the repeat means all of them.
                let shared = chain
                    .iter()
                    .rev()
                    .zip(&path[..path.len() - 1])
                    .take_while(|(n, p)| inst.name(**n) == p.as_str())
                    .count();
                if shared > 0 {
                    nodes[0] = chain[chain.len() - shared];
                    rest = &path[shared..];
                }
            }
            self.recycle_nodes(chain);
        }
        for step in rest {
            let key = NameKey::of(step);
            let mut next = self.node_set();
            for &n in &nodes {
                next.extend(inst.children(n).iter().copied().filter(|c| inst.has_name(*c, step, key)));
            }
            self.recycle_nodes(std::mem::replace(&mut nodes, next));
        }
        Ok(nodes)
    }

    /// splitmix64, seeded from `Env::now`: reproducible in tests, different per moment.
    pub(crate) fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Appends the nodes along `step.axis` from `node` that pass `step.test`, in
/// the axis's own order (nearest first for the reverse axes).
fn push_axis_matches(inst: &Instance, node: NodeId, step: &Step, out: &mut Vec<NodeId>) {
    let key = if let NodeTest::Name(name) = &step.test { NameKey::of(name) } else { NameKey::of("") };
    let mut push = |n: NodeId| {
        if matches_test(inst, n, step, key) {
            out.push(n);
        }
    };
    let siblings = || inst.parent(node).filter(|_| inst.kind(node) == NodeKind::Element).map(|p| inst.children(p));
    match step.axis {
        Axis::Child => inst.children(node).iter().copied().for_each(push),
        Axis::Parent => inst.parent(node).into_iter().for_each(push),
        Axis::SelfNode => push(node),
        Axis::Attribute => inst.attributes(node).iter().copied().for_each(push),
        Axis::Descendant => inst.descendants(node).into_iter().for_each(push),
        Axis::DescendantOrSelf => {
            push(node);
            inst.descendants(node).into_iter().for_each(push);
        }
        Axis::Ancestor | Axis::AncestorOrSelf => {
            if step.axis == Axis::AncestorOrSelf {
                push(node);
            }
            let mut n = inst.parent(node);
            while let Some(p) = n {
                push(p);
                n = inst.parent(p);
            }
        }
        Axis::FollowingSibling => {
            if let Some(s) = siblings() {
                s.iter().skip_while(|n| **n != node).skip(1).copied().for_each(push);
            }
        }
        Axis::PrecedingSibling => {
            if let Some(s) = siblings() {
                let before = s.iter().position(|n| *n == node).unwrap_or(0);
                s[..before].iter().rev().copied().for_each(push);
            }
        }
    }
}

fn matches_test(inst: &Instance, node: NodeId, step: &Step, key: NameKey) -> bool {
    let principal = if step.axis == Axis::Attribute { NodeKind::Attribute } else { NodeKind::Element };
    match &step.test {
        NodeTest::Node => true,
        NodeTest::Any => inst.kind(node) == principal,
        NodeTest::Name(name) => inst.kind(node) == principal && inst.has_name(node, name, key),
        NodeTest::Text => false,
    }
}
