//! The ODK XPath expression language as XLSForm uses it: `relevant`,
//! `constraint`, `calculation`, `choice_filter`, `repeat_count`...
//!
//! [`parse`] reads an expression (XPath 1.0 plus `${name}` field references)
//! into an [`Expr`], whose `Display` prints it back in a canonical form that
//! parses to the same tree. [`evaluate`] runs it against an [`Instance`]: the
//! submission as a tree of elements, plus secondary instances for choice lists
//! and other data.
//!
//! # `${name}` references
//!
//! [`Env::fields`] maps every field name to its element path from the root,
//! e.g. `age` -> `data/member/age`. A reference is resolved the way
//! pyxform + JavaRosa do: the leading part of the field's path that the
//! `current()` node also lies in (the same group or repeat instance) is taken
//! from `current()`'s own ancestors; the rest is expanded over every matching
//! element. So inside the third `member`, `${age}` is that member's age, and
//! `sum(${age})` outside the repeat is every member's. The field's own last
//! step is never shared: `count(${member})` inside a member counts all members.
//! A field missing from the map is an [`EvalError`]; a field with no element in
//! the submission is an empty node-set (text `""`, number NaN).
//!
//! # Dates
//!
//! Answers are text, as on a device. Following the ODK spec's extended
//! `number()`, text that reads as a date (`YYYY-MM-DD`) or dateTime
//! (`YYYY-MM-DDThh:mm[:ss[.sss]][Z|±hh:mm]`, UTC when no offset is given)
//! converts to days since 1970-01-01 (fractional for a dateTime, from its UTC
//! instant) wherever a number is needed: arithmetic, `<`/`<=`/`>`/`>=`, and
//! number arguments. So `today() - ${dob}` is an age in days and
//! `${end} >= ${start}` compares dates. `=` and `!=` between a date value
//! (from `today()`, `date()`, `now()`) and text compare as dates when the
//! text is one. Dates print as `YYYY-MM-DD`, dateTimes as
//! `YYYY-MM-DDThh:mm:ss.sss+hh:mm`. `today()` and `now()` return
//! [`Env::now`], which also seeds `random()` and `uuid()`.
//!
//! # Choice labels
//!
//! `jr:choice-name(value, '${field}')` asks [`Env::choice_labels`] with the
//! field's name (from `'${field}'`, or the last step of a path such as
//! `'/data/field'`) and the value; without labels it returns `""`.
//!
//! # Limits
//!
//! Nesting (brackets, calls, predicates, unary minus) is limited to
//! [`MAX_DEPTH`] levels; long operator chains (`a + b + c + ...`) are fine.
//! Only the functions in [`KNOWN_FUNCTIONS`] exist; [`check_functions`] lists
//! the others. Device-only functions (`digest`, `base64-decode`,
//! `extract-signed`, `jr:itext`, and `pulldata` unless its data was loaded as
//! a secondary instance with items of named children) evaluate to an error.
//! The tree has no text nodes: `x/text()` selects `x` itself when it has text.

mod ast;
mod dates;
mod eval;
mod functions;
mod lexer;
mod parser;
mod tree;
mod value;

pub use ast::{Axis, BinaryOp, Expr, LocationPath, NodeTest, Step};
pub use eval::{ChoiceLabels, Env, EvalError, evaluate};
pub(crate) use functions::arity;
pub use functions::{KNOWN_FUNCTIONS, check_functions};
pub use parser::{MAX_DEPTH, SyntaxError, parse};
pub use tree::{Instance, NodeId};
pub use value::Value;

#[cfg(test)]
mod tests;
