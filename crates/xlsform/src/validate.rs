//! Checking a submission against the form version it answers: which answers
//! are relevant, whether required ones are there, whether each answer has the
//! right type, is one of the choices and meets its constraint, and what the
//! calculations give. The result is a typed record ready to store.
//!
//! A [`Validator`] is built once per form version (every expression parsed
//! once) and then checks any number of submissions, as OpenRosa XML
//! ([`Validator::validate_xml`]) or as a JSON object of the same shape
//! ([`Validator::validate_json`]).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value as Json};

use crate::model::{Field, Form, Kind, QuestionType};
use crate::xpath::{self, Env, Expr, Instance, NodeId};

/// How deep elements (or JSON objects) may nest before a submission is refused.
pub const MAX_DEPTH: usize = crate::xml::MAX_DEPTH;
/// The largest submission document read, in bytes.
pub const MAX_BYTES: usize = 32 << 20;
/// The most elements (answers, groups, repeat entries) a submission may hold.
pub const MAX_ELEMENTS: usize = 250_000;
/// Problems listed one by one; beyond this they are counted.
pub const MAX_ERRORS: usize = 200;

/// Functions whose result changes from one evaluation to the next: a
/// calculation using one keeps the value the device computed.
const VOLATILE: [&str; 7] = ["now", "today", "random", "randomize", "uuid", "once", "pulldata"];

const NONE: u32 = u32::MAX;

/// A fast hash for the short element names looked up for every element of
/// every submission (the default SipHash showed in profiles; these keys come
/// from the form, not from the submitter, so flooding is not a concern).
#[derive(Clone, Copy, Default)]
struct NameHasher(u64);

impl std::hash::Hasher for NameHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
}

type NameMap<V> = HashMap<String, V, std::hash::BuildHasherDefault<NameHasher>>;

/// The document cannot be checked at all: not XML, another form, another version.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Rejected {
    pub message: String,
}

impl Rejected {
    fn new(message: impl Into<String>) -> Self {
        Rejected { message: message.into() }
    }
}

/// One problem with one answer (or with an element the form does not have).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldError {
    /// Where in the submission, with 1-based repeat positions:
    /// `/data/household/member[2]/age`.
    pub path: String,
    /// The field's name in the form (or the unknown element's name).
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A submission that could be read, with what was wrong in it, if anything.
#[derive(Clone, Debug, PartialEq)]
pub struct Validated {
    /// `meta/instanceID`: the submission's own id (`uuid:...`).
    pub instance_id: Option<String>,
    /// `meta/deprecatedID`: the id of the submission this one edits.
    pub deprecated_id: Option<String>,
    /// The answers, typed: whole numbers and decimals as numbers, selects with
    /// several answers as arrays, geopoints as objects, groups as objects,
    /// repeats as arrays of objects. Relevant questions without an answer are
    /// `null`; answers that are not relevant are left out.
    pub record: Json,
    pub errors: Vec<FieldError>,
}

impl Validated {
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// What sort of element a place in the instance holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Root,
    Group,
    Repeat,
    Question(QuestionType),
    /// An element the form does not declare but accepts as text (inside `meta`).
    Free,
}

#[derive(Debug)]
enum Required {
    No,
    Yes,
    If(Expr),
}

/// A place in the instance where the form expects an element, with
/// everything needed to check it, expressions already parsed.
#[derive(Debug)]
struct Place {
    name: String,
    shape: Shape,
    parent: u32,
    /// Position among the parent's children, for ordering answers as the form does.
    position: u32,
    children: Vec<u32>,
    /// Accepts elements the form does not declare (the `meta` group).
    open: bool,
    relevant: Option<Expr>,
    required: Required,
    required_message: Option<String>,
    constraint: Option<Expr>,
    constraint_text: String,
    constraint_message: Option<String>,
    /// Only calculations that give the same result every time.
    calculation: Option<Expr>,
    repeat_count: Option<Expr>,
    choice_filter: Option<Expr>,
    list: Option<u32>,
    list_name: String,
    or_other: bool,
    /// A `range` whose parameters are not whole numbers.
    decimal_range: bool,
}

impl Place {
    fn new(name: &str, shape: Shape, parent: u32) -> Self {
        Place {
            name: name.to_owned(),
            shape,
            parent,
            position: 0,
            children: Vec::new(),
            open: false,
            relevant: None,
            required: Required::No,
            required_message: None,
            constraint: None,
            constraint_text: String::new(),
            constraint_message: None,
            calculation: None,
            repeat_count: None,
            choice_filter: None,
            list: None,
            list_name: String::new(),
            or_other: false,
            decimal_range: false,
        }
    }

    fn is_container(&self) -> bool {
        matches!(self.shape, Shape::Root | Shape::Group | Shape::Repeat)
    }
}

/// A choice list: its names with their labels, and where its items sit in
/// the secondary instance when expressions need it.
#[derive(Debug)]
struct ChoiceSet {
    labels: NameMap<String>,
    items: HashMap<String, NodeId>,
}

/// Checks submissions against one form version. Build it once per version
/// and share it: it holds every expression already parsed.
#[derive(Debug)]
pub struct Validator {
    root: String,
    form_id: String,
    version: Option<String>,
    places: Vec<Place>,
    /// Element name -> (parent place, place): finds a child place without allocating.
    by_name: NameMap<Vec<(u32, u32)>>,
    /// Field name -> element names from the root, for `${name}`.
    fields: HashMap<String, Vec<String>>,
    field_places: HashMap<String, u32>,
    lists: Vec<ChoiceSet>,
    /// An instance holding only the secondary instances (choice lists) that
    /// expressions use; each submission starts from a copy.
    template: Instance,
    /// Places in the order their relevance and calculations are worked out.
    order: Vec<u32>,
    meta: u32,
    free: u32,
    sensitive: Vec<String>,
    spare: Spare,
}

/// How many checked submissions are kept for reuse, and the largest kept (in nodes).
const SPARE_SUBMISSIONS: usize = 8;
const SPARE_NODES: usize = 20_000;

/// Submissions already checked, kept so that the next ones are read into
/// memory that is already there (an instance, answer lists) instead of
/// allocating it afresh.
#[derive(Default)]
struct Spare(Mutex<Vec<Submission>>);

