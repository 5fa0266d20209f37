//! From sheets to a [`Form`]: headers and their spelling variants, the
//! survey tree, choice lists, settings, and every problem found on the way,
//! located by sheet, row and column.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::{
    Choice, ChoiceList, DEFAULT_LANGUAGE, Entity, Field, Form, FormError, FormErrors, Kind, QuestionType, Settings,
    Translated,
};
use crate::read::{Sheet, Workbook, read_workbook};
use crate::xpath;

/// Reads an XLSForm file. `file_name` gives the form its id when the
/// settings sheet has none, as pyxform does.
pub fn read_form(bytes: &[u8], file_name: Option<&str>) -> Result<Form, FormErrors> {
    let workbook = read_workbook(bytes, file_name).map_err(|error| FormErrors(vec![error]))?;
    let stem = file_name
        .map(|name| name.rsplit(['/', '\\']).next().unwrap_or(name))
        .map(|name| name.split_once('.').map_or(name, |(stem, _)| stem));
    parse_workbook(&workbook, stem)
}

/// What a header means.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Column {
    Type,
    Name,
    Label(String),
    Hint(String),
    GuidanceHint(String),
    Media(String, String),
    Required,
    RequiredMessage(String),
    Relevant,
    Constraint,
    ConstraintMessage(String),
    Calculation,
    ReadOnly,
    Default,
    Appearance,
    ChoiceFilter,
    Parameters,
    Trigger,
    RepeatCount,
    Sensitive,
    ListName,
    Bind(String),
    Body(String),
    Instance(String),
    Other(String),
}

const MEDIA: [&str; 4] = ["image", "big-image", "audio", "video"];

fn column(header: &str) -> Column {
    let header = header.split_whitespace().collect::<Vec<_>>().join(" ");
    let grouped = ["bind::", "control::", "body::", "instance::", "media::"]
        .iter()
        .any(|prefix| header.to_ascii_lowercase().starts_with(prefix));
    let header = if grouped { header.replacen("::", ":", 1) } else { header };
    let (base, language) = match header.split_once("::") {
        Some((base, language)) => (base.trim().to_owned(), Some(language.trim().to_owned())),
        None => (header.clone(), None),
    };
    let lower = base.to_ascii_lowercase();
    // `bind:relevant`, `control:appearance`, `body:x`, `instance:x`, `media:image`
    if let Some((prefix, rest)) = base.split_once(':') {
        let rest = rest.trim();
        match prefix.trim().to_ascii_lowercase().as_str() {
            "bind" => {
                return match rest.to_ascii_lowercase().as_str() {
                    "relevant" => Column::Relevant,
                    "constraint" => Column::Constraint,
                    "required" => Column::Required,
                    "calculate" => Column::Calculation,
                    "readonly" => Column::ReadOnly,
                    "jr:constraintmsg" => Column::ConstraintMessage(lang(language)),
                    "jr:requiredmsg" => Column::RequiredMessage(lang(language)),
                    _ => Column::Bind(rest.to_owned()),
                };
            }
            "control" | "body" => {
                return match rest.to_ascii_lowercase().as_str() {
                    "appearance" => Column::Appearance,
                    "jr:count" => Column::RepeatCount,
                    _ => Column::Body(rest.to_owned()),
                };
            }
            "instance" => return Column::Instance(rest.to_owned()),
            "media" => return Column::Media(rest.to_ascii_lowercase(), lang(language)),
            "jr" => {}
            _ if language.is_none() => {
                // `label:English (en)`, pyxform's older single-colon spelling.
                let translatable = translatable(&prefix.trim().to_ascii_lowercase(), rest.to_owned());
                if let Some(column) = translatable {
                    return column;
                }
            }
            _ => {}
        }
    }
    if let Some(column) = translatable(&lower, lang(language.clone())) {
        return column;
    }
    match lower.as_str() {
        "type" | "command" => Column::Type,
        "name" | "value" | "tag" => Column::Name,
        "required" => Column::Required,
        "relevant" | "relevance" => Column::Relevant,
        "constraint" => Column::Constraint,
        "calculation" | "calculate" => Column::Calculation,
        "read_only" | "readonly" => Column::ReadOnly,
        "default" => Column::Default,
        "appearance" => Column::Appearance,
        "choice_filter" => Column::ChoiceFilter,
        "parameters" => Column::Parameters,
        "trigger" => Column::Trigger,
        "repeat_count" | "jr:count" | "count" => Column::RepeatCount,
        "sensitive" => Column::Sensitive,
        "list_name" | "list name" => Column::ListName,
        "noapperrorstring" | "no_app_error_string" => Column::Bind("jr:noAppErrorString".to_owned()),
        "autoplay" | "rows" => Column::Body(lower),
        _ => Column::Other(header),
    }
}

fn lang(language: Option<String>) -> String {
    language.filter(|language| !language.is_empty()).unwrap_or_else(|| DEFAULT_LANGUAGE.to_owned())
}

fn translatable(base: &str, language: String) -> Option<Column> {
    Some(match base {
        "label" | "caption" => Column::Label(language),
        "hint" => Column::Hint(language),
        "guidance_hint" => Column::GuidanceHint(language),
        "constraint_message" | "constraining_message" | "jr:constraintmsg" => Column::ConstraintMessage(language),
        "required_message" | "requiredmsg" | "jr:requiredmsg" => Column::RequiredMessage(language),
        media if MEDIA.contains(&media) => Column::Media(media.to_owned(), language),
        _ => return None,
    })
}

/// A sheet's header, read: the meaning of each column and its heading.
struct Header {
    columns: Vec<Option<(Column, String)>>,
}

