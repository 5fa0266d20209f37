//! Rumbo web forms, the server's half: a form version as the JSON the browser
//! runtime (`crates/server/assets/webform.js`) renders, and its expressions
//! compiled to JavaScript.
//!
//! Pages run under `script-src 'self'` without `'unsafe-eval'`, so the
//! runtime cannot turn expression text into code. Instead
//! [`expressions_js`] writes every expression of the form as a function in a
//! static script, and [`definition`] refers to them by index:
//!
//! ```text
//! GET /collect/{form}/definition.json  -> definition(form)
//! GET /collect/{form}/expressions.js   -> expressions_js(form)
//! ```
//!
//! Both are built by the same deterministic walk, so the indices agree; the
//! definition's `expressions` key (`id@version#hash`) is what the script
//! registers under, and the runtime refuses a pair that does not match.
//!
//! The compiled expressions mirror the Rust evaluator (see [`crate::xpath`]):
//! `tests/webform_agreement.rs` evaluates the expressions of every form of the
//! corpus both ways and compares the results.

mod compile;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt::Write as _;

use serde_json::{Map, Value as Json, json};

pub use compile::{FieldPaths, compile, compile_function, js_string};

use crate::model::{Field, Form, Kind, Metadata, QuestionType, Translated};
use crate::xpath::{self, Expr};

/// Version of the definition's shape; the runtime checks it.
pub const FORMAT: u32 = 1;

/// Field name -> element names from the root, for `${name}`: the first field
/// of each name, walked as the submission validator walks the form.
pub fn field_paths(form: &Form) -> FieldPaths {
    let mut paths = FieldPaths::new();
    let mut path = vec![form.root.clone()];
    visit_paths(&form.fields, &mut path, &mut paths);
    paths
}

fn has_element(field: &Field) -> bool {
    !field.name.is_empty()
        && match field.kind {
            Some(Kind::Question(QuestionType::Audit | QuestionType::ExternalInstance { .. })) | None => false,
            Some(_) => true,
        }
}

fn visit_paths(fields: &[Field], path: &mut Vec<String>, out: &mut FieldPaths) {
    for field in fields.iter().filter(|field| has_element(field)) {
        path.push(field.name.clone());
        out.entry(field.name.clone()).or_insert_with(|| path.clone());
        visit_paths(&field.children, path, out);
        path.pop();
    }
}

/// A boolean column (`required`, `read_only`): a constant or an expression.
enum Flag {
    No,
    Yes,
    If(Expr),
}

fn flag(text: Option<&String>) -> Flag {
    let Some(text) = text.map(|text| text.trim()) else { return Flag::No };
    match text.to_ascii_lowercase().as_str() {
        "" | "no" | "false" | "false()" | "0" => Flag::No,
        "yes" | "true" | "true()" | "1" => Flag::Yes,
        _ => xpath::parse(text).map_or(Flag::No, Flag::If),
    }
}

fn parsed(text: Option<&String>) -> Option<Expr> {
    let text = text?.trim();
    if text.is_empty() { None } else { xpath::parse(text).ok() }
}

/// Whether a default must be computed (pyxform's rule, as the XForm writer
/// applies it): it holds a reference, a call, a predicate or arithmetic.
fn default_is_dynamic(default: &str, question: Option<QuestionType>) -> bool {
    if default.contains("${") || default.contains('(') || default.contains('[') {
        return true;
    }
    let hyphen_is_data = matches!(
        question,
        Some(
            QuestionType::Date
                | QuestionType::DateTime
                | QuestionType::Geopoint
                | QuestionType::Geotrace
                | QuestionType::Geoshape
        )
    );
    let math = default.contains(['+', '*', '|'])
        || (!hyphen_is_data && default.contains('-') && default.parse::<f64>().is_err());
    math || default.split_whitespace().any(|token| token == "div" || token == "mod")
}