impl fmt::Debug for Spare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Spare")
    }
}

fn parse_expression(text: Option<&String>) -> Option<Expr> {
    let text = text?.trim();
    if text.is_empty() { None } else { xpath::parse(text).ok() }
}

fn parse_required(text: Option<&String>) -> Required {
    let Some(text) = text.map(|text| text.trim()) else { return Required::No };
    match text.to_ascii_lowercase().as_str() {
        "" | "no" | "false" | "false()" | "0" => Required::No,
        "yes" | "true" | "true()" | "1" => Required::Yes,
        _ => xpath::parse(text).map_or(Required::No, Required::If),
    }
}

/// `instance('name')` calls with a literal name; `None` if some call names
/// its instance any other way.
fn instance_names<'e>(expr: &'e Expr, out: &mut HashSet<&'e str>) -> bool {
    let mut literal = true;
    expr.walk(&mut |e| {
        if let Expr::Call { name, args } = e
            && name == "instance"
        {
            match args.first() {
                Some(Expr::Literal(list)) => {
                    out.insert(list.as_str());
                }
                _ => literal = false,
            }
        }
    });
    literal
}

impl Validator {
    /// Prepares the checks of `form`. Expressions that do not parse are
    /// skipped: reading the form already reported them.
    pub fn new(form: &Form) -> Validator {
        let language = form.settings.default_language.as_deref();
        let mut validator = Validator {
            root: form.root.clone(),
            form_id: form.id.clone(),
            version: form.settings.version.clone().filter(|version| !version.is_empty()),
            places: vec![Place::new(&form.root, Shape::Root, NONE)],
            by_name: NameMap::default(),
            fields: HashMap::new(),
            field_places: HashMap::new(),
            lists: Vec::new(),
            template: Instance::new(&form.root),
            order: Vec::new(),
            meta: NONE,
            free: NONE,
            sensitive: Vec::new(),
            spare: Spare::default(),
        };
        let list_index: HashMap<&str, u32> =
            form.choices.iter().enumerate().map(|(index, list)| (list.name.as_str(), index as u32)).collect();
        let mut path = vec![form.root.clone()];
        validator.add_places(&form.fields, 0, &mut path, &list_index, language);
        // `meta` takes whatever the client puts there (instanceID, deprecatedID,
        // instanceName, audit, entities...).
        let meta = validator.places[0].children.iter().copied().find(|child| {
            let place = &validator.places[*child as usize];
            place.name == "meta" && place.shape == Shape::Group
        });
        validator.meta = meta.unwrap_or_else(|| validator.add_place(Place::new("meta", Shape::Group, 0)));
        validator.places[validator.meta as usize].open = true;
        validator.free = validator.places.len() as u32;
        validator.places.push(Place::new("", Shape::Free, NONE));
        for (id, place) in validator.places.iter().enumerate() {
            if place.parent != NONE {
                validator.by_name.entry(place.name.clone()).or_default().push((place.parent, id as u32));
            }
        }

        // Choice lists, and those expressions reach through `instance('...')`.
        let mut wanted: HashSet<&str> = HashSet::new();
        let mut all_lists = false;
        for place in &validator.places {
            for expr in
                [&place.relevant, &place.constraint, &place.calculation, &place.repeat_count, &place.choice_filter]
                    .into_iter()
                    .flatten()
            {
                all_lists |= !instance_names(expr, &mut wanted);
            }
            if place.choice_filter.is_some() && !place.list_name.is_empty() {
                wanted.insert(place.list_name.as_str());
            }
        }
        for list in &form.choices {
            let labels = list
                .choices
                .iter()
                .map(|choice| (choice.name.clone(), choice.label.get(language).unwrap_or_default().to_owned()))
                .collect();
            let mut items = HashMap::new();
            if all_lists || wanted.contains(list.name.as_str()) {
                let root = validator.template.add_secondary(&list.name, "root");
                for choice in &list.choices {
                    let item = validator.template.add_child(root, "item");
                    let name = validator.template.add_child(item, "name");
                    validator.template.set_value(name, choice.name.clone());
                    let label = validator.template.add_child(item, "label");
                    validator.template.set_value(label, choice.label.get(language).unwrap_or_default());
                    for (column, value) in &choice.extra {
                        let extra = validator.template.add_child(item, column);
                        validator.template.set_value(extra, value.clone());
                    }
                    items.entry(choice.name.clone()).or_insert(item);
                }
            }
            validator.lists.push(ChoiceSet { labels, items });
        }
        validator.order = evaluation_order(&validator.places, &validator.field_places, validator.free);
        validator
    }

    fn add_place(&mut self, mut place: Place) -> u32 {
        let id = self.places.len() as u32;
        let parent = &mut self.places[place.parent as usize];
        place.position = parent.children.len() as u32;
        parent.children.push(id);
        self.places.push(place);
        id
    }

    fn add_places(
        &mut self,
        fields: &[Field],
        parent: u32,
        path: &mut Vec<String>,
        lists: &HashMap<&str, u32>,
        language: Option<&str>,
    ) {
        for field in fields {
            let shape = match field.kind {
                Some(Kind::Group) => Shape::Group,
                Some(Kind::Repeat) => Shape::Repeat,
                // Audit logs travel inside `meta`; external instances have no element.
                Some(Kind::Question(QuestionType::Audit | QuestionType::ExternalInstance { .. })) | None => continue,
                Some(Kind::Question(question)) => Shape::Question(question),
            };
            if field.name.is_empty() {
                continue;
            }
            let mut place = Place::new(&field.name, shape, parent);
            place.relevant = parse_expression(field.relevant.as_ref());
            if let Shape::Question(question) = shape {
                place.required = parse_required(field.required.as_ref());
                place.required_message = field.required_message.get(language).map(str::to_owned);
                place.constraint = parse_expression(field.constraint.as_ref());
                place.constraint_text = field.constraint.clone().unwrap_or_default();
                place.constraint_message = field.constraint_message.get(language).map(str::to_owned);
                place.calculation = parse_expression(field.calculation.as_ref())
                    .filter(|expr| field.trigger.is_none() && !expr.calls().iter().any(|call| VOLATILE.contains(call)));
                place.choice_filter = parse_expression(field.choice_filter.as_ref());
                place.list_name = field.list.clone().unwrap_or_default();
                place.list = field.list.as_deref().and_then(|list| lists.get(list).copied());
                place.or_other = field.or_other;
                place.decimal_range = question == QuestionType::Range
                    && field.parameters.iter().any(|(key, value)| {
                        matches!(key.as_str(), "start" | "end" | "step") && value.contains(['.', 'e', 'E'])
                    });
            }
            if shape == Shape::Repeat {
                place.repeat_count = parse_expression(field.repeat_count.as_ref());
            }
            path.push(field.name.clone());
            let id = self.add_place(place);
            self.fields.entry(field.name.clone()).or_insert_with(|| path.clone());
            self.field_places.entry(field.name.clone()).or_insert(id);
            if field.sensitive {
                self.sensitive.push(format!("/{}", path.join("/")));
            }
            if shape != Shape::Question(QuestionType::Note) || !field.children.is_empty() {
                self.add_places(&field.children, id, path, lists, language);
            }
            path.pop();
        }
    }