impl Header {
    fn read(sheet: &Sheet, errors: &mut Vec<FormError>) -> Option<(usize, Header)> {
        let (row, cells) = sheet.rows.first()?;
        let mut seen: HashMap<Column, String> = HashMap::new();
        let mut columns = Vec::new();
        for cell in cells {
            if cell.is_empty() {
                columns.push(None);
                continue;
            }
            let meaning = column(cell);
            if let Some(earlier) = seen.get(&meaning) {
                let message = if earlier == cell {
                    format!("the column `{cell}` appears twice; keep one")
                } else {
                    format!("the columns `{earlier}` and `{cell}` mean the same thing; keep one")
                };
                errors.push(FormError::new(&sheet.name, Some(*row), Some(cell), message));
            } else {
                seen.insert(meaning.clone(), cell.clone());
            }
            columns.push(Some((meaning, cell.clone())));
        }
        Some((*row, Header { columns }))
    }

    /// The cells of a row by meaning, skipping empty ones.
    fn cells<'a>(&'a self, cells: &'a [String]) -> impl Iterator<Item = (&'a Column, &'a str, &'a str)> {
        self.columns.iter().zip(cells).filter_map(|(column, cell)| {
            let (column, heading) = column.as_ref()?;
            (!cell.is_empty()).then_some((column, heading.as_str(), cell.as_str()))
        })
    }

    fn has(&self, wanted: &Column) -> bool {
        self.columns.iter().flatten().any(|(column, _)| column == wanted)
    }

    fn languages(&self, out: &mut Vec<String>) {
        for (column, _) in self.columns.iter().flatten() {
            let (Column::Label(language)
            | Column::Hint(language)
            | Column::GuidanceHint(language)
            | Column::Media(_, language)
            | Column::ConstraintMessage(language)
            | Column::RequiredMessage(language)) = column
            else {
                continue;
            };
            if !out.contains(language) {
                out.push(language.clone());
            }
        }
    }
}

/// Reads the sheets of a workbook as an XLSForm.
pub fn parse_workbook(workbook: &Workbook, file_stem: Option<&str>) -> Result<Form, FormErrors> {
    let mut errors = Vec::new();
    let lone_sheet = (workbook.sheets.len() == 1).then(|| &workbook.sheets[0]);
    let Some(survey) = workbook.sheet("survey").or(lone_sheet) else {
        let names: Vec<&str> = workbook.sheets.iter().map(|sheet| sheet.name.as_str()).collect();
        return Err(FormErrors(vec![FormError::workbook(format!(
            "there is no sheet named `survey` (the sheets are: {}); an XLSForm needs one",
            names.join(", ")
        ))]));
    };
    let settings = workbook.sheet("settings").map(|sheet| read_settings(sheet, &mut errors)).unwrap_or_default();
    let mut languages = Vec::new();
    let choices = workbook.sheet("choices").map(|sheet| read_choices(sheet, &settings, &mut languages, &mut errors));
    let collapse = settings.other.get("clean_text_values").is_none_or(|value| truthy(value) || value.is_empty());
    let mut fields = read_survey(survey, collapse, &mut languages, &mut errors);
    let mut choices = choices;
    if let Some(language) = settings.default_language.clone() {
        // Text without a language is in the form's default language.
        if let Some(at) = languages.iter().position(|known| known == DEFAULT_LANGUAGE) {
            if languages.contains(&language) {
                languages.remove(at);
            } else {
                languages[at].clone_from(&language);
            }
        }
        rename_default(&mut fields, choices.as_mut(), &language);
    }
    let choices = choices.unwrap_or_default();
    let id = settings.form_id.clone().or_else(|| file_stem.map(str::to_owned)).unwrap_or_else(|| "data".to_owned());
    let title = settings.form_title.clone().unwrap_or_else(|| id.clone());
    // The default language comes first, as in pyxform's itext.
    languages.sort_by_key(|language| language != DEFAULT_LANGUAGE);
    let root = settings.other.get("name").cloned().unwrap_or_else(|| "data".to_owned());
    let osm = workbook
        .sheet("osm")
        .map(|sheet| read_choices(sheet, &settings, &mut Vec::new(), &mut errors))
        .unwrap_or_default();
    let entity = workbook.sheet("entities").and_then(|sheet| read_entity(sheet, &mut errors));
    let mut form = Form { root, title, id, settings, languages, fields, choices, osm, entity };
    expand(&mut form);
    check(&form, &survey.name, &mut errors);
    if errors.is_empty() {
        Ok(form)
    } else {
        errors.sort_by_key(|error| (error.sheet != survey.name, error.row));
        Err(FormErrors(errors))
    }
}

fn read_settings(sheet: &Sheet, errors: &mut Vec<FormError>) -> Settings {
    let mut settings = Settings::default();
    let Some((_, header)) = Header::read(sheet, errors) else {
        return settings;
    };
    // Only the first row of values counts.
    let Some((_, values)) = sheet.rows.get(1) else {
        return settings;
    };
    for (_, heading, value) in header.cells(values) {
        let key = heading.to_ascii_lowercase();
        let value = value.to_owned();
        match key.as_str() {
            "form_title" | "set_form_title" | "title" => settings.form_title = Some(value),
            "form_id" | "set_form_id" | "id_string" => settings.form_id = Some(value),
            "version" => settings.version = Some(value),
            "default_language" => settings.default_language = Some(value),
            "instance_name" => settings.instance_name = Some(value),
            "style" => settings.style = Some(value),
            "allow_choice_duplicates" => {
                settings.allow_choice_duplicates =
                    matches!(value.to_ascii_lowercase().as_str(), "yes" | "true" | "true()");
            }
            _ => {
                settings.other.insert(key, value);
            }
        }
    }
    settings
}

