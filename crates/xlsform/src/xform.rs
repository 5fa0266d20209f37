//! The ODK XForm of a form, as pyxform writes it: the primary instance, one
//! secondary instance per choice list, binds, `<itext>` translations and the
//! body controls. `${name}` references become XPath paths the way pyxform
//! makes them: absolute, or relative (`../name`) between fields of the same
//! repeat, with `current()` inside predicates on secondary instances.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::model::{ChoiceList, DEFAULT_LANGUAGE, Field, Form, Kind, QuestionType, Translated};
use crate::xml::{Element, Node};

const NAMESPACES: [(&str, &str); 7] = [
    ("xmlns", "http://www.w3.org/2002/xforms"),
    ("xmlns:h", "http://www.w3.org/1999/xhtml"),
    ("xmlns:ev", "http://www.w3.org/2001/xml-events"),
    ("xmlns:xsd", "http://www.w3.org/2001/XMLSchema"),
    ("xmlns:jr", "http://openrosa.org/javarosa"),
    ("xmlns:orx", "http://openrosa.org/xforms"),
    ("xmlns:odk", "http://www.opendatakit.org/xforms"),
];

/// The XForm of `form`, as text.
pub fn to_xform(form: &Form) -> String {
    xform_tree(form).to_document()
}

/// Where a field sits: its element names from the root and whether each
/// ancestor (and itself) is a repeat.
#[derive(Clone, Debug)]
struct Place {
    names: Vec<String>,
    repeats: Vec<bool>,
}

impl Place {
    fn path(&self) -> String {
        format!("/{}", self.names.join("/"))
    }
}

/// An `<itext>` value in each language: text mixed with `<output/>`.
type Texts = BTreeMap<String, Vec<Node>>;

struct Writer<'a> {
    form: &'a Form,
    places: HashMap<&'a str, Place>,
    itext: BTreeMap<String, Vec<(String, Texts)>>,
    itext_order: Vec<String>,
    binds: Vec<Element>,
    setvalues: Vec<Element>,
}

