//! The parsed form of an expression, and its canonical printed form.

use std::fmt::{self, Display, Formatter, Write as _};

/// An XLSForm expression (a `relevant`, `constraint`, `calculation`,
/// `choice_filter`...), parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Number(f64),
    Literal(String),
    /// `${name}`: a reference to an XLSForm field by name.
    Field(String),
    /// A location path: `/data/a/b`, `.`, `..`, `../x`, `x/y`, `@id`, with predicates.
    Path(LocationPath),
    /// A primary expression followed by predicates and/or a path:
    /// `instance('id')/root/item[name = ../x]/label`, `current()/../x`, `(expr)[1]`.
    Filter {
        primary: Box<Expr>,
        predicates: Vec<Expr>,
        steps: Vec<Step>,
    },
    Negate(Box<Expr>),
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// A function call; the name keeps its prefix (`jr:choice-name`).
    Call {
        name: String,
        args: Vec<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Union,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LocationPath {
    /// Starts at the primary instance's document node (`/...`).
    pub absolute: bool,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub axis: Axis,
    pub test: NodeTest,
    pub predicates: Vec<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    Child,
    Parent,
    SelfNode,
    Attribute,
    Descendant,
    /// What `//` abbreviates (`/descendant-or-self::node()/`).
    DescendantOrSelf,
    Ancestor,
    AncestorOrSelf,
    FollowingSibling,
    PrecedingSibling,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NodeTest {
    /// An element (or attribute) name, possibly with a prefix.
    Name(String),
    /// `*`
    Any,
    /// `node()`
    Node,
    /// `text()`
    Text,
}

impl BinaryOp {
    /// How tightly the operator binds; higher binds tighter.
    pub(crate) fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq | BinaryOp::Ne => 3,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 6,
            BinaryOp::Union => 8,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "div",
            BinaryOp::Mod => "mod",
            BinaryOp::Union => "|",
        }
    }
}

impl Axis {
    pub fn name(self) -> &'static str {
        match self {
            Axis::Child => "child",
            Axis::Parent => "parent",
            Axis::SelfNode => "self",
            Axis::Attribute => "attribute",
            Axis::Descendant => "descendant",
            Axis::DescendantOrSelf => "descendant-or-self",
            Axis::Ancestor => "ancestor",
            Axis::AncestorOrSelf => "ancestor-or-self",
            Axis::FollowingSibling => "following-sibling",
            Axis::PrecedingSibling => "preceding-sibling",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Axis> {
        Some(match name {
            "child" => Axis::Child,
            "parent" => Axis::Parent,
            "self" => Axis::SelfNode,
            "attribute" => Axis::Attribute,
            "descendant" => Axis::Descendant,
            "descendant-or-self" => Axis::DescendantOrSelf,
            "ancestor" => Axis::Ancestor,
            "ancestor-or-self" => Axis::AncestorOrSelf,
            "following-sibling" => Axis::FollowingSibling,
            "preceding-sibling" => Axis::PrecedingSibling,
            _ => return None,
        })
    }
}

impl Expr {
    /// Every `${name}` the expression refers to, in order of first appearance.
    pub fn fields(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Field(name) = e
                && !out.contains(&name.as_str())
            {
                out.push(name);
            }
        });
        out
    }

    /// Every function the expression calls, in order of first appearance.
    pub fn calls(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Call { name, .. } = e
                && !out.contains(&name.as_str())
            {
                out.push(name);
            }
        });
        out
    }

    /// Visits every sub-expression in source order, without recursion (long
    /// chains like `a + b + c + ...` nest deeply on the left).
    pub fn walk<'e>(&'e self, visit: &mut impl FnMut(&'e Expr)) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            visit(e);
            let steps_predicates = |steps: &'e [Step]| steps.iter().flat_map(|s| s.predicates.iter());
            let mut children: Vec<&'e Expr> = Vec::new();
            match e {
                Expr::Number(_) | Expr::Literal(_) | Expr::Field(_) => {}
                Expr::Path(path) => children.extend(steps_predicates(&path.steps)),
                Expr::Filter { primary, predicates, steps } => {
                    children.push(primary);
                    children.extend(predicates);
                    children.extend(steps_predicates(steps));
                }
                Expr::Negate(inner) => children.push(inner),
                Expr::Binary { left, right, .. } => {
                    children.push(left);
                    children.push(right);
                }
                Expr::Call { args, .. } => children.extend(args),
            }
            stack.extend(children.into_iter().rev());
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Binary { op, .. } => op.precedence(),
            Expr::Negate(_) => 7,
            Expr::Number(n) if !n.is_finite() || n.is_sign_negative() && *n != 0.0 => 0,
            _ => 9,
        }
    }
}

fn write_number(f: &mut Formatter<'_>, n: f64) -> fmt::Result {
    if n.is_nan() {
        f.write_str("(0 div 0)")
    } else if n.is_infinite() {
        f.write_str(if n > 0.0 { "(1 div 0)" } else { "(-1 div 0)" })
    } else if n == 0.0 {
        f.write_str("0")
    } else if n < 0.0 {
        write!(f, "(-{})", -n)
    } else {
        write!(f, "{n}")
    }
}

