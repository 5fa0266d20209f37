//! XLSForms: reading them, the ODK XPath expression language, writing the
//! equivalent ODK XForm and validating submissions against a form version.
//!
//! A pure library: it reads bytes and returns values; it does no I/O of its
//! own, so it can be fuzzed and benchmarked alone.

pub mod compare;
pub mod model;
pub mod parse;
pub mod read;
pub mod xform;
pub mod xml;
pub mod xpath;

pub use model::{Choice, ChoiceList, Field, Form, FormError, FormErrors, Kind, QuestionType, Translated};
pub use parse::{parse_workbook, read_form};
pub use xform::{to_xform, xform_tree};
pub mod identity;
pub mod validate;
pub mod webform;
pub use identity::{FieldKey, VersionDiff, field_keys, match_versions};
pub use validate::{FieldError, Rejected, Validated, Validator};