fn type_name(question: QuestionType) -> &'static str {
    use QuestionType as Q;
    match question {
        Q::Integer => "integer",
        Q::Decimal => "decimal",
        Q::Text => "text",
        Q::SelectOne => "select_one",
        Q::SelectMultiple => "select_multiple",
        Q::SelectOneExternal => "select_one_external",
        Q::Rank => "rank",
        Q::Note => "note",
        Q::Date => "date",
        Q::Time => "time",
        Q::DateTime => "dateTime",
        Q::Geopoint => "geopoint",
        Q::Geotrace => "geotrace",
        Q::Geoshape => "geoshape",
        Q::Image => "image",
        Q::Audio => "audio",
        Q::Video => "video",
        Q::File => "file",
        Q::Osm => "osm",
        Q::Barcode => "barcode",
        Q::Calculate => "calculate",
        Q::Acknowledge => "acknowledge",
        Q::Trigger => "trigger",
        Q::Range => "range",
        Q::Hidden => "hidden",
        Q::Metadata(_) => "metadata",
        Q::StartGeopoint => "start-geopoint",
        Q::BackgroundAudio => "background-audio",
        Q::BackgroundGeopoint => "background-geopoint",
        Q::Audit | Q::ExternalInstance { .. } => "none",
    }
}

fn metadata_name(metadata: Metadata) -> &'static str {
    metadata.preload().1
}

fn translated(text: &Translated) -> Option<Json> {
    let entries: Map<String, Json> =
        text.0.iter().map(|(language, text)| (language.clone(), Json::String(text.clone()))).collect();
    (!entries.is_empty()).then_some(Json::Object(entries))
}

/// One field with an element, numbered in document order.
struct Place<'f> {
    field: &'f Field,
    parent: Option<usize>,
}

/// The walk [`definition`] and [`expressions_js`] share.
struct Builder<'f> {
    form: &'f Form,
    paths: FieldPaths,
    places: Vec<Place<'f>>,
    /// Compiled functions, each once.
    functions: Vec<String>,
    /// The expression of each function.
    exprs: Vec<Expr>,
    index: HashMap<String, usize>,
}

impl<'f> Builder<'f> {
    fn new(form: &'f Form) -> Self {
        let mut builder = Builder {
            form,
            paths: field_paths(form),
            places: Vec::new(),
            functions: Vec::new(),
            exprs: Vec::new(),
            index: HashMap::new(),
        };
        builder.number(&form.fields, None);
        builder
    }

    fn number(&mut self, fields: &'f [Field], parent: Option<usize>) {
        for field in fields.iter().filter(|field| has_element(field)) {
            let id = self.places.len();
            self.places.push(Place { field, parent });
            self.number(&field.children, Some(id));
        }
    }

    fn function(&mut self, expr: &Expr) -> usize {
        let code = compile_function(expr, &self.paths);
        if let Some(index) = self.index.get(&code) {
            return *index;
        }
        let index = self.functions.len();
        self.index.insert(code.clone(), index);
        self.functions.push(code);
        self.exprs.push(expr.clone());
        index
    }

    fn key(&self) -> String {
        // FNV-1a over the functions: a definition and a script built from
        // different versions of a form do not match.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for function in &self.functions {
            for byte in function.bytes().chain([0]) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{}@{}#{hash:016x}", self.form.id, self.form.settings.version.as_deref().unwrap_or(""))
    }