fn read_choices(
    sheet: &Sheet,
    settings: &Settings,
    languages: &mut Vec<String>,
    errors: &mut Vec<FormError>,
) -> Vec<ChoiceList> {
    let Some((header_row, header)) = Header::read(sheet, errors) else {
        return Vec::new();
    };
    header.languages(languages);
    for wanted in [Column::ListName, Column::Name] {
        if !header.has(&wanted) {
            let name = if wanted == Column::ListName { "list_name" } else { "name" };
            errors.push(FormError::new(
                &sheet.name,
                Some(header_row),
                None,
                format!("the choices sheet has no `{name}` column"),
            ));
            return Vec::new();
        }
    }
    let mut lists: Vec<ChoiceList> = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for (row, cells) in data_rows(sheet, false) {
        let row = &row;
        let cells = &cells;
        let mut list_name = None;
        let mut choice = Choice { row: *row, ..Choice::default() };
        for (column, heading, value) in header.cells(cells) {
            match column {
                Column::ListName => list_name = Some(value.to_owned()),
                Column::Name => value.clone_into(&mut choice.name),
                Column::Label(language) => choice.label.insert(language, value.to_owned()),
                Column::Media(kind, language) => {
                    choice.media.entry(kind.clone()).or_default().insert(language, value.to_owned());
                }
                _ => choice.extra.push((heading.to_owned(), value.to_owned())),
            }
        }
        let Some(list_name) = list_name else {
            if !choice.name.is_empty() || !choice.label.is_empty() {
                errors.push(FormError::new(&sheet.name, Some(*row), Some("list_name"), "this choice has no list name"));
            }
            continue;
        };
        if choice.name.is_empty() {
            errors.push(FormError::new(
                &sheet.name,
                Some(*row),
                Some("name"),
                format!("this choice of the list `{list_name}` has no name"),
            ));
            continue;
        }
        if let Some(first) = seen.insert((list_name.clone(), choice.name.clone()), *row)
            && !settings.allow_choice_duplicates
        {
            errors.push(FormError::new(
                &sheet.name,
                Some(*row),
                Some("name"),
                format!(
                    "the list `{list_name}` already has a choice named `{}` (row {first}); choice names must be \
                     unique in a list, or set allow_choice_duplicates in the settings",
                    choice.name
                ),
            ));
        }
        match lists.iter_mut().find(|list| list.name == list_name) {
            Some(list) => list.choices.push(choice),
            None => lists.push(ChoiceList { name: list_name, choices: vec![choice] }),
        }
    }
    lists
}

/// Moves text written without a language to the form's default language.
fn rename_default(fields: &mut [Field], choices: Option<&mut Vec<ChoiceList>>, language: &str) {
    fn texts(field: &mut Field) -> Vec<&mut Translated> {
        let mut out = vec![
            &mut field.label,
            &mut field.hint,
            &mut field.guidance_hint,
            &mut field.constraint_message,
            &mut field.required_message,
        ];
        out.extend(field.media.values_mut());
        out
    }
    fn move_text(text: &mut Translated, language: &str) {
        if let Some(value) = text.0.remove(DEFAULT_LANGUAGE) {
            text.0.entry(language.to_owned()).or_insert(value);
        }
    }
    for field in fields.iter_mut() {
        rename_default(&mut field.children, None, language);
        for text in texts(field) {
            move_text(text, language);
        }
    }
    for list in choices.into_iter().flatten() {
        for choice in &mut list.choices {
            move_text(&mut choice.label, language);
            for media in choice.media.values_mut() {
                move_text(media, language);
            }
        }
    }
}

/// pyxform's `flat` setting: groups leave no element of their own, and
/// their relevance is joined to their children's.
fn flatten(fields: &mut [Field], parent_relevant: Option<&str>) {
    for field in fields {
        let own = field.relevant.clone();
        let combined = match (parent_relevant, own.as_deref()) {
            (Some(parent), Some(own)) => Some(format!("{parent} and ({own})")),
            (Some(parent), None) => Some(parent.to_owned()),
            (None, own) => own.map(str::to_owned),
        };
        if field.is_group() {
            field.flat = true;
            flatten(&mut field.children, combined.as_deref());
        } else {
            field.relevant = combined;
        }
    }
}

/// The first row of the entities sheet: the dataset submissions create
/// entities in, and the expression of their label.
fn read_entity(sheet: &Sheet, errors: &mut Vec<FormError>) -> Option<Entity> {
    let (_, header) = Header::read(sheet, errors)?;
    let (row, values) = sheet.rows.get(1)?;
    let mut entity = Entity { row: *row, ..Entity::default() };
    for (column, heading, value) in header.cells(values) {
        match (column, heading.to_ascii_lowercase().as_str()) {
            (Column::ListName, _) | (_, "dataset") => value.clone_into(&mut entity.dataset),
            (Column::Label(_), _) => entity.label = Some(value.to_owned()),
            (_, "create_if") => entity.create_if = Some(value.to_owned()),
            (_, "update_if") => entity.update_if = Some(value.to_owned()),
            (_, "entity_id") => entity.entity_id = Some(value.to_owned()),
            _ => {}
        }
    }
    if entity.dataset.is_empty() {
        errors.push(FormError::new(
            &sheet.name,
            Some(*row),
            Some("list_name"),
            "the entity has no dataset (list_name)",
        ));
        return None;
    }
    Some(entity)
}

/// What pyxform adds or rewrites after reading: `or_other` fields, names
/// for unnamed notes, `table-list` groups, loops.
fn expand(form: &mut Form) {
    let others: Vec<String> = form
        .walk()
        .into_iter()
        .filter(|(_, field)| field.or_other)
        .filter_map(|(_, field)| field.list.clone())
        .collect();
    for list in others {
        if let Some(list) = form.choices.iter_mut().find(|candidate| candidate.name == list)
            && !list.contains("other")
        {
            let mut label = Translated::default();
            let languages: Vec<String> =
                list.choices.iter().flat_map(|choice| choice.label.0.keys().cloned()).collect();
            for language in languages {
                label.insert(&language, "Other".to_owned());
            }
            if label.is_empty() {
                label.insert(DEFAULT_LANGUAGE, "Other".to_owned());
            }
            list.choices.push(Choice { name: "other".to_owned(), label, ..Choice::default() });
        }
    }
    let choices = form.choices.clone();
    expand_fields(&mut form.fields, &choices);
    if form.settings.other.get("flat").is_some_and(|value| truthy(value)) {
        flatten(&mut form.fields, None);
    }
}