/// The XForm of `form`, as a tree.
pub fn xform_tree(form: &Form) -> Element {
    let fields = with_meta(form);
    let mut writer = Writer {
        form,
        places: HashMap::new(),
        itext: BTreeMap::new(),
        itext_order: Vec::new(),
        binds: Vec::new(),
        setvalues: Vec::new(),
    };
    let root = Place { names: vec![form.root.clone()], repeats: vec![false] };
    index(&fields, &root, &mut writer.places);

    let mut data = Element::new(&form.root).attr("id", &form.id);
    if let Some(version) = &form.settings.version {
        data.set("version", version);
    }
    for (key, value) in &form.settings.other {
        if let Some(attribute) = key.strip_prefix("attribute::").or_else(|| key.strip_prefix("attribute:")) {
            data.set(attribute, value);
        }
    }
    if let Some(prefix) = form.settings.other.get("prefix") {
        data.set("odk:prefix", prefix);
    }
    if let Some(delimiter) = form.settings.other.get("delimiter") {
        data.set("odk:delimiter", delimiter);
    }
    writer.instance_children(&fields, &root, &mut data, None);

    let mut body = Element::new("h:body");
    if let Some(style) = &form.settings.style {
        body.set("class", style);
    }
    for field in &fields {
        let place = Writer::child_place(field, &root);
        if let Some(control) = writer.control(field, &place) {
            body.push(control);
        }
    }
    writer.collect_binds(&fields, &root);

    let mut model = Element::new("model").attr("odk:xforms-version", "1.0.0");
    if let Some(entity) = &form.entity {
        model.set("entities:entities-version", "2024.1.0");
        let path = format!("/{}/meta/entity", form.root);
        writer.binds.push(
            Element::new("bind")
                .attr("nodeset", format!("{path}/@id"))
                .attr("readonly", "true()")
                .attr("type", "string"),
        );
        writer.setvalues.push(
            Element::new("setvalue")
                .attr("ref", format!("{path}/@id"))
                .attr("event", "odk-instance-first-load")
                .attr("value", "uuid()"),
        );
        if let Some(label) = &entity.label {
            let meta = Place {
                names: vec![form.root.clone(), "meta".to_owned(), "entity".to_owned()],
                repeats: vec![false; 3],
            };
            writer.binds.push(
                Element::new("bind")
                    .attr("nodeset", format!("{path}/label"))
                    .attr("calculate", writer.references(label, &meta, false))
                    .attr("readonly", "true()")
                    .attr("type", "string"),
            );
        }
    }
    if let Some(submission) = submission(form) {
        model.push(submission);
    }
    for list in &form.choices {
        writer.choice_itext(list);
    }
    if let Some(itext) = writer.itext_element() {
        model.push(itext);
    }
    model.push(Element::new("instance").child(data));
    for list in &form.choices {
        model.push(choice_instance(list));
    }
    for field in fields.iter().flat_map(descendants) {
        if let Some(QuestionType::ExternalInstance { csv }) = field.question_type() {
            let src =
                if csv { format!("jr://file-csv/{}.csv", field.name) } else { format!("jr://file/{}.xml", field.name) };
            model.push(Element::new("instance").attr("id", &field.name).attr("src", src));
        }
    }
    for field in fields.iter().flat_map(descendants) {
        if let Some(list) = &field.list
            && let Some((base, extension)) = list.rsplit_once('.')
            && field.question_type().is_some_and(QuestionType::takes_choices)
            && !model.elements().any(|element| element.name == "instance" && element.get("id") == Some(base))
        {
            let src = if extension == "csv" { format!("jr://file-csv/{list}") } else { format!("jr://file/{list}") };
            model.push(Element::new("instance").attr("id", base).attr("src", src));
        }
    }
    for id in pulldata_files(&fields) {
        if !model.elements().any(|element| element.name == "instance" && element.get("id") == Some(id.as_str())) {
            let src = format!("jr://file-csv/{id}.csv");
            model.push(Element::new("instance").attr("id", &id).attr("src", src));
        }
    }
    model.children.extend(writer.binds.drain(..).map(Node::Element));
    model.children.extend(writer.setvalues.drain(..).map(Node::Element));

    let head = Element::new("h:head").child(Element::new("h:title").text(&form.title)).child(model);
    let mut html = Element::new("h:html");
    for (name, uri) in NAMESPACES {
        html.set(name, uri);
    }
    if form.entity.is_some() {
        html.set("xmlns:entities", "http://www.opendatakit.org/xforms/entities");
    }
    html.child(head).child(body)
}

/// The CSV files `pulldata('file', ...)` reads, in order of first use.
fn pulldata_files(fields: &[Field]) -> Vec<String> {
    let mut files = Vec::new();
    for field in fields.iter().flat_map(descendants) {
        for text in [&field.calculation, &field.relevant, &field.constraint, &field.default].into_iter().flatten() {
            let mut rest = text.as_str();
            while let Some(at) = rest.find("pulldata(") {
                rest = &rest[at + "pulldata(".len()..];
                let argument = rest.trim_start();
                if let Some(quote) = argument.chars().next().filter(|c| *c == '\'' || *c == '"')
                    && let Some(end) = argument[1..].find(quote)
                {
                    let id = argument[1..=end].to_owned();
                    if !files.contains(&id) {
                        files.push(id);
                    }
                }
            }
        }
    }
    files
}

fn descendants(field: &Field) -> Vec<&Field> {
    let mut out = vec![field];
    for child in &field.children {
        out.extend(descendants(child));
    }
    out
}

