//! Recursive-descent parser for XPath 1.0 with XLSForm's `${name}` references.

use super::ast::{Axis, BinaryOp, Expr, LocationPath, NodeTest, Step};
use super::lexer::{Tok, Token, describe, position, tokenize};

/// How deeply brackets, function calls, predicates and unary minus may nest.
/// Parsing and evaluation recurse once per level; unoptimised builds use
/// about 8 KB of stack per level, so this stays well within a 2 MB thread.
pub const MAX_DEPTH: usize = 128;

/// Why an expression could not be read, worded for the person who wrote the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    /// Byte offset in the expression where the problem was found.
    pub offset: usize,
    pub message: String,
}

/// Parses an expression as written in an XLSForm cell.
pub fn parse(src: &str) -> Result<Expr, SyntaxError> {
    let tokens = tokenize(src)?;
    let mut parser = Parser { src, tokens, pos: 0, depth: 0 };
    if parser.tokens.is_empty() {
        return Err(SyntaxError { offset: 0, message: "the expression is empty".into() });
    }
    let expr = parser.expr()?;
    if let Some(token) = parser.tokens.get(parser.pos) {
        return Err(parser.trailing(token));
    }
    Ok(expr)
}

/// Binary operator levels, loosest first.
const LEVELS: [&[BinaryOp]; 6] = [
    &[BinaryOp::Or],
    &[BinaryOp::And],
    &[BinaryOp::Eq, BinaryOp::Ne],
    &[BinaryOp::Lt, BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge],
    &[BinaryOp::Add, BinaryOp::Sub],
    &[BinaryOp::Mul, BinaryOp::Div, BinaryOp::Mod],
];

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn advance(&mut self) -> usize {
        self.pos += 1;
        self.pos - 1
    }

    fn at(&self, index: usize) -> usize {
        position(self.src, self.tokens[index].start)
    }

    fn end_offset(&self) -> usize {
        self.src.len()
    }

    fn trailing(&self, token: &Token) -> SyntaxError {
        let pos = position(self.src, token.start);
        let message = match token.tok {
            Tok::RParen => format!("unexpected `)` at position {pos}: there is no `(` for it to close"),
            Tok::RBracket => format!("unexpected `]` at position {pos}: there is no `[` for it to close"),
            Tok::Comma => format!("unexpected `,` at position {pos}: commas only separate the arguments of a function"),
            _ => format!(
                "unexpected {} at position {pos}: expected an operator such as `and`, `or`, `=` or `+` before it",
                describe(self.src, token)
            ),
        };
        error(token.start, message)
    }

    fn enter(&mut self, offset: usize) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(error(
                offset,
                format!("the expression is nested too deeply (more than {MAX_DEPTH} levels of brackets or functions)"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        self.binary(0)
    }

    /// "expected an expression after X" when the next token cannot start one.
    fn expect_operand(&self, after: usize) -> Result<(), SyntaxError> {
        let what = describe(self.src, &self.tokens[after]);
        let pos = self.at(after);
        match self.tokens.get(self.pos) {
            None => Err(error(self.end_offset(), format!("expected an expression after {what} at position {pos}"))),
            Some(t) if !starts_operand(&t.tok) => Err(error(
                t.start,
                format!("expected an expression after {what} at position {pos}, found {}", describe(self.src, t)),
            )),
            Some(_) => Ok(()),
        }
    }

    /// Precedence climbing over [`LEVELS`]: one stack frame per nesting level
    /// rather than one per precedence level.
    fn binary(&mut self, min_level: usize) -> Result<Expr, SyntaxError> {
        let mut left = self.unary()?;
        while let Some(Tok::Op(op)) = self.peek() {
            let op = *op;
            let Some(level) = LEVELS.iter().position(|ops| ops.contains(&op)) else { break };
            if level < min_level {
                break;
            }
            let at = self.advance();
            self.expect_operand(at)?;
            let right = self.binary(level + 1)?;
            left = Expr::Binary { op, left: Box::new(left), right: Box::new(right) };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if let Some(Tok::Op(BinaryOp::Sub)) = self.peek() {
            let at = self.advance();
            self.enter(self.tokens[at].start)?;
            self.expect_operand(at)?;
            let inner = self.unary()?;
            self.leave();
            return Ok(Expr::Negate(Box::new(inner)));
        }
        self.union()
    }

    fn union(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.path_expr()?;
        while let Some(Tok::Op(BinaryOp::Union)) = self.peek() {
            let at = self.advance();
            self.expect_operand(at)?;
            let right = self.path_expr()?;
            left = Expr::Binary { op: BinaryOp::Union, left: Box::new(left), right: Box::new(right) };
        }
        Ok(left)
    }

    fn path_expr(&mut self) -> Result<Expr, SyntaxError> {
        let Some(tok) = self.peek() else {
            return Err(error(self.end_offset(), "expected an expression at the end".into()));
        };
        match tok {
            Tok::Slash
            | Tok::DoubleSlash
            | Tok::Dot
            | Tok::DotDot
            | Tok::At
            | Tok::Name(_)
            | Tok::Star
            | Tok::Axis(_)
            | Tok::NodeType(_) => Ok(Expr::Path(self.location_path()?)),
            Tok::Number(_) | Tok::Literal(_) | Tok::Field(_) | Tok::Function(_) | Tok::LParen => self.filter_expr(),
            _ => Err(self.unexpected()),
        }
    }

    fn unexpected(&self) -> SyntaxError {
        let token = &self.tokens[self.pos];
        let pos = position(self.src, token.start);
        let message = match token.tok {
            Tok::RParen => format!("unexpected `)` at position {pos}"),
            Tok::RBracket => format!("unexpected `]` at position {pos}"),
            _ => format!("unexpected {} at position {pos}: expected a value, field or path", describe(self.src, token)),
        };
        error(token.start, message)
    }

    fn filter_expr(&mut self) -> Result<Expr, SyntaxError> {
        let at = self.advance();
        let token = self.tokens[at].clone();
        let primary = match token.tok {
            Tok::Number(n) => Expr::Number(n),
            Tok::Literal(s) => Expr::Literal(s),
            Tok::Field(name) => Expr::Field(name),
            Tok::Function(name) => self.call(name, at)?,
            Tok::LParen => {
                self.enter(token.start)?;
                self.expect_operand(at)?;
                let inner = self.expr()?;
                self.close(at, &Tok::RParen)?;
                self.leave();
                inner
            }
            _ => unreachable!("filter_expr is only called on a primary token"),
        };
        let predicates = self.predicates()?;
        let steps = match self.peek() {
            Some(Tok::Slash | Tok::DoubleSlash) => self.relative_steps()?,
            _ => Vec::new(),
        };
        if predicates.is_empty() && steps.is_empty() {
            return Ok(primary);
        }
        Ok(Expr::Filter { primary: Box::new(primary), predicates, steps })
    }

    /// Consumes the closing bracket for the opening token at index `open`.
    fn close(&mut self, open: usize, closing: &Tok) -> Result<(), SyntaxError> {
        let symbol = if *closing == Tok::RParen { "`)`" } else { "`]`" };
        let open_text = describe(self.src, &self.tokens[open]);
        let open_text = if matches!(self.tokens[open].tok, Tok::Function(_)) { "`(`".to_owned() } else { open_text };
        match self.tokens.get(self.pos) {
            Some(t) if t.tok == *closing => {
                self.pos += 1;
                Ok(())
            }
            None => Err(error(
                self.tokens[open].start,
                format!("unbalanced brackets: {open_text} at position {} is never closed", self.at(open)),
            )),
            Some(t) => Err(error(
                t.start,
                format!(
                    "expected {symbol} to close the {open_text} at position {}, found {} at position {}",
                    self.at(open),
                    describe(self.src, t),
                    position(self.src, t.start)
                ),
            )),
        }
    }

    fn call(&mut self, name: String, at: usize) -> Result<Expr, SyntaxError> {
        // The lexer only makes a function token when `(` follows.
        self.pos += 1;
        self.enter(self.tokens[at].start)?;
        let mut args = Vec::new();
        if self.peek() == Some(&Tok::RParen) {
            self.pos += 1;
            self.leave();
            return Ok(Expr::Call { name, args });
        }
        loop {
            if self.peek().is_none_or(|t| !starts_operand(t)) {
                return Err(self.missing_argument(&name, at));
            }
            args.push(self.expr()?);
            match self.peek() {
                Some(Tok::Comma) => {
                    self.pos += 1;
                }
                Some(Tok::RParen) => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.bad_separator(&name, at)),
            }
        }
        self.leave();
        Ok(Expr::Call { name, args })
    }

    fn bad_separator(&self, name: &str, at: usize) -> SyntaxError {
        let Some(t) = self.tokens.get(self.pos) else {
            return error(
                self.tokens[at].start,
                format!("unbalanced brackets: `(` of `{name}(` at position {} is never closed", self.at(at)),
            );
        };
        error(
            t.start,
            format!(
                "expected `,` or `)` in the call to `{name}()`, found {} at position {}",
                describe(self.src, t),
                position(self.src, t.start)
            ),
        )
    }

    fn missing_argument(&self, name: &str, at: usize) -> SyntaxError {
        match self.tokens.get(self.pos) {
            None => error(
                self.tokens[at].start,
                format!("unbalanced brackets: `(` of `{name}(` at position {} is never closed", self.at(at)),
            ),
            Some(t) => error(
                t.start,
                format!(
                    "expected an argument of `{name}()` at position {}, found {}",
                    position(self.src, t.start),
                    describe(self.src, t)
                ),
            ),
        }
    }

    fn predicates(&mut self) -> Result<Vec<Expr>, SyntaxError> {
        let mut predicates = Vec::new();
        while self.peek() == Some(&Tok::LBracket) {
            let at = self.advance();
            self.enter(self.tokens[at].start)?;
            self.expect_operand(at)?;
            predicates.push(self.expr()?);
            self.close(at, &Tok::RBracket)?;
            self.leave();
        }
        Ok(predicates)
    }

    fn location_path(&mut self) -> Result<LocationPath, SyntaxError> {
        match self.peek() {
            Some(Tok::Slash) => {
                self.pos += 1;
                if self.peek().is_some_and(starts_step) {
                    let mut steps = vec![self.step()?];
                    steps.extend(self.relative_steps()?);
                    Ok(LocationPath { absolute: true, steps })
                } else {
                    Ok(LocationPath { absolute: true, steps: Vec::new() })
                }
            }
            Some(Tok::DoubleSlash) => Ok(LocationPath { absolute: true, steps: self.relative_steps()? }),
            _ => {
                let mut steps = vec![self.step()?];
                steps.extend(self.relative_steps()?);
                Ok(LocationPath { absolute: false, steps })
            }
        }
    }

    /// Steps introduced by `/` or `//`, as long as they continue.
    fn relative_steps(&mut self) -> Result<Vec<Step>, SyntaxError> {
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::Slash) => {}
                Some(Tok::DoubleSlash) => {
                    steps.push(Step { axis: Axis::DescendantOrSelf, test: NodeTest::Node, predicates: Vec::new() });
                }
                _ => return Ok(steps),
            }
            let at = self.advance();
            if !self.peek().is_some_and(starts_step) {
                let what = describe(self.src, &self.tokens[at]);
                let pos = self.at(at);
                return Err(match self.tokens.get(self.pos) {
                    None => error(self.end_offset(), format!("expected a name after {what} at position {pos}")),
                    Some(t) => error(
                        t.start,
                        format!("expected a name after {what} at position {pos}, found {}", describe(self.src, t)),
                    ),
                });
            }
            steps.push(self.step()?);
        }
    }

    fn step(&mut self) -> Result<Step, SyntaxError> {
        let at = self.advance();
        let token = self.tokens[at].clone();
        let (axis, test) = match token.tok {
            Tok::Dot => return Ok(Step { axis: Axis::SelfNode, test: NodeTest::Node, predicates: Vec::new() }),
            Tok::DotDot => return Ok(Step { axis: Axis::Parent, test: NodeTest::Node, predicates: Vec::new() }),
            Tok::At => (Axis::Attribute, self.node_test()?),
            Tok::Axis(axis) => (axis, self.node_test()?),
            _ => {
                self.pos = at;
                (Axis::Child, self.node_test()?)
            }
        };
        let predicates = self.predicates()?;
        Ok(Step { axis, test, predicates })
    }

    fn node_test(&mut self) -> Result<NodeTest, SyntaxError> {
        let Some(token) = self.tokens.get(self.pos).cloned() else {
            return Err(error(self.end_offset(), "expected a name at the end".into()));
        };
        self.pos += 1;
        match token.tok {
            Tok::Name(name) => Ok(NodeTest::Name(name)),
            Tok::Star => Ok(NodeTest::Any),
            Tok::NodeType(kind) => {
                let test = match kind.as_str() {
                    "node" => NodeTest::Node,
                    "text" => NodeTest::Text,
                    _ => {
                        return Err(error(
                            token.start,
                            format!(
                                "`{kind}()` at position {} is not supported in forms",
                                position(self.src, token.start)
                            ),
                        ));
                    }
                };
                let open = self.pos;
                match self.peek() {
                    Some(Tok::LParen) => self.pos += 1,
                    _ => unreachable!("the lexer only makes a node type token when `(` follows"),
                }
                self.close(open, &Tok::RParen)?;
                Ok(test)
            }
            _ => Err(error(
                token.start,
                format!(
                    "expected a name at position {}, found {}",
                    position(self.src, token.start),
                    describe(self.src, &token)
                ),
            )),
        }
    }
}

fn starts_step(tok: &Tok) -> bool {
    matches!(tok, Tok::Dot | Tok::DotDot | Tok::At | Tok::Name(_) | Tok::Star | Tok::Axis(_) | Tok::NodeType(_))
}

fn starts_operand(tok: &Tok) -> bool {
    starts_step(tok)
        || matches!(
            tok,
            Tok::Slash
                | Tok::DoubleSlash
                | Tok::Number(_)
                | Tok::Literal(_)
                | Tok::Field(_)
                | Tok::Function(_)
                | Tok::LParen
                | Tok::Op(BinaryOp::Sub)
        )
}

fn error(offset: usize, message: String) -> SyntaxError {
    SyntaxError { offset, message }
}