fn expand_fields(fields: &mut Vec<Field>, choices: &[ChoiceList]) {
    let mut out = Vec::with_capacity(fields.len());
    for mut field in fields.drain(..) {
        expand_fields(&mut field.children, choices);
        if field.is_group() && field.appearance.as_deref() == Some("table-list") {
            table_list(&mut field);
        }
        if field.is_group()
            && let Some(list) = field.list.clone()
            && let Some(list) = choices.iter().find(|candidate| candidate.name == list)
        {
            // `begin loop over list`: one group per choice.
            let template = std::mem::take(&mut field.children);
            field.list = None;
            field.kind = Some(Kind::Group);
            for choice in &list.choices {
                let mut group = Field {
                    name: choice.name.clone(),
                    kind: Some(Kind::Group),
                    type_text: "group".to_owned(),
                    label: choice.label.clone(),
                    row: field.row,
                    ..Field::default()
                };
                group.children = template
                    .iter()
                    .cloned()
                    .map(|mut child| {
                        for text in child.label.0.values_mut() {
                            *text = loop_text(text, choice);
                        }
                        child
                    })
                    .collect();
                field.children.push(group);
            }
        }
        if field.is_repeat()
            && let Some(count) = field.repeat_count.clone()
            && !is_single_reference(&count)
        {
            // pyxform keeps a computed count in a calculate beside the repeat.
            let name = format!("{}_count", field.name);
            out.push(Field {
                name: name.clone(),
                kind: Some(Kind::Question(QuestionType::Calculate)),
                type_text: "calculate".to_owned(),
                calculation: Some(count),
                read_only: Some("true()".to_owned()),
                row: field.row,
                ..Field::default()
            });
            field.repeat_count = Some(format!("${{{name}}}"));
        }
        let other = field.or_other.then(|| {
            let mut label = Translated::default();
            label.insert(DEFAULT_LANGUAGE, "Specify other.".to_owned());
            Field {
                name: format!("{}_other", field.name),
                kind: Some(Kind::Question(QuestionType::Text)),
                type_text: "text".to_owned(),
                label,
                relevant: Some(format!("selected(../{}, 'other')", field.name)),
                row: field.row,
                ..Field::default()
            }
        });
        out.push(field);
        out.extend(other);
    }
    *fields = out;
}

/// `${name}` and nothing else.
fn is_single_reference(text: &str) -> bool {
    let text = text.trim();
    text.starts_with("${") && text.ends_with('}') && text.matches("${").count() == 1
}

/// `%(label)s` and `%(name)s` in a loop's questions.
fn loop_text(text: &str, choice: &Choice) -> String {
    text.replace("%(label)s", choice.label.get(None).unwrap_or(&choice.name)).replace("%(name)s", &choice.name)
}

/// pyxform's `table-list` appearance: a field-list whose label and hint go
/// into a note, then a select showing the choices as column headings, then
/// the selects without their choice labels.
fn table_list(group: &mut Field) {
    group.appearance = Some("field-list".to_owned());
    let Some(first) =
        group.children.iter().find(|child| child.question_type().is_some_and(QuestionType::takes_choices))
    else {
        return;
    };
    let mut heading = first.clone();
    heading.name = format!("reserved_name_for_field_list_labels_{}", group.row + 1);
    heading.label = Translated::default();
    heading.label.insert(DEFAULT_LANGUAGE, " ".to_owned());
    heading.hint = Translated::default();
    heading.appearance = Some("label".to_owned());
    heading.relevant = None;
    heading.required = None;
    heading.constraint = None;
    let note = Field {
        name: format!("generated_table_list_label_{}", group.row),
        kind: Some(Kind::Question(QuestionType::Note)),
        type_text: "note".to_owned(),
        label: std::mem::take(&mut group.label),
        hint: std::mem::take(&mut group.hint),
        row: group.row,
        ..Field::default()
    };
    for child in &mut group.children {
        if child.question_type().is_some_and(QuestionType::takes_choices) {
            child.appearance = Some("list-nolabel".to_owned());
        }
    }
    group.children.insert(0, heading);
    if !note.label.is_empty() || !note.hint.is_empty() {
        group.children.insert(0, note);
    }
}

/// The rows under the header, up to a run of more than 60 empty rows:
/// like pyxform, what comes after is taken to be notes, not the form.
/// Typographic quotes become plain ones (spreadsheets put them in
/// expressions), and with `collapse` runs of whitespace become one space.
fn data_rows(sheet: &Sheet, collapse: bool) -> impl Iterator<Item = (usize, Vec<String>)> + '_ {
    let mut previous = sheet.rows.first().map_or(0, |(row, _)| *row);
    sheet
        .rows
        .iter()
        .skip(1)
        .take_while(move |(row, _)| {
            let near = row - previous <= 61;
            previous = *row;
            near
        })
        .map(move |(row, cells)| (*row, cells.iter().map(|cell| clean(cell, collapse)).collect()))
}

fn clean(text: &str, collapse: bool) -> String {
    let text: String = text
        .chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201c}' | '\u{201d}' => '"',
            c => c,
        })
        .collect();
    if collapse { text.split_whitespace().collect::<Vec<_>>().join(" ") } else { text }
}

/// A begin group/repeat waiting for its end.
struct Open {
    field: Field,
    end_word: &'static str,
}

