//! Splits an expression into tokens, applying XPath 1.0's rules for telling
//! `*`, `div`, `and`... as operators apart from the same text used as names.

use super::ast::{Axis, BinaryOp};
use super::parser::SyntaxError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Number(f64),
    Literal(String),
    Field(String),
    /// A name test: `name`, `prefix:name` or `prefix:*`.
    Name(String),
    /// `*` as a name test.
    Star,
    /// A name directly followed by `(`.
    Function(String),
    /// `node`, `text`, `comment` or `processing-instruction` followed by `(`.
    NodeType(String),
    /// A name directly followed by `::`.
    Axis(Axis),
    Op(BinaryOp),
    Slash,
    DoubleSlash,
    Dot,
    DotDot,
    At,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte offsets into the source.
    pub start: usize,
    pub end: usize,
}

/// 1-based character position of a byte offset, for messages.
pub(crate) fn position(src: &str, offset: usize) -> usize {
    src.get(..offset).map_or(offset, |s| s.chars().count()) + 1
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Whether a field name inside `${...}` is acceptable: what XLSForm allows for names.
pub(crate) fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

/// True if the token ends an operand, so that a following `*` or name is an operator.
fn ends_operand(tok: &Tok) -> bool {
    matches!(
        tok,
        Tok::Number(_)
            | Tok::Literal(_)
            | Tok::Field(_)
            | Tok::Name(_)
            | Tok::Star
            | Tok::RParen
            | Tok::RBracket
            | Tok::Dot
            | Tok::DotDot
    )
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    tokens: Vec<Token>,
}

pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let mut lexer = Lexer { src, pos: 0, tokens: Vec::new() };
    lexer.run()?;
    Ok(lexer.tokens)
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_at(&self, skip: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(skip)
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.tokens.push(Token { tok, start, end: self.pos });
    }

    fn after_operand(&self) -> bool {
        self.tokens.last().is_some_and(|t| ends_operand(&t.tok))
    }

    fn skip_whitespace(&mut self) {
        while let Some(c) = self.peek() {
            if !c.is_whitespace() {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    /// The next non-whitespace character at or after byte `from`, and its offset.
    fn next_significant(&self, from: usize) -> Option<(usize, char)> {
        self.src[from..].char_indices().find(|(_, c)| !c.is_whitespace()).map(|(i, c)| (from + i, c))
    }

    fn run(&mut self) -> Result<(), SyntaxError> {
        loop {
            self.skip_whitespace();
            let start = self.pos;
            let Some(c) = self.peek() else { return Ok(()) };
            let single = |tok: Tok| (tok, 1);
            let (tok, len) = match c {
                '(' => single(Tok::LParen),
                ')' => single(Tok::RParen),
                '[' => single(Tok::LBracket),
                ']' => single(Tok::RBracket),
                ',' => single(Tok::Comma),
                '@' => single(Tok::At),
                '|' if self.peek_at(1) == Some('|') => {
                    return Err(error(start, format!("unexpected `||` at position {}: write `or`", self.here())));
                }
                '|' => single(Tok::Op(BinaryOp::Union)),
                '+' => single(Tok::Op(BinaryOp::Add)),
                '-' => single(Tok::Op(BinaryOp::Sub)),
                '=' if self.peek_at(1) == Some('=') => {
                    return Err(error(
                        start,
                        format!("unexpected `==` at position {}: compare with a single `=`", self.here()),
                    ));
                }
                '=' => single(Tok::Op(BinaryOp::Eq)),
                '!' if self.peek_at(1) == Some('=') => (Tok::Op(BinaryOp::Ne), 2),
                '<' if self.peek_at(1) == Some('=') => (Tok::Op(BinaryOp::Le), 2),
                '<' => single(Tok::Op(BinaryOp::Lt)),
                '>' if self.peek_at(1) == Some('=') => (Tok::Op(BinaryOp::Ge), 2),
                '>' => single(Tok::Op(BinaryOp::Gt)),
                '/' if self.peek_at(1) == Some('/') => (Tok::DoubleSlash, 2),
                '/' => single(Tok::Slash),
                '*' if self.after_operand() => single(Tok::Op(BinaryOp::Mul)),
                '*' => single(Tok::Star),
                '.' if self.peek_at(1) == Some('.') => (Tok::DotDot, 2),
                '.' if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => {
                    self.number()?;
                    continue;
                }
                '.' => single(Tok::Dot),
                '0'..='9' => {
                    self.number()?;
                    continue;
                }
                '\'' | '"' => {
                    self.literal(c)?;
                    continue;
                }
                '$' => {
                    self.field()?;
                    continue;
                }
                c if is_name_start(c) => {
                    self.name()?;
                    continue;
                }
                '&' => {
                    let hint = if self.peek_at(1) == Some('&') { "unexpected `&&`" } else { "unexpected `&`" };
                    return Err(error(start, format!("{hint} at position {}: write `and`", self.here())));
                }
                '!' => {
                    return Err(error(
                        start,
                        format!(
                            "unexpected `!` at position {}: write `not(...)`, or `!=` for \"not equal\"",
                            self.here()
                        ),
                    ));
                }
                other => {
                    return Err(error(start, format!("unexpected character `{other}` at position {}", self.here())));
                }
            };
            self.pos += len;
            self.push(tok, start);
        }
    }

    fn here(&self) -> usize {
        position(self.src, self.pos)
    }

    fn number(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let rest = &self.src[start..];
        let mut len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if rest[len..].starts_with('.') && !rest[len..].starts_with("..") {
            len += 1;
            len += rest[len..].find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len() - len);
        }
        let text = &rest[..len];
        let value: f64 =
            text.parse().map_err(|_| error(start, format!("`{text}` at position {} is not a number", self.here())))?;
        self.pos += len;
        self.push(Tok::Number(value), start);
        Ok(())
    }

    fn literal(&mut self, quote: char) -> Result<(), SyntaxError> {
        let start = self.pos;
        let body = &self.src[start + 1..];
        let Some(len) = body.find(quote) else {
            return Err(error(
                start,
                format!("unterminated text in quotes: the `{quote}` at position {} is never closed", self.here()),
            ));
        };
        let text = body[..len].to_owned();
        self.pos = start + 1 + len + 1;
        self.push(Tok::Literal(text), start);
        Ok(())
    }

    fn field(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        if self.peek_at(1) != Some('{') {
            return Err(error(
                start,
                format!(
                    "unexpected `$` at position {}: refer to a field as `${{name}}`; XPath variables are not supported",
                    self.here()
                ),
            ));
        }
        let body = &self.src[start + 2..];
        let Some(len) = body.find('}') else {
            return Err(error(start, format!("`${{` at position {} is never closed with `}}`", self.here())));
        };
        let raw = &body[..len];
        let name = raw.trim();
        if name.is_empty() {
            return Err(error(start, format!("empty reference `${{}}` at position {}", self.here())));
        }
        if !is_field_name(name) {
            return Err(error(
                start,
                format!(
                    "`${{{raw}}}` at position {} is not a valid field name: names start with a letter or `_` and \
                     contain only letters, digits, `-`, `_` and `.`",
                    self.here()
                ),
            ));
        }
        let name = name.to_owned();
        self.pos = start + 2 + len + 1;
        self.push(Tok::Field(name), start);
        Ok(())
    }

    fn ncname_len(&self, from: usize) -> usize {
        let rest = &self.src[from..];
        let mut chars = rest.char_indices();
        match chars.next() {
            Some((_, c)) if is_name_start(c) => {}
            _ => return 0,
        }
        chars.find(|(_, c)| !is_name_char(*c)).map_or(rest.len(), |(i, _)| i)
    }

    fn name(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let mut end = start + self.ncname_len(start);
        let local = &self.src[start..end];
        if self.after_operand() {
            let op = match local {
                "and" => BinaryOp::And,
                "or" => BinaryOp::Or,
                "div" => BinaryOp::Div,
                "mod" => BinaryOp::Mod,
                // Not an operator: the parser reports a missing operator.
                _ => {
                    self.pos = end;
                    self.push(Tok::Name(local.to_owned()), start);
                    return Ok(());
                }
            };
            self.pos = end;
            self.push(Tok::Op(op), start);
            return Ok(());
        }
        let rest = &self.src[end..];
        if rest.starts_with("::") {
            let axis = Axis::from_name(local).ok_or_else(|| {
                error(start, format!("`{local}::` at position {} is not a supported axis", self.here()))
            })?;
            self.pos = end + 2;
            self.push(Tok::Axis(axis), start);
            return Ok(());
        }
        let mut star = false;
        if let Some(after_colon) = rest.strip_prefix(':') {
            let prefixed = self.ncname_len(end + 1);
            if prefixed > 0 {
                end += 1 + prefixed;
            } else if after_colon.starts_with('*') {
                end += 2;
                star = true;
            }
        }
        let name = self.src[start..end].to_owned();
        self.pos = end;
        let followed_by_paren = !star && matches!(self.next_significant(end), Some((_, '(')));
        let tok = if followed_by_paren {
            if matches!(name.as_str(), "node" | "text" | "comment" | "processing-instruction") {
                Tok::NodeType(name)
            } else {
                Tok::Function(name)
            }
        } else {
            Tok::Name(name)
        };
        self.push(tok, start);
        Ok(())
    }
}

/// How a token reads in a message.
pub(crate) fn describe(src: &str, token: &Token) -> String {
    format!("`{}`", &src[token.start..token.end])
}

fn error(offset: usize, message: String) -> SyntaxError {
    SyntaxError { offset, message }
}