/// The form's fields plus the `meta` group pyxform adds (instanceID, and
/// instanceName and audit when asked for).
fn with_meta(form: &Form) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    let mut meta =
        form.fields.iter().find(|field| field.name == "meta" && field.is_group()).cloned().unwrap_or(Field {
            name: "meta".to_owned(),
            kind: Some(Kind::Group),
            type_text: "group".to_owned(),
            ..Field::default()
        });
    for field in &form.fields {
        if field.name == "meta" && field.is_group() {
            continue;
        }
        if field.question_type() == Some(QuestionType::Audit) {
            meta.children.push(field.clone());
            continue;
        }
        fields.push(field.clone());
    }
    if !meta.children.iter().any(|child| child.name == "instanceID") {
        meta.children.push(Field {
            name: "instanceID".to_owned(),
            kind: Some(Kind::Question(QuestionType::Hidden)),
            type_text: "instanceID".to_owned(),
            read_only: Some("true()".to_owned()),
            bind_attributes: vec![("jr:preload".to_owned(), "uid".to_owned())],
            ..Field::default()
        });
    }
    if let Some(name) = &form.settings.instance_name {
        meta.children.push(Field {
            name: "instanceName".to_owned(),
            kind: Some(Kind::Question(QuestionType::Calculate)),
            type_text: "instanceName".to_owned(),
            calculation: Some(name.clone()),
            ..Field::default()
        });
    }
    "meta".clone_into(&mut meta.type_text);
    fields.push(meta);
    fields
}

fn index<'a>(fields: &'a [Field], parent: &Place, places: &mut HashMap<&'a str, Place>) {
    for field in fields {
        let place = Writer::child_place(field, parent);
        index(&field.children, &place, places);
        places.entry(field.name.as_str()).or_insert(place);
    }
}

fn submission(form: &Form) -> Option<Element> {
    let url = form.settings.other.get("submission_url");
    let key = form.settings.other.get("public_key");
    if url.is_none() && key.is_none() {
        return None;
    }
    let mut submission = Element::new("submission").attr("method", "post");
    if let Some(url) = url {
        submission.set("action", url);
    }
    if let Some(key) = key {
        submission.set("base64RsaPublicKey", key);
    }
    if let Some(auto_send) = form.settings.other.get("auto_send") {
        submission.set("orx:auto-send", auto_send);
    }
    if let Some(auto_delete) = form.settings.other.get("auto_delete") {
        submission.set("orx:auto-delete", auto_delete);
    }
    Some(submission)
}

fn choice_instance(list: &ChoiceList) -> Element {
    let itext = list.uses_itext();
    let mut root = Element::new("root");
    for (index, choice) in list.choices.iter().enumerate() {
        let mut item = Element::new("item");
        if itext {
            item.push(Element::new("itextId").text(format!("{}-{index}", list.name)));
        }
        item.push(Element::new("name").text(&choice.name));
        if !itext && let Some(label) = choice.label.get(None) {
            item.push(Element::new("label").text(label));
        }
        for (column, value) in &choice.extra {
            if crate::parse::is_xml_name(column) {
                item.push(Element::new(column.as_str()).text(value));
            }
        }
        root.push(item);
    }
    Element::new("instance").attr("id", &list.name).child(root)
}

/// A value for a boolean bind (`required`, `readonly`): `yes` → `true()`.
fn bind_boolean(value: &str) -> String {
    match value.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "true()" => "true()".to_owned(),
        "no" | "false" | "false()" => "false()".to_owned(),
        _ => value.to_owned(),
    }
}

/// Whether a default must be computed on the device (pyxform's rule: it
/// holds a reference, a function call, a predicate or arithmetic).
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
    let mut tokens = default.split_whitespace();
    let math = default.contains(['+', '*', '|'])
        || (!hyphen_is_data && default.contains('-') && default.parse::<f64>().is_err());
    math || tokens.any(|token| token == "div" || token == "mod")
}