fn read_survey(sheet: &Sheet, collapse: bool, languages: &mut Vec<String>, errors: &mut Vec<FormError>) -> Vec<Field> {
    let name = &sheet.name;
    let Some((header_row, header)) = Header::read(sheet, errors) else {
        errors.push(FormError::new(name, None, None, "the survey sheet is empty"));
        return Vec::new();
    };
    header.languages(languages);
    if !header.has(&Column::Type) {
        errors.push(FormError::new(name, Some(header_row), None, "the survey sheet has no `type` column"));
        return Vec::new();
    }
    let mut stack: Vec<Open> = vec![Open { field: Field::default(), end_word: "" }];
    for (row, cells) in data_rows(sheet, collapse) {
        let row = &row;
        let cells = &cells;
        let mut field = Field { row: *row, ..Field::default() };
        let mut type_text = String::new();
        let mut content = false;
        for (column, _, value) in header.cells(cells) {
            content = true;
            let value = value.to_owned();
            match column {
                Column::Type => type_text = value,
                Column::Name => field.name = value,
                Column::Label(language) => field.label.insert(language, value),
                Column::Hint(language) => field.hint.insert(language, value),
                Column::GuidanceHint(language) => field.guidance_hint.insert(language, value),
                Column::Media(kind, language) => field.media.entry(kind.clone()).or_default().insert(language, value),
                Column::Required => field.required = Some(value),
                Column::RequiredMessage(language) => field.required_message.insert(language, value),
                Column::Relevant => field.relevant = Some(value),
                Column::Constraint => field.constraint = Some(value),
                Column::ConstraintMessage(language) => field.constraint_message.insert(language, value),
                Column::Calculation => field.calculation = Some(value),
                Column::ReadOnly => field.read_only = Some(value),
                Column::Default => field.default = Some(value),
                Column::Appearance => field.appearance = Some(value),
                Column::ChoiceFilter => field.choice_filter = Some(value),
                Column::Parameters => field.parameters = parameters(&value),
                Column::Trigger => field.trigger = Some(value),
                Column::RepeatCount => field.repeat_count = Some(value),
                Column::Sensitive => field.sensitive = truthy(&value),
                Column::Bind(attribute) => field.bind_attributes.push((attribute.clone(), value)),
                Column::Body(attribute) => field.body_attributes.push((attribute.clone(), value)),
                Column::Instance(attribute) => field.instance_attributes.push((attribute.clone(), value)),
                Column::ListName | Column::Other(_) => {}
            }
        }
        if !content {
            continue;
        }
        let type_text = type_text.split_whitespace().collect::<Vec<_>>().join(" ");
        if type_text.is_empty() {
            if !field.name.is_empty() || !field.label.is_empty() {
                errors.push(FormError::new(name, Some(*row), Some("type"), "this row has no type"));
            }
            continue;
        }
        let lower = type_text.to_ascii_lowercase();
        // end group / end repeat
        if let Some(word) = control_word(&lower, "end") {
            let top = stack.pop().expect("the root is never popped");
            if stack.is_empty() || top.end_word != word {
                let message = if stack.is_empty() {
                    format!("`{type_text}` has no matching `begin {word}`")
                } else {
                    format!(
                        "`{type_text}` closes the {} `{}` opened on row {}, which needs `end {}`",
                        top.end_word, top.field.name, top.field.row, top.end_word
                    )
                };
                errors.push(FormError::new(name, Some(*row), Some("type"), message));
                if stack.is_empty() {
                    stack.push(top);
                } else {
                    stack.last_mut().expect("a parent").field.children.push(top.field);
                }
                continue;
            }
            stack.last_mut().expect("a parent").field.children.push(top.field);
            continue;
        }
        field.type_text.clone_from(&type_text);
        if let Some(word) = control_word(&lower, "begin") {
            field.kind = Some(if word == "repeat" { Kind::Repeat } else { Kind::Group });
            if let Some((_, list)) = lower.split_once(" over ") {
                field.list = Some(type_text[type_text.len() - list.len()..].trim().to_owned());
                field.kind = Some(Kind::Group);
            }
            if field.name.is_empty() {
                errors.push(FormError::new(name, Some(*row), Some("name"), format!("this {word} has no name")));
            }
            stack.push(Open { field, end_word: if word == "repeat" { "repeat" } else { "group" } });
            continue;
        }
        match question_type(&type_text) {
            Ok((question, list, or_other)) => {
                field.kind = Some(Kind::Question(question));
                field.list = list;
                field.or_other = or_other;
                preset(&mut field, &lower);
            }
            Err(message) => {
                errors.push(FormError::new(name, Some(*row), Some("type"), message));
                continue;
            }
        }
        if field.name.is_empty() && field.question_type() == Some(QuestionType::Note) {
            field.name = format!("generated_note_name_{row}");
        }
        if field.name.is_empty() {
            errors.push(FormError::new(name, Some(*row), Some("name"), "this question has no name"));
            continue;
        }
        stack.last_mut().expect("a parent").field.children.push(field);
    }
    while stack.len() > 1 {
        let open = stack.pop().expect("more than the root");
        errors.push(FormError::new(
            name,
            Some(open.field.row),
            Some("type"),
            format!("`begin {}` `{}` is never closed with `end {}`", open.end_word, open.field.name, open.end_word),
        ));
        stack.last_mut().expect("a parent").field.children.push(open.field);
    }
    stack.pop().map(|root| root.field.children).unwrap_or_default()
}

/// `begin group`, `begin_repeat`, `end loop`...: the control word.
fn control_word(lower: &str, which: &str) -> Option<&'static str> {
    let rest = lower.strip_prefix(which)?.trim_start_matches([' ', '_']);
    let word = rest.split_whitespace().next().unwrap_or("");
    match word {
        "group" | "lgroup" | "loop" => Some("group"),
        "repeat" | "looped" => Some("repeat"),
        _ => None,
    }
}