    /// The fields of the form as JSON, in a tree; places are numbered in the
    /// order [`Builder::number`] gave them.
    fn fields(&mut self, fields: &'f [Field], next: &mut usize) -> Vec<Json> {
        let mut out = Vec::new();
        for field in fields.iter().filter(|field| has_element(field)) {
            let id = *next;
            *next += 1;
            let mut entry = Map::new();
            entry.insert("id".into(), json!(id));
            entry.insert("name".into(), json!(field.name));
            let kind = match field.kind {
                Some(Kind::Group) => "group",
                Some(Kind::Repeat) => "repeat",
                _ => "question",
            };
            entry.insert("kind".into(), json!(kind));
            let question = field.question_type();
            if let Some(question) = question {
                entry.insert("type".into(), json!(type_name(question)));
                if let QuestionType::Metadata(metadata) = question {
                    entry.insert("preload".into(), json!(metadata_name(metadata)));
                }
            }
            for (key, text) in [
                ("label", &field.label),
                ("hint", &field.hint),
                ("guidance_hint", &field.guidance_hint),
                ("required_message", &field.required_message),
                ("constraint_message", &field.constraint_message),
            ] {
                if let Some(value) = translated(text) {
                    entry.insert(key.into(), value);
                }
            }
            if let Some(appearance) = field.appearance.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
                entry.insert("appearance".into(), json!(appearance));
            }
            if let Some(expr) = parsed(field.relevant.as_ref()) {
                entry.insert("relevant".into(), json!(self.function(&expr)));
            }
            if question.is_some() {
                for (key, text) in [("required", &field.required), ("readonly", &field.read_only)] {
                    match flag(text.as_ref()) {
                        Flag::No => {}
                        Flag::Yes => {
                            entry.insert(key.into(), json!(true));
                        }
                        Flag::If(expr) => {
                            entry.insert(key.into(), json!(self.function(&expr)));
                        }
                    }
                }
                if let Some(expr) = parsed(field.constraint.as_ref()) {
                    entry.insert("constraint".into(), json!(self.function(&expr)));
                }
                if let Some(expr) = parsed(field.calculation.as_ref()) {
                    entry.insert("calculate".into(), json!(self.function(&expr)));
                    if let Some(trigger) = parsed(field.trigger.as_ref()) {
                        entry.insert("trigger".into(), json!(trigger.fields()));
                    }
                }
                if let Some(default) = field.default.as_deref().filter(|d| !d.trim().is_empty()) {
                    if default_is_dynamic(default, question) {
                        if let Some(expr) = parsed(field.default.as_ref()) {
                            entry.insert("default_expr".into(), json!(self.function(&expr)));
                        }
                    } else {
                        entry.insert("default".into(), json!(default));
                    }
                }
                if let Some(expr) = parsed(field.choice_filter.as_ref()) {
                    entry.insert("choice_filter".into(), json!(self.function(&expr)));
                }
                if let Some(list) = &field.list {
                    entry.insert("list".into(), json!(list));
                }
                if field.or_other {
                    entry.insert("or_other".into(), json!(true));
                }
            }
            if field.is_repeat()
                && let Some(expr) = parsed(field.repeat_count.as_ref())
            {
                entry.insert("repeat_count".into(), json!(self.function(&expr)));
            }
            if !field.parameters.is_empty() {
                let parameters: Map<String, Json> =
                    field.parameters.iter().map(|(key, value)| (key.clone(), json!(value))).collect();
                entry.insert("parameters".into(), Json::Object(parameters));
            }
            if !field.children.is_empty() {
                entry.insert("children".into(), Json::Array(self.fields(&field.children, next)));
            }
            out.push(Json::Object(entry));
        }
        out
    }

    /// The order in which places get their relevance and calculation: after
    /// their parent and every field their expressions name; document order
    /// otherwise and for whatever is left in a cycle (as the validator does).
    fn order(&self) -> Vec<usize> {
        let count = self.places.len();
        let mut first_place: HashMap<&str, usize> = HashMap::new();
        for (id, place) in self.places.iter().enumerate() {
            first_place.entry(place.field.name.as_str()).or_insert(id);
        }
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); count];
        let mut pending = vec![0usize; count];
        for (id, place) in self.places.iter().enumerate() {
            let mut needs: Vec<usize> = place.parent.into_iter().collect();
            let calculation =
                if place.field.question_type().is_some() { place.field.calculation.as_ref() } else { None };
            for expr in [parsed(place.field.relevant.as_ref()), parsed(calculation)].iter().flatten() {
                for name in expr.fields() {
                    if let Some(&need) = first_place.get(name)
                        && need != id
                        && !needs.contains(&need)
                    {
                        needs.push(need);
                    }
                }
            }
            pending[id] = needs.len();
            for need in needs {
                dependents[need].push(id);
            }
        }
        let mut done = vec![false; count];
        let mut ready: BinaryHeap<Reverse<usize>> = (0..count).filter(|id| pending[*id] == 0).map(Reverse).collect();
        let mut order = Vec::with_capacity(count);
        let mut cursor = 0;
        loop {
            while let Some(Reverse(id)) = ready.pop() {
                if done[id] {
                    continue;
                }
                done[id] = true;
                order.push(id);
                for &dependent in &dependents[id] {
                    pending[dependent] = pending[dependent].saturating_sub(1);
                    if pending[dependent] == 0 && !done[dependent] {
                        ready.push(Reverse(dependent));
                    }
                }
            }
            while cursor < count && done[cursor] {
                cursor += 1;
            }
            if cursor == count {
                break;
            }
            ready.push(Reverse(cursor));
        }
        order
    }

    fn choices(&self) -> Json {
        let lists = self.form.choices.iter().map(|list| {
            let choices: Vec<Json> = list
                .choices
                .iter()
                .map(|choice| {
                    let mut entry = Map::new();
                    entry.insert("name".into(), json!(choice.name));
                    if let Some(label) = translated(&choice.label) {
                        entry.insert("label".into(), label);
                    }
                    if !choice.extra.is_empty() {
                        let extra: Vec<Json> = choice.extra.iter().map(|(key, value)| json!([key, value])).collect();
                        entry.insert("extra".into(), Json::Array(extra));
                    }
                    Json::Object(entry)
                })
                .collect();
            json!({ "name": list.name, "choices": choices })
        });
        Json::Array(lists.collect())
    }

    /// `${name}` -> its path and, for selects, its choice list (for labels
    /// with references and `jr:choice-name`).
    fn names(&self) -> Json {
        let mut names = Map::new();
        for place in &self.places {
            let field = place.field;
            if names.contains_key(&field.name) {
                continue;
            }
            let mut entry = Map::new();
            if let Some(path) = self.paths.get(&field.name) {
                entry.insert("path".into(), json!(path));
            }
            if let Some(list) = &field.list {
                entry.insert("list".into(), json!(list));
            }
            names.insert(field.name.clone(), Json::Object(entry));
        }
        Json::Object(names)
    }
}