fn write_literal(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    if !s.contains('\'') {
        write!(f, "'{s}'")
    } else if !s.contains('"') {
        write!(f, "\"{s}\"")
    } else {
        // XPath 1.0 literals cannot hold both quote characters.
        f.write_str("concat(")?;
        for (i, part) in s.split('\'').enumerate() {
            if i > 0 {
                f.write_str(", \"'\", ")?;
            }
            write!(f, "'{part}'")?;
        }
        f.write_str(")")
    }
}

fn write_parenthesized(f: &mut Formatter<'_>, e: &Expr, parens: bool) -> fmt::Result {
    if parens {
        f.write_char('(')?;
        Display::fmt(e, f)?;
        f.write_char(')')
    } else {
        Display::fmt(e, f)
    }
}

impl Display for NodeTest {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            NodeTest::Name(name) => f.write_str(name),
            NodeTest::Any => f.write_str("*"),
            NodeTest::Node => f.write_str("node()"),
            NodeTest::Text => f.write_str("text()"),
        }
    }
}

impl Display for Step {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match (self.axis, &self.test, self.predicates.is_empty()) {
            (Axis::SelfNode, NodeTest::Node, true) => f.write_str(".")?,
            (Axis::Parent, NodeTest::Node, true) => f.write_str("..")?,
            (Axis::Child, test, _) => write!(f, "{test}")?,
            (Axis::Attribute, test, _) => write!(f, "@{test}")?,
            (axis, test, _) => write!(f, "{}::{test}", axis.name())?,
        }
        write_predicates(f, &self.predicates)
    }
}

fn write_predicates(f: &mut Formatter<'_>, predicates: &[Expr]) -> fmt::Result {
    for p in predicates {
        f.write_char('[')?;
        Display::fmt(p, f)?;
        f.write_char(']')?;
    }
    Ok(())
}

fn is_double_slash(step: &Step) -> bool {
    step.axis == Axis::DescendantOrSelf && step.test == NodeTest::Node && step.predicates.is_empty()
}

/// Writes steps that follow a `/` (or start a relative path when `leading` is false).
fn write_steps(f: &mut Formatter<'_>, steps: &[Step], leading_slash: bool) -> fmt::Result {
    let mut previous_abbreviated = false;
    for (i, step) in steps.iter().enumerate() {
        if i > 0 || leading_slash {
            f.write_str("/")?;
        }
        // `a/descendant-or-self::node()/b` prints as `a//b`, but never twice in a
        // row: `a///b` does not parse.
        let abbreviate =
            (i > 0 || leading_slash) && i + 1 < steps.len() && is_double_slash(step) && !previous_abbreviated;
        if !abbreviate {
            Display::fmt(step, f)?;
        }
        previous_abbreviated = abbreviate;
    }
    Ok(())
}

impl Display for LocationPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.absolute && self.steps.is_empty() {
            // A bare `/` followed by `*` or a name would read as `/*` or `/name`.
            return f.write_str("(/)");
        }
        write_steps(f, &self.steps, self.absolute)
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(n) => write_number(f, *n),
            Expr::Literal(s) => write_literal(f, s),
            Expr::Field(name) => write!(f, "${{{name}}}"),
            Expr::Path(path) => Display::fmt(path, f),
            Expr::Filter { primary, predicates, steps } => {
                let parens = matches!(**primary, Expr::Path(_) | Expr::Filter { .. }) || primary.precedence() < 9;
                write_parenthesized(f, primary, parens)?;
                write_predicates(f, predicates)?;
                write_steps(f, steps, true)
            }
            Expr::Negate(inner) => {
                f.write_str("-")?;
                write_parenthesized(f, inner, inner.precedence() < 7)
            }
            Expr::Binary { .. } => write_binary(f, self),
            Expr::Call { name, args } => {
                f.write_str(name)?;
                f.write_char('(')?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    Display::fmt(arg, f)?;
                }
                f.write_char(')')
            }
        }
    }
}

/// Prints a left-associative chain without recursing down its left side.
fn write_binary(f: &mut Formatter<'_>, e: &Expr) -> fmt::Result {
    let mut spine: Vec<(BinaryOp, &Expr)> = Vec::new();
    let mut leftmost = e;
    while let Expr::Binary { op, left, right } = leftmost {
        if let Some((outer, _)) = spine.last()
            && op.precedence() < outer.precedence()
        {
            break;
        }
        spine.push((*op, right));
        leftmost = left;
    }
    let first_op = spine.last().map_or(0, |(op, _)| op.precedence());
    write_parenthesized(f, leftmost, leftmost.precedence() < first_op)?;
    for (op, right) in spine.iter().rev() {
        write!(f, " {} ", op.symbol())?;
        write_parenthesized(f, right, right.precedence() <= op.precedence())?;
    }
    Ok(())
}