/// Reads `select_one list or_other`, `select_multiple list`, `rank list`,
/// `select_one_from_file file.csv`, or a plain type.
fn question_type(text: &str) -> Result<(QuestionType, Option<String>, bool), String> {
    let lower = text.to_ascii_lowercase();
    const SELECTS: [(&str, QuestionType); 15] = [
        ("select_one_from_file", QuestionType::SelectOne),
        ("select one from file", QuestionType::SelectOne),
        ("select_multiple_from_file", QuestionType::SelectMultiple),
        ("select multiple from file", QuestionType::SelectMultiple),
        ("select_one_external", QuestionType::SelectOneExternal),
        ("add select one prompt using", QuestionType::SelectOne),
        ("add select multiple prompt using", QuestionType::SelectMultiple),
        ("select all that apply from", QuestionType::SelectMultiple),
        ("select all that apply", QuestionType::SelectMultiple),
        ("select one from", QuestionType::SelectOne),
        ("select_one", QuestionType::SelectOne),
        ("select one", QuestionType::SelectOne),
        ("select_multiple", QuestionType::SelectMultiple),
        ("select1", QuestionType::SelectOne),
        ("rank", QuestionType::Rank),
    ];
    for (prefix, question) in SELECTS {
        let Some(rest) = lower.strip_prefix(prefix) else { continue };
        if !rest.is_empty() && !rest.starts_with(' ') {
            continue;
        }
        let original = text[prefix.len()..].trim();
        let mut words: Vec<&str> = original.split_whitespace().collect();
        let lowered = original.to_ascii_lowercase();
        let or_other = if words.len() == 2 && words[1].eq_ignore_ascii_case("or_other") {
            words.pop();
            true
        } else if lowered.ends_with(" or specify other") {
            words.truncate(words.len().saturating_sub(3));
            true
        } else {
            false
        };
        return match words.as_slice() {
            [list] => Ok((question, Some((*list).to_owned()), or_other)),
            [] => Err(format!("`{text}` needs the name of a choice list after it, like `{prefix} yes_no`")),
            _ => Err(format!("`{text}`: after `{prefix}` write one choice list name (and optionally `or_other`)")),
        };
    }
    if let Some(list) = lower.strip_prefix("osm ") {
        return Ok((QuestionType::Osm, Some(text[text.len() - list.len()..].trim().to_owned()), false));
    }
    QuestionType::from_name(text).map(|question| (question, None, false)).ok_or_else(|| {
        format!("`{text}` is not a question type; see the XLSForm types (text, integer, select_one list, ...)")
    })
}

/// Types that are a plain type plus a ready-made constraint and hint.
fn preset(field: &mut Field, lower: &str) {
    let (constraint, hint) = match lower {
        "phone number" => ("regex(., '^\\d*$')", "Enter numbers only."),
        "percentage" => ("0 <= . and . <= 100", ""),
        "number of days in last month" => ("0 <= . and . <= 31", "Enter a number 0-31."),
        "number of days in last six months" => ("0 <= . and . <= 183", "Enter a number 0-183."),
        "number of days in last year" => ("0 <= . and . <= 365", "Enter a number 0-365."),
        _ => return,
    };
    if lower != "phone number" {
        field.kind = Some(Kind::Question(QuestionType::Integer));
    }
    if field.constraint.is_none() {
        field.constraint = Some(constraint.to_owned());
    }
    if field.hint.is_empty() && !hint.is_empty() {
        field.hint.insert(DEFAULT_LANGUAGE, hint.to_owned());
    }
}

fn parameters(text: &str) -> Vec<(String, String)> {
    text.split([' ', ';', ','])
        .filter(|part| !part.is_empty())
        .filter_map(|part| part.split_once('='))
        .map(|(key, value)| (key.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect()
}

/// `yes`, `true`, `TRUE`, `true()` and the like.
pub(crate) fn truthy(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "yes" | "true" | "true()" | "1")
}

/// Checks that need the whole form: names, lists, references, expressions.
fn check(form: &Form, sheet: &str, errors: &mut Vec<FormError>) {
    let walk = form.walk();
    let mut names: HashMap<&str, Vec<usize>> = HashMap::new();
    for (_, field) in &walk {
        names.entry(field.name.as_str()).or_default().push(field.row);
    }
    let mut sibling_names: HashMap<(&[&str], String), usize> = HashMap::new();
    for (path, field) in &walk {
        if !field.name.is_empty() && !is_xml_name(&field.name) {
            errors.push(FormError::new(
                sheet,
                Some(field.row),
                Some("name"),
                format!(
                    "`{}` cannot be a name: names start with a letter or `_` and hold only letters, digits, `_`, `-` \
                     and `.`",
                    field.name
                ),
            ));
        }
        let parent = &path[..path.len() - 1];
        if let Some(first) = sibling_names.insert((parent, field.name.to_lowercase()), field.row) {
            errors.push(FormError::new(
                sheet,
                Some(field.row),
                Some("name"),
                format!("the name `{}` is already used on row {first} in the same group", field.name),
            ));
        }
        if let Some(list) = &field.list
            && field.question_type().is_some_and(QuestionType::takes_choices)
            && !list.contains('.')
            && form.choice_list(list).is_none()
        {
            errors.push(FormError::new(
                sheet,
                Some(field.row),
                Some("type"),
                format!("the choice list `{list}` is not on the choices sheet"),
            ));
        }
        if let Some(question) = field.question_type()
            && question.control().is_some()
            && field.label.is_empty()
            && field.hint.is_empty()
            && field.media.is_empty()
            && field.calculation.is_none()
            && field.trigger.is_none()
            && !field.name.starts_with("generated_table_list_label_")
            && !field.appearance.as_deref().is_some_and(|appearance| appearance.contains("label"))
        {
            errors.push(FormError::new(
                sheet,
                Some(field.row),
                Some("label"),
                format!(
                    "the question `{}` has no label or hint: people filling in the form would see nothing",
                    field.name
                ),
            ));
        }
        if field.question_type() == Some(QuestionType::Calculate)
            && field.calculation.is_none()
            && field.default.is_none()
        {
            errors.push(FormError::new(
                sheet,
                Some(field.row),
                Some("calculation"),
                "this calculate has no calculation",
            ));
        }
        for (column, expression) in expressions(field) {
            check_expression(sheet, field.row, column, expression, &names, errors);
        }
    }
    check_cycles(&walk, sheet, errors);
}

/// The expression columns of a field, by column name.
fn expressions(field: &Field) -> Vec<(&'static str, &str)> {
    let mut out = Vec::new();
    for (column, value) in [
        ("relevant", &field.relevant),
        ("constraint", &field.constraint),
        ("calculation", &field.calculation),
        ("choice_filter", &field.choice_filter),
        ("repeat_count", &field.repeat_count),
    ] {
        if let Some(value) = value {
            out.push((column, value.as_str()));
        }
    }
    if let Some(required) = &field.required
        && !is_yes_no(required)
    {
        out.push(("required", required.as_str()));
    }
    if let Some(read_only) = &field.read_only
        && !is_yes_no(read_only)
    {
        out.push(("read_only", read_only.as_str()));
    }
    out
}

fn is_yes_no(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "yes" | "no" | "true" | "false" | "true()" | "false()")
}