impl Writer<'_> {
    /// `copies`: outside repeats, a repeat is written twice, as its
    /// `jr:template` and as a first instance; inside a template (`Some(true)`)
    /// a nested repeat is written once as a template, inside a first
    /// instance (`Some(false)`) once as plain elements.
    fn instance_children(&self, fields: &[Field], parent: &Place, out: &mut Element, copies: Option<bool>) {
        for field in fields {
            let place = Self::child_place(field, parent);
            if matches!(field.question_type(), Some(QuestionType::ExternalInstance { .. })) {
                continue;
            }
            if field.is_group() {
                let mut element = Element::new(&field.name);
                if field.name == "meta"
                    && field.type_text == "meta"
                    && let Some(entity) = &self.form.entity
                {
                    let mut node = Element::new("entity").attr("dataset", &entity.dataset);
                    node.set("create", "1");
                    node.set("id", "");
                    node.push(Element::new("label"));
                    element.push(node);
                }
                for (key, value) in &field.instance_attributes {
                    element.set(key, self.references(value, &place, false));
                }
                if field.flat {
                    self.instance_children(&field.children, &place, out, copies);
                    continue;
                }
                if !field.is_repeat() {
                    self.instance_children(&field.children, &place, &mut element, copies);
                    out.push(element);
                    continue;
                }
                if copies != Some(false) {
                    let mut template = Element::new(&field.name).attr("jr:template", "");
                    self.instance_children(&field.children, &place, &mut template, Some(true));
                    out.push(template);
                }
                if copies != Some(true) {
                    self.instance_children(&field.children, &place, &mut element, Some(false));
                    out.push(element);
                }
            } else {
                let mut element = Element::new(&field.name);
                if let Some(default) = &field.default
                    && !default_is_dynamic(default, field.question_type())
                {
                    element = element.text(default);
                }
                for (key, value) in &field.instance_attributes {
                    element.set(key, self.references(value, &place, false));
                }
                out.push(element);
            }
        }
    }

    fn child_place(field: &Field, parent: &Place) -> Place {
        if field.flat {
            return parent.clone();
        }
        let mut place = parent.clone();
        place.names.push(field.name.clone());
        place.repeats.push(field.is_repeat());
        place
    }

    fn collect_binds(&mut self, fields: &[Field], parent: &Place) {
        for field in fields {
            let place = Self::child_place(field, parent);
            if !matches!(field.question_type(), Some(QuestionType::ExternalInstance { .. })) {
                if let Some(bind) = self.bind(field, &place) {
                    self.binds.push(bind);
                }
                if field.question_type() == Some(QuestionType::StartGeopoint) {
                    self.setvalues.push(
                        Element::new("odk:setgeopoint")
                            .attr("event", "odk-instance-first-load")
                            .attr("ref", place.path()),
                    );
                }
                if let Some(default) = &field.default
                    && default_is_dynamic(default, field.question_type())
                    && !place.repeats[..place.repeats.len() - 1].iter().any(|repeat| *repeat)
                {
                    self.setvalues.push(
                        Element::new("setvalue")
                            .attr("event", "odk-instance-first-load")
                            .attr("ref", place.path())
                            .attr("value", self.references(default, &place, false)),
                    );
                }
            }
            self.collect_binds(&field.children, &place);
        }
    }

    fn bind(&mut self, field: &Field, place: &Place) -> Option<Element> {
        let mut bind = Element::new("bind").attr("nodeset", place.path());
        if let Some(question) = field.question_type() {
            if let Some(kind) = question.bind_type() {
                let kind = if question == QuestionType::Range && range_is_decimal(field) { "decimal" } else { kind };
                bind.set("type", kind);
            }
            if let QuestionType::Metadata(metadata) = question {
                let (preload, params, _) = metadata.preload();
                bind.set("jr:preload", preload);
                bind.set("jr:preloadParams", params);
            }
            if question == QuestionType::Note {
                bind.set("readonly", "true()");
            }
        }
        if let Some(read_only) = &field.read_only {
            bind.set("readonly", self.references(&bind_boolean(read_only), place, false));
        }
        if field.question_type() == Some(QuestionType::Image)
            && let Some((_, pixels)) = field.parameters.iter().find(|(key, _)| key == "max-pixels")
        {
            bind.set("orx:max-pixels", pixels);
        }
        if let Some(required) = &field.required {
            bind.set("required", self.references(&bind_boolean(required), place, false));
        }
        if let Some(relevant) = &field.relevant {
            bind.set("relevant", self.references(relevant, place, false));
        }
        if let Some(constraint) = &field.constraint {
            bind.set("constraint", self.references(constraint, place, false));
        }
        if let Some(calculation) = &field.calculation {
            bind.set("calculate", self.references(calculation, place, false));
        }
        if let Some(message) = self.message(place, "jr:constraintMsg", &field.constraint_message) {
            bind.set("jr:constraintMsg", message);
        }
        if let Some(message) = self.message(place, "jr:requiredMsg", &field.required_message) {
            bind.set("jr:requiredMsg", message);
        }
        for (key, value) in &field.bind_attributes {
            bind.set(key, self.references(value, place, false));
        }
        if field.question_type() == Some(QuestionType::Audit) {
            for (key, value) in &field.parameters {
                bind.set(&format!("odk:{key}"), value);
            }
        }
        if bind.attributes.len() == 1 || field.flat {
            return None;
        }
        Some(bind)
    }

    fn message(&mut self, place: &Place, kind: &str, text: &Translated) -> Option<String> {
        if text.is_empty() {
            return None;
        }
        // A message that shows answers (`${name}`) needs `<output/>`, which
        // only `<itext>` can hold.
        let shows_answers = text.0.values().any(|value| value.contains("${"));
        if text.is_translated() || shows_answers {
            let id = format!("{}:{kind}", place.path());
            self.add_itext(&id, vec![(String::new(), text.clone())], place);
            Some(format!("jr:itext('{id}')"))
        } else {
            text.get(None).map(|text| self.references(text, place, false))
        }
    }

    /// The body control of a field, if it has one.
    fn control(&mut self, field: &Field, place: &Place) -> Option<Element> {
        match &field.kind {
            Some(Kind::Group) => {
                if field.name == "meta" && field.type_text == "meta" {
                    return None;
                }
                let mut group = Element::new("group");
                for (key, value) in &field.body_attributes {
                    group.set(key, self.references(value, place, false));
                }
                if let Some(appearance) = &field.appearance {
                    group.set("appearance", appearance);
                }
                if !field.flat {
                    group.set("ref", place.path());
                }
                if let Some(count) = &field.repeat_count {
                    group.set("jr:count", self.references(count, place, false));
                }
                if !field.label.is_empty() || !field.media.is_empty() {
                    group.push(self.label(field, place));
                }
                if field.hint.is_translated() {
                    self.hint(field, place);
                }
                self.children_controls(field, place, &mut group);
                Some(group)
            }
            Some(Kind::Repeat) => {
                let mut repeat = Element::new("repeat").attr("nodeset", place.path());
                if let Some(count) = &field.repeat_count {
                    repeat.set("jr:count", self.references(count, place, false));
                }
                for (key, value) in &field.body_attributes {
                    repeat.set(key, self.references(value, place, false));
                }
                if let Some(appearance) = &field.appearance {
                    repeat.set("appearance", appearance);
                }
                self.children_controls(field, place, &mut repeat);
                let mut group = Element::new("group").attr("ref", place.path());
                group.push(self.label(field, place));
                group.push(repeat);
                Some(group)
            }
            Some(Kind::Question(question)) => self.question_control(field, *question, place),
            None => None,
        }
    }

    fn children_controls(&mut self, field: &Field, place: &Place, out: &mut Element) {
        for child in &field.children {
            let child_place = Self::child_place(child, place);
            if let Some(control) = self.control(child, &child_place) {
                out.push(control);
            }
        }
    }

    fn question_control(&mut self, field: &Field, question: QuestionType, place: &Place) -> Option<Element> {
        let hidden =
            (field.calculation.is_some() || field.trigger.is_some()) && field.label.is_empty() && field.hint.is_empty();
        let Some((tag, mediatype)) = question.control().filter(|_| !hidden) else {
            // No control, but translated texts still go to <itext>.
            if Self::label_in_itext(field) {
                self.label(field, place);
            }
            if field.hint.is_translated() || !field.guidance_hint.is_empty() {
                self.hint(field, place);
            }
            return None;
        };
        let mut control = Element::new(tag).attr("ref", place.path());
        if let Some(mediatype) = mediatype {
            control.set("mediatype", mediatype);
        }
        if let Some(appearance) = &field.appearance {
            control.set("appearance", appearance);
        }
        for (key, value) in &field.body_attributes {
            control.set(key, self.references(value, place, false));
        }
        if question == QuestionType::Range {
            for (key, default) in [("start", "1"), ("end", "10"), ("step", "1")] {
                let value = field.parameters.iter().find(|(name, _)| name == key).map_or(default, |(_, v)| v.as_str());
                control.set(key, value);
            }
        }
        if question == QuestionType::SelectOneExternal
            && let Some(list) = &field.list
        {
            let query = match &field.choice_filter {
                Some(filter) => format!("instance('{list}')/root/item[{}]", self.references(filter, place, true)),
                None => format!("instance('{list}')/root/item"),
            };
            control.set("query", query);
        }
        control.push(self.label(field, place));
        if let Some(hint) = self.hint(field, place) {
            control.push(hint);
        }
        if question.takes_choices()
            && let Some(list) = &field.list
        {
            control.push(self.itemset(field, list, place));
        }
        if question == QuestionType::Osm
            && let Some(list) = field.list.as_deref().and_then(|name| self.form.osm.iter().find(|l| l.name == name))
        {
            for tag in &list.choices {
                let mut element = Element::new("tag").attr("key", &tag.name);
                if let Some(label) = tag.label.get(None) {
                    element.push(Element::new("label").text(label));
                }
                control.push(element);
            }
        }
        Some(control)
    }

    fn itemset(&self, field: &Field, list: &str, place: &Place) -> Element {
        let (value_ref, label_ref, nodeset) = if let Some((base, extension)) = list.rsplit_once('.') {
            let (value, label) = if extension == "geojson" { ("id", "title") } else { ("name", "label") };
            let value = field.parameters.iter().find(|(key, _)| key == "value").map_or(value, |(_, v)| v.as_str());
            let label = field.parameters.iter().find(|(key, _)| key == "label").map_or(label, |(_, v)| v.as_str());
            (value.to_owned(), label.to_owned(), format!("instance('{base}')/root/item"))
        } else {
            let itext = self.form.choice_list(list).is_some_and(ChoiceList::uses_itext);
            let label = if itext { "jr:itext(itextId)" } else { "label" };
            ("name".to_owned(), label.to_owned(), format!("instance('{list}')/root/item"))
        };
        let nodeset = match &field.choice_filter {
            Some(filter) => format!("{nodeset}[{}]", self.references(filter, place, true)),
            None => nodeset,
        };
        Element::new("itemset")
            .attr("nodeset", nodeset)
            .child(Element::new("value").attr("ref", value_ref))
            .child(Element::new("label").attr("ref", label_ref))
    }

    /// `<label>` inline or as an `<itext>` reference.
    fn label(&mut self, field: &Field, place: &Place) -> Element {
        let id = format!("{}:label", place.path());
        if Self::label_in_itext(field) {
            let mut values = Vec::new();
            if !field.label.is_empty() {
                values.push((String::new(), field.label.clone()));
            }
            for (kind, media) in &field.media {
                let form = if kind == "big-image" { "big-image" } else { kind.as_str() };
                values.push((form.to_owned(), media.clone()));
            }
            self.add_itext(&id, values, place);
            return Element::new("label").attr("ref", format!("jr:itext('{id}')"));
        }
        self.inline_text("label", field.label.get(None).unwrap_or(""), place)
    }

    fn hint(&mut self, field: &Field, place: &Place) -> Option<Element> {
        if field.hint.is_empty() && field.guidance_hint.is_empty() {
            return None;
        }
        let id = format!("{}:hint", place.path());
        if field.hint.is_translated() || !field.guidance_hint.is_empty() {
            let mut values = Vec::new();
            if !field.hint.is_empty() {
                values.push((String::new(), field.hint.clone()));
            }
            if !field.guidance_hint.is_empty() {
                values.push(("guidance".to_owned(), field.guidance_hint.clone()));
            }
            self.add_itext(&id, values, place);
            return Some(Element::new("hint").attr("ref", format!("jr:itext('{id}')")));
        }
        Some(self.inline_text("hint", field.hint.get(None).unwrap_or(""), place))
    }

    fn label_in_itext(field: &Field) -> bool {
        field.label.is_translated() || !field.media.is_empty()
    }

    /// A label or hint whose `${name}` become `<output value="..."/>`.
    fn inline_text(&self, tag: &str, text: &str, place: &Place) -> Element {
        let mut element = Element::new(tag);
        element.children = self.text_nodes(text, place);
        if element.children.is_empty() {
            element = element.text("");
        }
        element
    }

    fn add_itext(&mut self, id: &str, values: Vec<(String, Translated)>, place: &Place) {
        let values = values
            .into_iter()
            .map(|(form, text)| {
                let texts: Texts = text
                    .0
                    .into_iter()
                    .map(|(language, value)| {
                        let nodes = if form.is_empty() || form == "guidance" {
                            self.text_nodes(&value, place)
                        } else {
                            vec![Node::Text(media_uri(&form, &value))]
                        };
                        (language, nodes)
                    })
                    .collect();
                (form, texts)
            })
            .collect();
        if self.itext.insert(id.to_owned(), values).is_none() {
            self.itext_order.push(id.to_owned());
        }
    }

    /// Text with `<output value="..."/>` elements for references.
    fn text_nodes(&self, text: &str, place: &Place) -> Vec<Node> {
        let mut nodes = Vec::new();
        for (is_reference, part) in split_references(text) {
            if is_reference {
                let value = self.references(&format!("${{{part}}}"), place, false);
                nodes.push(Node::Element(Element::new("output").attr("value", value)));
            } else if !part.is_empty() {
                nodes.push(Node::Text(part.to_owned()));
            }
        }
        nodes
    }

    fn choice_itext(&mut self, list: &ChoiceList) {
        if !list.uses_itext() {
            return;
        }
        for (index, choice) in list.choices.iter().enumerate() {
            let id = format!("{}-{index}", list.name);
            let mut values = Vec::new();
            if !choice.label.is_empty() {
                let root = Place { names: vec![self.form.root.clone()], repeats: vec![false] };
                let label: Texts = choice
                    .label
                    .0
                    .iter()
                    .map(|(language, text)| (language.clone(), self.text_nodes(text, &root)))
                    .collect();
                values.push((String::new(), label));
            }
            for (kind, media) in &choice.media {
                let media: Texts = media
                    .0
                    .iter()
                    .map(|(language, text)| (language.clone(), vec![Node::Text(media_uri(kind, text))]))
                    .collect();
                values.push((kind.clone(), media));
            }
            if self.itext.insert(id.clone(), values).is_none() {
                self.itext_order.push(id);
            }
        }
    }

    fn itext_element(&self) -> Option<Element> {
        if self.itext.is_empty() {
            return None;
        }
        let mut languages: Vec<String> = self.form.languages.clone();
        if languages.is_empty() {
            languages.push(DEFAULT_LANGUAGE.to_owned());
        }
        let default_language = self
            .form
            .settings
            .default_language
            .clone()
            .filter(|language| languages.contains(language))
            .unwrap_or_else(|| DEFAULT_LANGUAGE.to_owned());
        let mut itext = Element::new("itext");
        for language in &languages {
            let mut translation = Element::new("translation").attr("lang", language);
            if *language == default_language {
                translation.set("default", "true()");
            }
            for id in &self.itext_order {
                let mut text = Element::new("text").attr("id", id);
                for (form, values) in &self.itext[id] {
                    let value = values.get(language);
                    let value = match value {
                        Some(value) => value.clone(),
                        None if form.is_empty() => vec![Node::Text("-".to_owned())],
                        None => continue,
                    };
                    let mut element = Element::new("value");
                    if !form.is_empty() {
                        element.set("form", form);
                    }
                    element.children = value;
                    text.push(element);
                }
                translation.push(text);
            }
            itext.push(translation);
        }
        Some(itext)
    }

    /// Replaces every `${name}` in `text` by the path of that field, seen
    /// from `place`.
    fn references(&self, text: &str, place: &Place, use_current: bool) -> String {
        if !text.contains("${") {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut rest = text;
        let mut offset = 0;
        while let Some(start) = rest.find("${") {
            let Some(end) = rest[start..].find('}') else { break };
            let inner = &rest[start + 2..start + end];
            out.push_str(&rest[..start]);
            let position = offset + start;
            let (last_saved, name) = match inner.strip_prefix("last-saved#") {
                Some(name) => (true, name),
                None => (false, inner),
            };
            match self.places.get(name) {
                Some(target) => {
                    let current = use_current || in_instance_predicate(text, position);
                    let relative = (!last_saved && !absolute_in_indexed_repeat(text, position))
                        .then(|| relative_path(place, target, current))
                        .flatten();
                    match relative {
                        Some(path) => out.push_str(&path),
                        None if last_saved => {
                            let _ = write!(out, " instance('__last-saved'){} ", target.path());
                        }
                        None => {
                            let _ = write!(out, " {} ", target.path());
                        }
                    }
                }
                None => out.push_str(&rest[start..=start + end]),
            }
            offset += start + end + 1;
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// `a.jpg` in an image column means `jr://images/a.jpg`.
fn media_uri(kind: &str, value: &str) -> String {
    if value.starts_with("jr://") {
        return value.to_owned();
    }
    let folder = match kind {
        "audio" => "audio",
        "video" => "video",
        _ => "images",
    };
    format!("jr://{folder}/{value}")
}

fn range_is_decimal(field: &Field) -> bool {
    field.parameters.iter().any(|(key, value)| matches!(key.as_str(), "start" | "end" | "step") && value.contains('.'))
}

/// Splits text into literal parts and `${name}` names.
fn split_references(text: &str) -> Vec<(bool, &str)> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(end) = rest[start..].find('}') else { break };
        parts.push((false, &rest[..start]));
        parts.push((true, &rest[start + 2..start + end]));
        rest = &rest[start + end + 1..];
    }
    parts.push((false, rest));
    parts
}

/// pyxform's relative reference: when source and target share a repeat,
/// go up to their lowest common group or repeat and down to the target.
fn relative_path(source: &Place, target: &Place, use_current: bool) -> Option<String> {
    // Proper ancestors of both (not the root, which is not a group).
    let limit = source.names.len().min(target.names.len()) - 1;
    let mut common = 1;
    while common < limit && source.names[common] == target.names[common] {
        common += 1;
    }
    // Prefixes of length 2..=common are common ancestors.
    let shares_repeat = (1..common).any(|depth| source.repeats[depth]);
    if !shares_repeat || common < 2 {
        return None;
    }
    let steps = source.names.len() - common;
    let down = target.names[common..].join("/");
    let up = vec![".."; steps].join("/");
    let prefix = if use_current { " current()/" } else { " " };
    Some(format!("{prefix}{up}/{down} "))
}

/// Whether the reference at `position` sits in a `[predicate]` of an
/// expression that reads a secondary instance.
fn in_instance_predicate(text: &str, position: usize) -> bool {
    if !text.contains("instance(") {
        return false;
    }
    let before = &text[..position];
    let opened = before.matches('[').count();
    let closed = before.matches(']').count();
    opened > closed
}

/// In `indexed-repeat(path, repeat, index, ...)` the path and repeat
/// arguments (1st, 2nd, 4th, 6th) are absolute.
fn absolute_in_indexed_repeat(text: &str, position: usize) -> bool {
    let Some(call) = text.find("indexed-repeat(") else { return false };
    if position < call {
        return false;
    }
    let args_start = call + "indexed-repeat(".len();
    let mut depth = 0;
    let mut argument = 0;
    for (offset, c) in text[args_start..].char_indices() {
        let at = args_start + offset;
        if at == position {
            return [0, 1, 3, 5].contains(&argument);
        }
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return false,
            ')' => depth -= 1,
            ',' if depth == 0 => argument += 1,
            _ => {}
        }
    }
    false
}