/// The form as the web form runtime reads it: identity, languages, the field
/// tree (expressions as indices into [`expressions_js`]'s functions), the
/// choice lists and the order in which relevance and calculations are worked
/// out. Empty texts and absent settings are left out.
pub fn definition(form: &Form) -> Json {
    let mut builder = Builder::new(form);
    let mut next = 0;
    let fields = builder.fields(&form.fields, &mut next);
    let mut out = Map::new();
    out.insert("format".into(), json!(FORMAT));
    out.insert("id".into(), json!(form.id));
    if let Some(version) = form.settings.version.as_deref().filter(|v| !v.is_empty()) {
        out.insert("version".into(), json!(version));
    }
    out.insert("root".into(), json!(form.root));
    out.insert("title".into(), json!(form.title));
    if !form.languages.is_empty() {
        out.insert("languages".into(), json!(form.languages));
    }
    if let Some(language) = form.settings.default_language.as_deref().filter(|l| !l.is_empty()) {
        out.insert("default_language".into(), json!(language));
    }
    out.insert("expressions".into(), json!(builder.key()));
    out.insert("fields".into(), Json::Array(fields));
    out.insert("order".into(), json!(builder.order()));
    out.insert("names".into(), builder.names());
    out.insert("choices".into(), builder.choices());
    Json::Object(out)
}

/// A static script holding every compiled expression of the form, in the
/// order [`definition`] numbers them. It registers them with the runtime
/// (`RumboForms.register(key, functions)`), or queues them when the runtime
/// has not loaded yet.
pub fn expressions_js(form: &Form) -> String {
    let mut builder = Builder::new(form);
    let mut next = 0;
    builder.fields(&form.fields, &mut next);
    let key = builder.key();
    let mut out = String::new();
    let _ =
        writeln!(out, "/* Rumbo web form expressions: generated from form {}, do not edit. */", js_string(&form.id));
    out.push_str("(function(g){var k=");
    out.push_str(&js_string(&key));
    out.push_str(",f=[\n");
    for (index, function) in builder.functions.iter().enumerate() {
        if index > 0 {
            out.push_str(",\n");
        }
        out.push_str(function);
    }
    out.push_str(
        "\n];if(g.RumboForms&&g.RumboForms.register){g.RumboForms.register(k,f);}\
         else{(g.RumboFormsPending=g.RumboFormsPending||[]).push([k,f]);}})\
         (typeof globalThis!=='undefined'?globalThis:self);\n",
    );
    out
}

/// The expressions [`definition`] refers to, by index: what each function of
/// [`expressions_js`] computes.
pub fn expressions(form: &Form) -> Vec<Expr> {
    let mut builder = Builder::new(form);
    let mut next = 0;
    builder.fields(&form.fields, &mut next);
    builder.exprs
}

#[cfg(test)]
mod tests;