    /// Paths (`/data/respondent/phone`) of the fields marked `sensitive`, in form order.
    pub fn sensitive_paths(&self) -> &[String] {
        &self.sensitive
    }

    /// The place of element `name` under `parent`, if the form has one.
    fn child_place(&self, parent: u32, name: &str) -> Option<u32> {
        self.by_name.get(name)?.iter().find(|(place_parent, _)| *place_parent == parent).map(|(_, place)| *place)
    }

    fn choice_label(&self, field: &str, value: &str) -> Option<String> {
        let field = field.trim().trim_start_matches("${").trim_end_matches('}');
        let place = &self.places[*self.field_places.get(field)? as usize];
        self.lists[place.list? as usize].labels.get(value).cloned()
    }

    fn evaluate(
        &self,
        expr: &Expr,
        instance: &Instance,
        context: NodeId,
        now: DateTime<FixedOffset>,
    ) -> Result<xpath::Value, xpath::EvalError> {
        let labels = |field: &str, value: &str| self.choice_label(field, value);
        let env = Env::new(instance, &self.fields, now).with_choice_labels(&labels);
        xpath::evaluate(expr, &env, context)
    }

    fn holds(&self, expr: &Expr, instance: &Instance, context: NodeId, now: DateTime<FixedOffset>) -> Option<bool> {
        self.evaluate(expr, instance, context, now).ok().map(|value| value.to_bool(instance))
    }

    /// Checks an OpenRosa XML submission. Refuses documents that are not XML,
    /// that carry a DOCTYPE or entities, or that answer another form or version.
    pub fn validate_xml(&self, xml: &str) -> Result<Validated, Rejected> {
        let submission = self.read_xml(xml)?;
        Ok(self.check(submission))
    }

    /// Checks a submission written as JSON: an object with the root's
    /// children (optionally wrapped as `{"data": {...}}`), groups as objects,
    /// repeats as arrays of objects, answers as text, numbers or booleans,
    /// select_multiple as text or an array of names, geopoints as text or as
    /// `{"latitude", "longitude", ...}`. `@id` and `@version` keys, if present,
    /// must match the form.
    pub fn validate_json(&self, json: &Json) -> Result<Validated, Rejected> {
        let submission = self.read_json(json)?;
        Ok(self.check(submission))
    }

    fn check_root_attribute(&self, name: &str, value: Option<&str>) -> Result<(), Rejected> {
        match name {
            "id" => match value {
                Some(id) if id == self.form_id => Ok(()),
                Some(id) => Err(Rejected::new(format!("this submission answers form `{id}`, not `{}`", self.form_id))),
                None => Err(Rejected::new(format!("the root element has no `id`: expected `{}`", self.form_id))),
            },
            _ => match (value, &self.version) {
                (Some(version), Some(expected)) if !version.is_empty() && version != expected => Err(Rejected::new(
                    format!("this submission answers version `{version}` of the form, not `{expected}`"),
                )),
                _ => Ok(()),
            },
        }
    }

