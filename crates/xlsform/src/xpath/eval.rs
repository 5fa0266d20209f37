//! Evaluating an expression against an [`Instance`].

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};

use super::ast::{Axis, BinaryOp, Expr, NodeTest, Step};
use super::functions;
use super::tree::{Instance, NodeId, NodeKind};
use super::value::{Value, compare};

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
    let mut evaluator = Evaluator::new(env, context);
    evaluator.eval(expr, Ctx { node: context, position: 1, size: 1 })
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
    pub regexes: HashMap<String, regex::Regex>,
}

impl<'e, 'a> Evaluator<'e, 'a> {
    fn new(env: &'e Env<'a>, current: NodeId) -> Self {
        let seed = env.now.timestamp_millis() as u64 ^ 0x9E37_79B9_7F4A_7C15;
        Evaluator { env, current, rng: seed, regexes: HashMap::new() }
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
                Ok(Value::Nodes(self.steps(vec![start], &path.steps)?))
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
                BinaryOp::And => Value::Bool(acc.to_bool(inst) && self.eval(right, ctx)?.to_bool(inst)),
                BinaryOp::Or => Value::Bool(acc.to_bool(inst) || self.eval(right, ctx)?.to_bool(inst)),
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
                    let r = self.eval(right, ctx)?;
                    Value::Bool(compare(op, &acc, &r, inst))
                }
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                    let a = acc.to_number(inst);
                    let b = self.eval(right, ctx)?.to_number(inst);
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
            let mut next = Vec::new();
            for node in &nodes {
                let mut candidates: Vec<NodeId> =
                    axis_nodes(inst, *node, step.axis).into_iter().filter(|n| matches_test(inst, *n, step)).collect();
                if step.test == NodeTest::Text && step.axis == Axis::Child && !inst.value(*node).is_empty() {
                    // The tree has no text nodes: an element's `text()` is the element itself.
                    candidates.push(*node);
                }
                for predicate in &step.predicates {
                    candidates = self.filter(candidates, predicate)?;
                }
                next.extend(candidates);
            }
            inst.sort_document_order(&mut next);
            nodes = next;
        }
        Ok(nodes)
    }

    /// Keeps the nodes for which the predicate holds (a number means "the node at that position").
    #[allow(clippy::float_cmp, reason = "XPath compares a number predicate with the position exactly")]
    pub(crate) fn filter(&mut self, nodes: Vec<NodeId>, predicate: &Expr) -> Result<Vec<NodeId>, EvalError> {
        let size = nodes.len();
        let mut kept = Vec::new();
        for (i, node) in nodes.into_iter().enumerate() {
            let value = self.eval(predicate, Ctx { node, position: i + 1, size })?;
            let keep = match value {
                Value::Number(n) => n == (i + 1) as f64,
                other => other.to_bool(self.inst()),
            };
            if keep {
                kept.push(node);
            }
        }
        Ok(kept)
    }

    /// The nodes `${name}` stands for. With `contextualize`, the part of the
    /// field's path it shares with `current()` (the repeat instances both are
    /// in) is taken from `current()`'s own ancestors, as JavaRosa does.
    pub(crate) fn resolve_field(&self, name: &str, contextualize: bool) -> Result<Vec<NodeId>, EvalError> {
        let path = self.env.fields.get(name).ok_or_else(|| EvalError::new(format!("no field named `{name}`")))?;
        let inst = self.inst();
        let mut nodes = vec![inst.primary_document()];
        let mut rest: &[String] = path;
        if contextualize && !path.is_empty() {
            let mut chain = Vec::new();
            let mut node = Some(self.current);
            while let Some(n) = node {
                if inst.kind(n) == NodeKind::Document {
                    break;
                }
                chain.push(n);
                node = inst.parent(n);
            }
            if node == Some(inst.primary_document()) {
                chain.reverse();
                // The field's own element is never shared: `${repeat}` inside the repeat means all of them.
                let shared =
                    chain.iter().zip(&path[..path.len() - 1]).take_while(|(n, p)| inst.name(**n) == *p).count();
                if shared > 0 {
                    nodes = vec![chain[shared - 1]];
                    rest = &path[shared..];
                }
            }
        }
        for step in rest {
            nodes = nodes
                .iter()
                .flat_map(|n| inst.children(*n))
                .copied()
                .filter(|c| inst.name(*c) == step.as_str())
                .collect();
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

fn axis_nodes(inst: &Instance, node: NodeId, axis: Axis) -> Vec<NodeId> {
    let siblings = || inst.parent(node).filter(|_| inst.kind(node) == NodeKind::Element).map(|p| inst.children(p));
    match axis {
        Axis::Child => inst.children(node).to_vec(),
        Axis::Parent => inst.parent(node).into_iter().collect(),
        Axis::SelfNode => vec![node],
        Axis::Attribute => inst.attributes(node).to_vec(),
        Axis::Descendant => inst.descendants(node),
        Axis::DescendantOrSelf => {
            let mut all = vec![node];
            all.extend(inst.descendants(node));
            all
        }
        Axis::Ancestor | Axis::AncestorOrSelf => {
            let mut all = if axis == Axis::AncestorOrSelf { vec![node] } else { Vec::new() };
            let mut n = inst.parent(node);
            while let Some(p) = n {
                all.push(p);
                n = inst.parent(p);
            }
            all
        }
        Axis::FollowingSibling => {
            siblings().map(|s| s.iter().skip_while(|n| **n != node).skip(1).copied().collect()).unwrap_or_default()
        }
        Axis::PrecedingSibling => siblings()
            .map(|s| {
                let before = s.iter().position(|n| *n == node).unwrap_or(0);
                s[..before].iter().rev().copied().collect()
            })
            .unwrap_or_default(),
    }
}

fn matches_test(inst: &Instance, node: NodeId, step: &Step) -> bool {
    let principal = if step.axis == Axis::Attribute { NodeKind::Attribute } else { NodeKind::Element };
    match &step.test {
        NodeTest::Node => true,
        NodeTest::Any => inst.kind(node) == principal,
        NodeTest::Name(name) => inst.kind(node) == principal && inst.name(node) == name,
        NodeTest::Text => false,
    }
}