fn check_expression(
    sheet: &str,
    row: usize,
    column: &str,
    text: &str,
    names: &HashMap<&str, Vec<usize>>,
    errors: &mut Vec<FormError>,
) {
    match xpath::parse(text) {
        Err(error) => errors.push(FormError::new(
            sheet,
            Some(row),
            Some(column),
            format!("`{text}` is not a valid expression: {} (at character {})", error.message, error.offset + 1),
        )),
        Ok(expression) => {
            for name in expression.fields() {
                match names.get(name).map(Vec::as_slice) {
                    None | Some([]) => errors.push(FormError::new(
                        sheet,
                        Some(row),
                        Some(column),
                        format!("`${{{name}}}` refers to a field that does not exist"),
                    )),
                    // As pyxform: a reference must name one field (a group named like a
                    // question would otherwise be taken for it without a word).
                    Some([_]) => {}
                    Some(rows) => errors.push(FormError::new(
                        sheet,
                        Some(row),
                        Some(column),
                        format!(
                            "`${{{name}}}` is ambiguous: rows {} all use the name `{name}`; rename all but one",
                            rows.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                        ),
                    )),
                }
            }
            for function in xpath::check_functions(&expression) {
                errors.push(FormError::new(
                    sheet,
                    Some(row),
                    Some(column),
                    format!("`{function}()` is not a function of ODK XPath"),
                ));
            }
        }
    }
}

/// Calculations that depend on themselves, directly or through others.
fn check_cycles(walk: &[(Vec<&str>, &Field)], sheet: &str, errors: &mut Vec<FormError>) {
    let mut graph: BTreeMap<&str, (usize, Vec<String>)> = BTreeMap::new();
    for (_, field) in walk {
        if let Some(calculation) = &field.calculation
            && let Ok(expression) = xpath::parse(calculation)
        {
            let uses: Vec<String> = expression.fields().into_iter().map(str::to_owned).collect();
            graph.insert(field.name.as_str(), (field.row, uses));
        }
    }
    // Depth-first search with colours: 1 = on the path, 2 = done.
    let mut colour: HashMap<&str, u8> = HashMap::new();
    let mut reported: HashSet<String> = HashSet::new();
    for start in graph.keys().copied().collect::<Vec<_>>() {
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        let mut path: Vec<&str> = Vec::new();
        if colour.contains_key(start) {
            continue;
        }
        colour.insert(start, 1);
        path.push(start);
        while let Some((node, next)) = stack.pop() {
            let uses = graph.get(node).map(|(_, uses)| uses.as_slice()).unwrap_or_default();
            if let Some(used) = uses.get(next) {
                stack.push((node, next + 1));
                let Some((used, _)) = graph.get_key_value(used.as_str()) else { continue };
                match colour.get(used) {
                    None => {
                        colour.insert(used, 1);
                        path.push(used);
                        stack.push((used, 0));
                    }
                    Some(1) => {
                        let from = path.iter().position(|name| name == used).unwrap_or(0);
                        let cycle: Vec<&str> = path[from..].to_vec();
                        let mut key: Vec<&str> = cycle.clone();
                        key.sort_unstable();
                        if reported.insert(key.join(",")) {
                            let mut shown: Vec<String> = cycle.iter().map(|name| format!("${{{name}}}")).collect();
                            shown.push(format!("${{{used}}}"));
                            errors.push(FormError::new(
                                sheet,
                                Some(graph[used].0),
                                Some("calculation"),
                                format!("these calculations depend on each other in a circle: {}", shown.join(" → ")),
                            ));
                        }
                    }
                    _ => {}
                }
            } else {
                colour.insert(node, 2);
                path.pop();
            }
        }
    }
}