    fn read_xml(&self, xml: &str) -> Result<Submission, Rejected> {
        if xml.len() > MAX_BYTES {
            return Err(Rejected::new(format!("the submission is larger than {} MiB", MAX_BYTES >> 20)));
        }
        let mut submission = Submission::new(self);
        let mut reader = quick_xml::Reader::from_str(xml);
        reader.config_mut().trim_text(false);
        let mut stack: Vec<u32> = Vec::new();
        let mut text = String::new();
        let mut finished = false;
        let not_xml = |error: &dyn fmt::Display| Rejected::new(format!("not well-formed XML: {error}"));
        loop {
            let event = reader.read_event().map_err(|error| not_xml(&error))?;
            match event {
                Event::Start(start) | Event::Empty(start) if finished => {
                    let _ = start;
                    return Err(Rejected::new("the document has more than one root element"));
                }
                Event::Start(start) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(Rejected::new(format!("elements nest deeper than {MAX_DEPTH} levels")));
                    }
                    let answer = self.open_xml(&mut submission, &stack, &start)?;
                    stack.push(answer);
                    text.clear();
                }
                Event::Empty(start) => {
                    let answer = self.open_xml(&mut submission, &stack, &start)?;
                    text.clear();
                    self.close(&mut submission, answer, &mut text);
                    finished = stack.is_empty();
                }
                Event::End(_) => {
                    let answer = stack.pop().ok_or_else(|| Rejected::new("an end tag without its start"))?;
                    self.close(&mut submission, answer, &mut text);
                    finished = stack.is_empty();
                }
                Event::Text(content) => {
                    if submission.takes_text(stack.last().copied(), self) {
                        text.push_str(&content.xml_content().map_err(|error| not_xml(&error))?);
                    } else if finished || stack.is_empty() {
                        let content = content.xml_content().map_err(|error| not_xml(&error))?;
                        if !content.trim().is_empty() {
                            return Err(Rejected::new("text outside the root element"));
                        }
                    }
                }
                Event::CData(data) => {
                    if submission.takes_text(stack.last().copied(), self) {
                        text.push_str(&data.decode().map_err(|error| not_xml(&error))?);
                    }
                }
                Event::GeneralRef(reference) => {
                    let resolved = match &*reference {
                        b"amp" => '&',
                        b"lt" => '<',
                        b"gt" => '>',
                        b"quot" => '"',
                        b"apos" => '\'',
                        _ => match reference.resolve_char_ref() {
                            Ok(Some(c)) => c,
                            _ => {
                                return Err(Rejected::new(format!(
                                    "unknown entity `&{};`: entities are not allowed",
                                    String::from_utf8_lossy(reference.as_ref())
                                )));
                            }
                        },
                    };
                    if submission.takes_text(stack.last().copied(), self) {
                        text.push(resolved);
                    }
                }
                Event::DocType(_) => {
                    return Err(Rejected::new("a DOCTYPE is not allowed in a submission (it can declare entities)"));
                }
                Event::Eof => break,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            }
        }
        if !finished {
            return Err(Rejected::new(if stack.is_empty() {
                "the document has no root element"
            } else {
                "the document ends before its elements are closed"
            }));
        }
        Ok(submission)
    }

    /// Starts an element: returns the answer it opens, or [`NONE`] when it is skipped.
    fn open_xml(&self, submission: &mut Submission, stack: &[u32], start: &BytesStart<'_>) -> Result<u32, Rejected> {
        let local = start.local_name();
        let name = std::str::from_utf8(local.as_ref()).map_err(|_| Rejected::new("an element name is not UTF-8"))?;
        let Some(&parent) = stack.last() else {
            if name != self.root {
                return Err(Rejected::new(format!(
                    "the root element is `{name}`, but this form's is `{}` (form `{}`)",
                    self.root, self.form_id
                )));
            }
            let mut id = None;
            let mut version = None;
            for attribute in start.attributes() {
                let attribute = attribute.map_err(|error| Rejected::new(format!("bad attribute: {error}")))?;
                let key = attribute.key.local_name();
                if key.as_ref() == b"id" || key.as_ref() == b"version" {
                    let value = attribute.unescape_value().map_err(|error| {
                        Rejected::new(format!("bad attribute value (entities are not allowed): {error}"))
                    })?;
                    if key.as_ref() == b"id" {
                        id = Some(value.into_owned());
                    } else {
                        version = Some(value.into_owned());
                    }
                }
            }
            self.check_root_attribute("id", id.as_deref())?;
            self.check_root_attribute("version", version.as_deref())?;
            return Ok(0);
        };
        if parent == NONE {
            return Ok(NONE);
        }
        submission.open(self, parent, name)
    }

    fn close(&self, submission: &mut Submission, answer: u32, text: &mut String) {
        if answer == NONE {
            return;
        }
        let node = submission.answers[answer as usize].node;
        let place = &self.places[submission.answers[answer as usize].place as usize];
        if place.is_container() {
            submission.complete(self, answer);
        } else if submission.answers[answer as usize].children.is_empty() {
            submission.instance.set_value(node, text.as_str());
        }
        text.clear();
    }

    fn read_json(&self, json: &Json) -> Result<Submission, Rejected> {
        let Some(mut object) = json.as_object() else {
            return Err(Rejected::new("a JSON submission must be an object"));
        };
        if object.len() == 1
            && let Some(Json::Object(inner)) = object.get(&self.root)
        {
            object = inner;
        }
        for key in ["id", "version"] {
            if let Some(value) = object.get(&format!("@{key}")) {
                let value = value.as_str().ok_or_else(|| Rejected::new(format!("`@{key}` must be text")))?;
                self.check_root_attribute(key, Some(value))?;
            }
        }
        let mut submission = Submission::new(self);
        self.fill_json(&mut submission, 0, object, 1)?;
        Ok(submission)
    }

    fn fill_json(
        &self,
        submission: &mut Submission,
        answer: u32,
        object: &Map<String, Json>,
        depth: usize,
    ) -> Result<(), Rejected> {
        if depth >= MAX_DEPTH {
            return Err(Rejected::new(format!("objects nest deeper than {MAX_DEPTH} levels")));
        }
        for (key, value) in object {
            if key.starts_with('@') {
                continue;
            }
            let parent_place = submission.answers[answer as usize].place;
            let place = self.child_place(parent_place, key).map(|place| &self.places[place as usize]);
            match (place.map(|place| place.shape), value) {
                (Some(Shape::Repeat), Json::Array(items)) => {
                    for item in items {
                        self.fill_json_child(submission, answer, key, item, depth)?;
                    }
                }
                _ => self.fill_json_child(submission, answer, key, value, depth)?,
            }
        }
        submission.complete(self, answer);
        Ok(())
    }

    fn fill_json_child(
        &self,
        submission: &mut Submission,
        parent: u32,
        key: &str,
        value: &Json,
        depth: usize,
    ) -> Result<(), Rejected> {
        let child = submission.open(self, parent, key)?;
        if child == NONE {
            return Ok(());
        }
        let place = &self.places[submission.answers[child as usize].place as usize];
        match value {
            Json::Object(object) if place.is_container() || place.shape == Shape::Free => {
                self.fill_json(submission, child, object, depth + 1)?;
            }
            _ if place.is_container() => {
                submission.error(self, child, format!("`{key}` is a group: its value should be an object"));
                submission.complete(self, child);
            }
            _ => match json_text(value) {
                Some(text) => submission.instance.set_value(submission.answers[child as usize].node, text),
                None => {
                    submission.error(self, child, "this value is neither text, a number, a list of names nor a point");
                }
            },
        }
        Ok(())
    }

    /// Works out relevance and calculations, then checks every relevant
    /// answer and builds the record.
    fn check(&self, mut submission: Submission) -> Validated {
        let now = Utc::now().fixed_offset();
        self.compute(&mut submission, now);
        let mut errors = std::mem::take(&mut submission.errors);
        let record = Json::Object(self.visit_group(&submission, 0, now, &mut errors));
        let (instance_id, deprecated_id) = submission.meta_ids(self);
        let mut list = errors.list;
        if errors.more > 0 {
            list.push(FieldError {
                path: format!("/{}", self.root),
                field: String::new(),
                message: format!("and {} more problems", errors.more),
            });
        }
        self.keep_spare(submission);
        Validated { instance_id, deprecated_id, record, errors: list }
    }

    fn keep_spare(&self, submission: Submission) {
        if submission.instance.len() <= SPARE_NODES {
            let mut spare = self.spare.0.lock().unwrap_or_else(PoisonError::into_inner);
            if spare.len() < SPARE_SUBMISSIONS {
                spare.push(submission);
            }
        }
    }

    /// Relevance and calculations, place by place in dependency order.
    fn compute(&self, submission: &mut Submission, now: DateTime<FixedOffset>) {
        let count = self.places.len();
        let mut start = vec![0u32; count + 1];
        for answer in &submission.answers {
            start[answer.place as usize + 1] += 1;
        }
        for index in 0..count {
            start[index + 1] += start[index];
        }
        let mut fill = start.clone();
        let mut by_place = vec![0u32; submission.answers.len()];
        for (index, answer) in submission.answers.iter().enumerate() {
            let slot = &mut fill[answer.place as usize];
            by_place[*slot as usize] = index as u32;
            *slot += 1;
        }
        for &place_id in &self.order {
            let place = &self.places[place_id as usize];
            let range = start[place_id as usize] as usize..start[place_id as usize + 1] as usize;
            for &answer in &by_place[range] {
                let Answer { node, parent, .. } = submission.answers[answer as usize];
                let mut relevant = parent == NONE || submission.answers[parent as usize].relevant;
                if relevant && let Some(expr) = &place.relevant {
                    relevant = self.holds(expr, &submission.instance, node, now).unwrap_or(true);
                }
                submission.answers[answer as usize].relevant = relevant;
                if !matches!(place.shape, Shape::Question(_)) {
                    continue;
                }
                if !relevant {
                    submission.instance.set_value(node, String::new());
                } else if let Some(calculation) = &place.calculation
                    && let Ok(value) = self.evaluate(calculation, &submission.instance, node, now)
                {
                    let text = value.to_string(&submission.instance);
                    submission.instance.set_value(node, text);
                }
            }
        }
    }

    fn visit_group(
        &self,
        submission: &Submission,
        answer: u32,
        now: DateTime<FixedOffset>,
        errors: &mut Errors,
    ) -> Map<String, Json> {
        let group = &submission.answers[answer as usize];
        let mut map = Map::new();
        for &child_place in &self.places[group.place as usize].children {
            let place = &self.places[child_place as usize];
            let Some(expr) = &place.repeat_count else { continue };
            let Ok(value) = self.evaluate(expr, &submission.instance, group.node, now) else { continue };
            let expected = value.to_number(&submission.instance);
            let found = group.children.iter().filter(|c| submission.answers[**c as usize].place == child_place).count();
            if expected.is_finite() && expected >= 0.0 && (expected.round() - found as f64).abs() > f64::EPSILON {
                errors.push(FieldError {
                    path: format!("{}/{}", submission.path(self, answer), place.name),
                    field: place.name.clone(),
                    message: format!(
                        "there should be {} `{}` entries (repeat_count `{expr}`), but there are {found}",
                        expected.round(),
                        place.name,
                    ),
                });
            }
        }
        let children = &group.children;
        let mut index = 0;
        while index < children.len() {
            let child = &submission.answers[children[index] as usize];
            let place = &self.places[child.place as usize];
            if place.shape == Shape::Repeat {
                let mut items = Vec::new();
                while index < children.len() && submission.answers[children[index] as usize].place == child.place {
                    let item = children[index];
                    if submission.answers[item as usize].relevant {
                        items.push(Json::Object(self.visit_group(submission, item, now, errors)));
                    }
                    index += 1;
                }
                if !items.is_empty() {
                    map.insert(place.name.clone(), Json::Array(items));
                }
                continue;
            }
            index += 1;
            if !child.relevant {
                continue;
            }
            let value = match place.shape {
                Shape::Root | Shape::Group => {
                    Json::Object(self.visit_group(submission, children[index - 1], now, errors))
                }
                Shape::Question(question) => self.check_answer(submission, children[index - 1], question, now, errors),
                Shape::Free | Shape::Repeat => submission.free_value(children[index - 1]),
            };
            let name = if place.shape == Shape::Free { submission.instance.name(child.node) } else { &place.name };
            map.insert(name.to_owned(), value);
        }
        map
    }

    fn check_answer(
        &self,
        submission: &Submission,
        answer: u32,
        question: QuestionType,
        now: DateTime<FixedOffset>,
        errors: &mut Errors,
    ) -> Json {
        let instance = &submission.instance;
        let node = submission.answers[answer as usize].node;
        let place = &self.places[submission.answers[answer as usize].place as usize];
        let raw = instance.value(node);
        let text = raw.trim();
        let mut fail = |message: String| {
            errors.push(FieldError { path: submission.path(self, answer), field: place.name.clone(), message });
        };
        if text.is_empty() {
            let required = match &place.required {
                Required::No => false,
                Required::Yes => true,
                Required::If(expr) => self.holds(expr, instance, node, now).unwrap_or(false),
            };
            if required {
                fail(place.required_message.clone().unwrap_or_else(|| "an answer is required".to_owned()));
            }
            return Json::Null;
        }
        let typed = match typed_value(question, place.decimal_range, raw) {
            Ok(typed) => typed,
            Err(message) => {
                fail(message);
                return Json::String(raw.to_owned());
            }
        };
        if let Some(list) = place.list.map(|list| &self.lists[list as usize]) {
            // A select_one's answer is one name, spaces and all; the others' are a list.
            let (single, several) = match question {
                QuestionType::SelectOne => (Some(text), ""),
                QuestionType::SelectMultiple | QuestionType::Rank => (None, text),
                _ => (None, ""),
            };
            for (index, name) in single.into_iter().chain(several.split_whitespace()).enumerate() {
                if several.split_whitespace().take(index).any(|earlier| earlier == name) {
                    fail(format!("`{name}` is chosen more than once"));
                } else if !list.labels.contains_key(name) && (!place.or_other || name != "other") {
                    fail(format!("`{name}` is not one of the choices of list `{}`", place.list_name));
                } else if let (Some(filter), Some(item)) = (&place.choice_filter, list.items.get(name))
                    && self.holds(filter, instance, *item, now) == Some(false)
                {
                    fail(format!("`{name}` is not among the choices offered here (choice_filter `{filter}`)"));
                }
            }
        }
        if let Some(constraint) = &place.constraint
            && self.holds(constraint, instance, node, now) == Some(false)
        {
            fail(place.constraint_message.clone().unwrap_or_else(|| {
                format!("the answer does not meet the condition `{}`", place.constraint_text.trim())
            }));
        }
        typed
    }
}

/// The order in which places get their relevance and calculation: after
/// their parent and after every field their expressions name; document order
/// otherwise, and for whatever is left in a cycle.
fn evaluation_order(places: &[Place], field_places: &HashMap<String, u32>, free: u32) -> Vec<u32> {
    let count = places.len();
    let mut dependents: Vec<Vec<u32>> = vec![Vec::new(); count];
    let mut pending = vec![0usize; count];
    for (id, place) in places.iter().enumerate() {
        if id as u32 == free {
            continue;
        }
        let mut needs: Vec<u32> = Vec::new();
        if place.parent != NONE {
            needs.push(place.parent);
        }
        for expr in [&place.relevant, &place.calculation].into_iter().flatten() {
            for name in expr.fields() {
                if let Some(&need) = field_places.get(name)
                    && need as usize != id
                    && !needs.contains(&need)
                {
                    needs.push(need);
                }
            }
        }
        pending[id] = needs.len();
        for need in needs {
            dependents[need as usize].push(id as u32);
        }
    }
    let mut done = vec![false; count];
    done[free as usize] = true;
    let mut ready: BinaryHeap<Reverse<u32>> =
        (0..count).filter(|id| pending[*id] == 0 && !done[*id]).map(|id| Reverse(id as u32)).collect();
    let mut order = Vec::with_capacity(count);
    let mut cursor = 0;
    loop {
        while let Some(Reverse(id)) = ready.pop() {
            if done[id as usize] {
                continue;
            }
            done[id as usize] = true;
            order.push(id);
            for &dependent in &dependents[id as usize] {
                let left = &mut pending[dependent as usize];
                *left = left.saturating_sub(1);
                if *left == 0 && !done[dependent as usize] {
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
        ready.push(Reverse(cursor as u32));
    }
    order.push(free);
    order
}

/// One element of the submission, tied to its place in the form.
#[derive(Clone, Debug)]
struct Answer {
    place: u32,
    node: NodeId,
    parent: u32,
    /// 1-based position among the entries of a repeat; 0 otherwise.
    index: u32,
    relevant: bool,
    children: Vec<u32>,
}

#[derive(Debug, Default)]
struct Errors {
    list: Vec<FieldError>,
    more: usize,
}

impl Errors {
    fn push(&mut self, error: FieldError) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(error);
        } else {
            self.more += 1;
        }
    }
}

/// A submission being read: its instance for expressions, and its answers.
struct Submission {
    instance: Instance,
    answers: Vec<Answer>,
    errors: Errors,
    /// Per place: the answer under which it was last seen, and how many
    /// times there (duplicate elements, repeat positions, missing elements).
    seen_under: Vec<u32>,
    seen_count: Vec<u32>,
}

impl Submission {
    /// An empty submission: a spare one emptied, or a new one.
    fn new(validator: &Validator) -> Self {
        let spare = validator.spare.0.lock().unwrap_or_else(PoisonError::into_inner).pop();
        if let Some(mut submission) = spare {
            // Only nodes were added to the template's copy (the root's
            // children and below), so dropping them gives the template back.
            submission.instance.truncate(validator.template.len());
            submission.answers.truncate(1);
            let root = &mut submission.answers[0];
            root.children.clear();
            root.relevant = true;
            submission.errors = Errors::default();
            submission.seen_under.fill(NONE);
            submission.seen_count.fill(0);
            return submission;
        }
        let instance = validator.template.clone();
        let root =
            Answer { place: 0, node: instance.root(), parent: NONE, index: 0, relevant: true, children: Vec::new() };
        let count = validator.places.len();
        Submission {
            instance,
            answers: vec![root],
            errors: Errors::default(),
            seen_under: vec![NONE; count],
            seen_count: vec![0; count],
        }
    }

    fn takes_text(&self, top: Option<u32>, validator: &Validator) -> bool {
        match top {
            Some(answer) if answer != NONE => {
                !validator.places[self.answers[answer as usize].place as usize].is_container()
            }
            _ => false,
        }
    }

    fn add(&mut self, validator: &Validator, place: u32, parent: u32, name: &str, index: u32) -> Result<u32, Rejected> {
        if self.answers.len() >= MAX_ELEMENTS {
            return Err(Rejected::new(format!("the submission has more than {MAX_ELEMENTS} elements")));
        }
        let id = self.answers.len() as u32;
        let node = self.instance.add_child(self.answers[parent as usize].node, name);
        let children = match validator.places[place as usize].children.len() {
            0 => Vec::new(),
            count => Vec::with_capacity(count),
        };
        self.answers.push(Answer { place, node, parent, index, relevant: true, children });
        self.answers[parent as usize].children.push(id);
        Ok(id)
    }

    /// Adds the answer for element `name` under `parent`; returns [`NONE`]
    /// (after noting the problem) when the form has no such element there.
    fn open(&mut self, validator: &Validator, parent: u32, name: &str) -> Result<u32, Rejected> {
        let parent_place = self.answers[parent as usize].place;
        let place_info = &validator.places[parent_place as usize];
        let Some(place) = validator.child_place(parent_place, name) else {
            if place_info.open || place_info.shape == Shape::Free {
                return self.add(validator, validator.free, parent, name, 0);
            }
            let message = if place_info.is_container() {
                format!("`{name}` is not a field of this form")
            } else {
                format!("`{}` is a question: it cannot contain an element `{name}`", place_info.name)
            };
            let path = format!("{}/{name}", self.path(validator, parent));
            self.errors.push(FieldError { path, field: name.to_owned(), message });
            return Ok(NONE);
        };
        let index = if self.seen_under[place as usize] == parent {
            self.seen_count[place as usize] + 1
        } else {
            self.seen_under[place as usize] = parent;
            1
        };
        self.seen_count[place as usize] = index;
        if validator.places[place as usize].shape == Shape::Repeat {
            return self.add(validator, place, parent, name, index);
        }
        if index > 1 {
            let path = format!("{}/{name}", self.path(validator, parent));
            let message = format!("`{name}` appears more than once; only the first is kept");
            self.errors.push(FieldError { path, field: name.to_owned(), message });
            return Ok(NONE);
        }
        self.add(validator, place, parent, name, 0)
    }

    /// Once a group is read: adds the elements it lacks (so expressions see
    /// them, calculations can fill them and required ones are reported) and
    /// puts its answers in form order.
    fn complete(&mut self, validator: &Validator, answer: u32) {
        let place = self.answers[answer as usize].place;
        for &child in &validator.places[place as usize].children {
            let child_place = &validator.places[child as usize];
            if child_place.shape != Shape::Repeat && self.seen_under[child as usize] != answer {
                self.seen_under[child as usize] = answer;
                self.seen_count[child as usize] = 1;
                // Bounded by the form's size, which `MAX_ELEMENTS` does not cover: ignore the limit here.
                if let Ok(added) = self.add(validator, child, answer, &child_place.name, 0)
                    && child_place.is_container()
                {
                    self.complete(validator, added);
                }
            }
        }
        let mut children = std::mem::take(&mut self.answers[answer as usize].children);
        let answers = &self.answers;
        children.sort_by_key(|child| {
            let place = answers[*child as usize].place;
            if place == validator.free { u32::MAX } else { validator.places[place as usize].position }
        });
        self.answers[answer as usize].children = children;
    }

    fn error(&mut self, validator: &Validator, answer: u32, message: impl Into<String>) {
        let path = self.path(validator, answer);
        let field = self.instance.name(self.answers[answer as usize].node).to_owned();
        self.errors.push(FieldError { path, field, message: message.into() });
    }

    /// `/data/household/member[2]/age`.
    fn path(&self, validator: &Validator, answer: u32) -> String {
        let mut chain = Vec::new();
        let mut next = answer;
        while next != NONE {
            chain.push(next);
            next = self.answers[next as usize].parent;
        }
        let mut out = String::new();
        for answer in chain.into_iter().rev() {
            let answer = &self.answers[answer as usize];
            out.push('/');
            out.push_str(self.instance.name(answer.node));
            if validator.places[answer.place as usize].shape == Shape::Repeat {
                let _ = write!(out, "[{}]", answer.index);
            }
        }
        out
    }

    /// An element accepted without a field: its text, or an object of its children.
    fn free_value(&self, answer: u32) -> Json {
        let entry = &self.answers[answer as usize];
        if entry.children.is_empty() {
            return Json::String(self.instance.value(entry.node).to_owned());
        }
        let mut map = Map::new();
        for &child in &entry.children {
            map.insert(self.instance.name(self.answers[child as usize].node).to_owned(), self.free_value(child));
        }
        Json::Object(map)
    }

    fn meta_ids(&self, validator: &Validator) -> (Option<String>, Option<String>) {
        let mut ids = (None, None);
        for &child in &self.answers[0].children {
            if self.answers[child as usize].place != validator.meta {
                continue;
            }
            for &id in &self.answers[child as usize].children {
                let node = self.answers[id as usize].node;
                let value = self.instance.value(node).trim();
                match self.instance.name(node) {
                    "instanceID" if !value.is_empty() => ids.0 = Some(value.to_owned()),
                    "deprecatedID" if !value.is_empty() => ids.1 = Some(value.to_owned()),
                    _ => {}
                }
            }
        }
        ids
    }
}

/// The text an answer given as JSON stands for.
fn json_text(value: &Json) -> Option<String> {
    match value {
        Json::Null => Some(String::new()),
        Json::String(text) => Some(text.clone()),
        Json::Bool(flag) => Some(flag.to_string()),
        Json::Number(number) => Some(number.to_string()),
        Json::Object(point) => point_text(point),
        Json::Array(items) => {
            let points = items.iter().all(Json::is_object);
            let parts: Option<Vec<String>> = items
                .iter()
                .map(|item| match item {
                    Json::String(text) => Some(text.clone()),
                    Json::Number(number) => Some(number.to_string()),
                    Json::Object(point) => point_text(point),
                    _ => None,
                })
                .collect();
            Some(parts?.join(if points && !items.is_empty() { ";" } else { " " }))
        }
    }
}

fn point_text(point: &Map<String, Json>) -> Option<String> {
    let mut parts = Vec::new();
    for key in ["latitude", "longitude", "altitude", "accuracy"] {
        match point.get(key) {
            Some(Json::Number(number)) => parts.push(number.to_string()),
            Some(Json::String(text)) => parts.push(text.clone()),
            None | Some(Json::Null) if parts.len() >= 2 => break,
            _ => return None,
        }
    }
    Some(parts.join(" "))
}

/// Reads an answer by the question's data type.
fn typed_value(question: QuestionType, decimal_range: bool, raw: &str) -> Result<Json, String> {
    let text = raw.trim();
    match question.bind_type() {
        Some("int") if !decimal_range => parse_int(text).map(Json::from),
        Some("int" | "decimal") => parse_decimal(text).map(decimal_json),
        Some("date") => parse_date(text).map(|date| Json::String(date.format("%Y-%m-%d").to_string())),
        Some("time") => {
            if is_time(text) {
                Ok(Json::String(text.to_owned()))
            } else {
                Err(format!("`{text}` is not a time (hh:mm:ss)"))
            }
        }
        Some("dateTime") => {
            if is_date_time(text) {
                Ok(Json::String(text.to_owned()))
            } else {
                Err(format!("`{text}` is not a date and time (YYYY-MM-DDThh:mm:ss)"))
            }
        }
        Some("geopoint") => parse_point(text).map(point_json),
        Some("geotrace") => parse_points(text, false),
        Some("geoshape") => parse_points(text, true),
        _ => match question {
            QuestionType::SelectMultiple | QuestionType::Rank => {
                Ok(Json::Array(text.split_whitespace().map(|name| Json::String(name.to_owned())).collect()))
            }
            QuestionType::SelectOne => Ok(Json::String(text.to_owned())),
            _ => Ok(Json::String(raw.to_owned())),
        },
    }
}

fn decimal_json(value: f64) -> Json {
    serde_json::Number::from_f64(value).map_or(Json::Null, Json::Number)
}

fn parse_int(text: &str) -> Result<i64, String> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a whole number"));
    }
    text.parse::<i64>().map_err(|_| format!("`{text}` is too large a number"))
}