/// An XML element name (what an instance node may be called).
pub(crate) fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::xform::to_xform;

    fn read(md: &str) -> Result<Form, FormErrors> {
        read_form(md.as_bytes(), Some("test.md"))
    }

    fn messages(md: &str) -> Vec<String> {
        read(md).unwrap_err().0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_place() {
        let errors = messages(
            "| survey |\n\
             | | type | name | label | relevant | calculation |\n\
             | | text | q1 | Q1 | | |\n\
             | | text | q1 | Again | | |\n\
             | | frobnicate | q2 | Q2 | | |\n\
             | | select_one missing | q3 | Q3 | | |\n\
             | | integer | q4 | Q4 | ${q1} = 'a' and ( | |\n\
             | | integer | q5 | Q5 | ${nowhere} > 1 | |\n\
             | | calculate | c1 | | | ${c2} + 1 |\n\
             | | calculate | c2 | | | ${c1} * 2 |\n\
             | | begin group | g | G | | |\n\
             | | integer | q6 | Q6 | frobnicate(.) | |\n",
        );
        let all = errors.join("\n");
        assert!(all.contains("survey sheet, row 4, column name: the name `q1` is already used on row 3"), "{all}");
        assert!(all.contains("row 5, column type: `frobnicate` is not a question type"), "{all}");
        assert!(all.contains("row 6, column type: the choice list `missing` is not on the choices sheet"), "{all}");
        assert!(all.contains("row 7, column relevant:"), "{all}");
        assert!(all.contains("row 8, column relevant: `${nowhere}` refers to a field that does not exist"), "{all}");
        assert!(all.contains("depend on each other in a circle"), "{all}");
        assert!(all.contains("`begin group` `g` is never closed"), "{all}");
        assert!(all.contains("`frobnicate()` is not a function of ODK XPath"), "{all}");
        assert!(errors.len() >= 8, "{all}");
    }

    #[test]
    fn a_reference_to_a_name_used_twice_is_ambiguous() {
        let md = "| survey |\n| | type | name | label | relevant |\n| | begin group | needs | Needs | |\n\
                  | | select_multiple n | needs | Which? | |\n| | end group | | | |\n\
                  | | text | other | Other | selected(${needs}, 'x') |\n\
                  | choices |\n| | list_name | name | label | |\n| | n | x | X | |\n";
        let errors = read_form(md.as_bytes(), Some("f.md")).unwrap_err().to_string();
        assert!(errors.contains("`${needs}` is ambiguous: rows 3, 4 all use the name `needs`"), "{errors}");
    }

    #[test]
    fn unmatched_ends_and_missing_sheets_are_explained() {
        let errors = messages("| survey |\n| | type | name | label |\n| | end group | | |\n");
        assert!(errors[0].contains("has no matching `begin group`"), "{errors:?}");
        let errors =
            messages("| survey |\n| | type | name | label |\n| | begin repeat | r | R |\n| | end group | | |\n");
        assert!(errors[0].contains("closes the repeat `r`"), "{errors:?}");
        let errors = messages("| settings |\n| | form_id |\n| | x |\n| choices |\n| | list_name | name |\n");
        assert!(errors[0].contains("no sheet named `survey`"), "{errors:?}");
    }

    #[test]
    fn smart_quotes_are_straightened_and_groups_nest() {
        let form = read(
            "| survey |\n\
             | | type | name | label::English (en) | label::Español (es) | relevant |\n\
             | | begin group | g | Group | Grupo | |\n\
             | | select_one yn | a | A? | ¿A? | |\n\
             | | text | b | B | B | ${a} = \u{2018}yes\u{2019} |\n\
             | | end group | | | | |\n\
             | choices |\n\
             | | list_name | name | label::English (en) | label::Español (es) |\n\
             | | yn | yes | Yes | Sí |\n",
        )
        .unwrap();
        assert_eq!(form.languages, vec!["English (en)", "Español (es)"]);
        assert_eq!(form.fields[0].children[1].relevant.as_deref(), Some("${a} = 'yes'"));
        let xform = to_xform(&form);
        assert!(xform.contains("relevant=\" /data/g/a  = 'yes'\""), "{xform}");
        assert!(xform.contains("<translation lang=\"Español (es)\">"), "{xform}");
    }

    #[test]
    fn labels_are_escaped_emoji_and_right_to_left_text_survive() {
        let form = read("| survey |\n| | type | name | label |\n| | text | q | <b>مرحبا</b> 👋 & \"hi\" |\n").unwrap();
        let xform = to_xform(&form);
        assert!(xform.contains("&lt;b&gt;مرحبا&lt;/b&gt; 👋 &amp; \"hi\""), "{xform}");
        assert!(crate::xml::parse(&xform).is_ok());
    }

    #[test]
    fn a_ten_thousand_row_form_reads() {
        let mut md = String::from("| survey |\n| | type | name | label | constraint |\n");
        for index in 0..10_000 {
            let _ = writeln!(md, "| | integer | q{index} | Question {index} | . < {index} |");
        }
        let started = std::time::Instant::now();
        let form = read(&md).unwrap();
        assert_eq!(form.fields.len(), 10_000);
        assert!(to_xform(&form).len() > 10_000);
        // Not a timing assertion: only a guard against accidental quadratic work.
        assert!(started.elapsed().as_secs() < 60);
    }

    #[test]
    fn damaged_and_foreign_files_are_refused_with_a_reason() {
        for (bytes, name) in [
            (&b"PK\x03\x04\x14\x00garbage"[..], "form.xlsx"),
            (&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0][..], "form.xls"),
            (&b"name,age\nana,3\n"[..], "data.csv"),
            (&b"\x00\x01\x02\xff"[..], "x.bin"),
        ] {
            let errors = read_form(bytes, Some(name)).unwrap_err();
            assert!(!errors.0.is_empty(), "{name}");
        }
    }

    mod fuzz {
        use std::fmt::Write as _;

        use proptest::prelude::*;

        use super::*;

        const TYPES: [&str; 14] = [
            "text",
            "integer",
            "select_one yn",
            "select_multiple yn",
            "begin group",
            "end group",
            "begin repeat",
            "end repeat",
            "calculate",
            "note",
            "date",
            "geopoint",
            "rank yn",
            "select_one yn or_other",
        ];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn fuzz_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
                let _ = read_form(&bytes, None);
                let _ = read_form(&bytes, Some("x.csv"));
                let _ = read_form(&bytes, Some("x.md"));
            }

            #[test]
            fn fuzz_generated_forms_convert_or_explain(
                rows in proptest::collection::vec(
                    (0..TYPES.len(), "[a-z]{1,3}", "[ -~]{0,12}", "[ -~]{0,16}"),
                    0..24,
                )
            ) {
                let mut md = String::from("| survey |\n| | type | name | label | relevant |\n");
                for (kind, name, label, relevant) in &rows {
                    let clean = |text: &str| text.replace('|', "/");
                    let _ = writeln!(md, "| | {} | {name} | {} | {} |", TYPES[*kind], clean(label), clean(relevant));
                }
                md.push_str("| choices |\n| | list_name | name | label |\n| | yn | yes | Yes |\n");
                match read_form(md.as_bytes(), Some("f.md")) {
                    Ok(form) => prop_assert!(crate::xml::parse(&crate::xform::to_xform(&form)).is_ok()),
                    Err(errors) => prop_assert!(!errors.0.is_empty()),
                }
            }
        }
    }
}