fn parse_decimal(text: &str) -> Result<f64, String> {
    let bad = || format!("`{text}` is not a number");
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !digits(whole) || !digits(fraction) {
        return Err(bad());
    }
    if let Some(exponent) = exponent {
        let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        if exponent.is_empty() || !digits(exponent) {
            return Err(bad());
        }
    }
    let value: f64 = text.parse().map_err(|_| bad())?;
    if value.is_finite() { Ok(value) } else { Err(format!("`{text}` is too large a number")) }
}

fn number_at(text: &str, at: usize, len: usize) -> Option<u32> {
    let part = text.get(at..at + len)?;
    if part.bytes().all(|b| b.is_ascii_digit()) { part.parse().ok() } else { None }
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let bytes = text.as_bytes();
    let date = (bytes.len() == 10 && bytes[4] == b'-' && bytes[7] == b'-')
        .then(|| NaiveDate::from_ymd_opt(number_at(text, 0, 4)? as i32, number_at(text, 5, 2)?, number_at(text, 8, 2)?))
        .flatten();
    date.ok_or_else(|| format!("`{text}` is not a date (YYYY-MM-DD)"))
}

/// `hh:mm`, `hh:mm:ss`, `hh:mm:ss.sss`, then optionally `Z`, `±hh`, `±hhmm` or `±hh:mm`.
fn is_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 5 || bytes[2] != b':' {
        return false;
    }
    let (Some(hour), Some(minute)) = (number_at(text, 0, 2), number_at(text, 3, 2)) else { return false };
    if hour > 23 || minute > 59 {
        return false;
    }
    let mut at = 5;
    if bytes.get(at) == Some(&b':') {
        match number_at(text, at + 1, 2) {
            Some(second) if second <= 59 => at += 3,
            _ => return false,
        }
        if bytes.get(at) == Some(&b'.') {
            let digits = bytes[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 {
                return false;
            }
            at += 1 + digits;
        }
    }
    let zone = &text[at..];
    match zone.as_bytes().first() {
        None => true,
        Some(b'Z') => zone.len() == 1,
        Some(b'+' | b'-') => {
            let offset = &zone[1..];
            let (hours, minutes) = match offset.len() {
                2 => (number_at(offset, 0, 2), Some(0)),
                4 => (number_at(offset, 0, 2), number_at(offset, 2, 2)),
                5 if offset.as_bytes()[2] == b':' => (number_at(offset, 0, 2), number_at(offset, 3, 2)),
                _ => return false,
            };
            matches!((hours, minutes), (Some(h), Some(m)) if h <= 14 && m <= 59)
        }
        _ => false,
    }
}

fn is_date_time(text: &str) -> bool {
    text.len() > 11 && text.as_bytes()[10] == b'T' && parse_date(&text[..10]).is_ok() && is_time(&text[11..])
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Point {
    latitude: f64,
    longitude: f64,
    altitude: Option<f64>,
    accuracy: Option<f64>,
}

fn parse_point(text: &str) -> Result<Point, String> {
    let bad = || format!("`{text}` is not a point (latitude longitude [altitude [accuracy]])");
    let mut numbers = [0.0f64; 4];
    let mut count = 0;
    for part in text.split_whitespace() {
        if count == 4 {
            return Err(bad());
        }
        numbers[count] = parse_decimal(part).map_err(|_| bad())?;
        count += 1;
    }
    if count < 2 {
        return Err(bad());
    }
    let [latitude, longitude, altitude, accuracy] = numbers;
    if !(-90.0..=90.0).contains(&latitude) {
        return Err(format!("latitude {latitude} is outside -90 to 90"));
    }
    if !(-180.0..=180.0).contains(&longitude) {
        return Err(format!("longitude {longitude} is outside -180 to 180"));
    }
    if count == 4 && accuracy < 0.0 {
        return Err(format!("accuracy {accuracy} is negative"));
    }
    Ok(Point {
        latitude,
        longitude,
        altitude: (count >= 3).then_some(altitude),
        accuracy: (count == 4).then_some(accuracy),
    })
}

fn point_json(point: Point) -> Json {
    let mut map = Map::new();
    map.insert("latitude".to_owned(), decimal_json(point.latitude));
    map.insert("longitude".to_owned(), decimal_json(point.longitude));
    map.insert("altitude".to_owned(), point.altitude.map_or(Json::Null, decimal_json));
    map.insert("accuracy".to_owned(), point.accuracy.map_or(Json::Null, decimal_json));
    Json::Object(map)
}

fn parse_points(text: &str, shape: bool) -> Result<Json, String> {
    let points: Vec<Point> =
        text.split(';').map(str::trim).filter(|part| !part.is_empty()).map(parse_point).collect::<Result<_, _>>()?;
    if shape {
        if points.len() < 4 {
            return Err(format!("a shape needs at least 4 points (the last one closing it), not {}", points.len()));
        }
        let (first, last) = (points[0], points[points.len() - 1]);
        // Within a millionth of a metre: the device writes the first point again.
        if (first.latitude - last.latitude).abs() > 1e-11 || (first.longitude - last.longitude).abs() > 1e-11 {
            return Err("a shape must end where it starts".to_owned());
        }
    } else if points.len() < 2 {
        return Err(format!("a line needs at least 2 points, not {}", points.len()));
    }
    Ok(Json::Array(points.into_iter().map(point_json).collect()))
}

#[cfg(test)]
mod tests;
