//! The form model: what an XLSForm means once read, before it becomes an
//! XForm or validates a submission.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The language key pyxform gives text from a column without a language
/// (`label` rather than `label::Español (es)`).
pub const DEFAULT_LANGUAGE: &str = "default";

/// One text in every language it was written in, by language name
/// (`Español (es)`, or [`DEFAULT_LANGUAGE`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translated(pub BTreeMap<String, String>);

impl Translated {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when the text came from a language column, or has more than one
    /// language: such texts go to `<itext>` in the XForm.
    pub fn is_translated(&self) -> bool {
        self.0.len() > 1 || self.0.keys().any(|language| language != DEFAULT_LANGUAGE)
    }

    /// The text in `language`, else in the default language, else any.
    pub fn get(&self, language: Option<&str>) -> Option<&str> {
        language
            .and_then(|language| self.0.get(language))
            .or_else(|| self.0.get(DEFAULT_LANGUAGE))
            .or_else(|| self.0.values().next())
            .map(String::as_str)
    }

    pub fn insert(&mut self, language: &str, text: String) {
        self.0.insert(language.to_owned(), text);
    }
}

/// Pictures, sound and video shown with a label, by kind (`image`,
/// `big-image`, `audio`, `video`), each in its languages.
pub type Media = BTreeMap<String, Translated>;

/// What sort of thing a survey row is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Group,
    Repeat,
    Question(QuestionType),
}

/// The question types of XLSForm, after resolving spelling variants
/// (`select one`, `select_one`, `select1`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    Integer,
    Decimal,
    Text,
    SelectOne,
    SelectMultiple,
    /// `select_one_external`: answered from an external file on the device.
    SelectOneExternal,
    Rank,
    Note,
    Date,
    Time,
    DateTime,
    Geopoint,
    Geotrace,
    Geoshape,
    Image,
    Audio,
    Video,
    File,
    Osm,
    Barcode,
    Calculate,
    Acknowledge,
    Trigger,
    Range,
    Hidden,
    Audit,
    /// Filled in by the device: `start`, `end`, `today`, `deviceid`...
    Metadata(Metadata),
    /// `xml-external` / `csv-external`: declares a secondary instance.
    ExternalInstance {
        csv: bool,
    },
    StartGeopoint,
    BackgroundAudio,
    BackgroundGeopoint,
}

/// Values the device fills in without asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metadata {
    Start,
    End,
    Today,
    DeviceId,
    SubscriberId,
    SimSerial,
    PhoneNumber,
    Username,
    Email,
    UriDeviceId,
    UriSubscriberId,
    UriSimSerial,
    UriPhoneNumber,
    UriUsername,
    UriEmail,
}

impl Metadata {
    /// `jr:preload` and `jr:preloadParams` of the bind, and its type.
    pub fn preload(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Metadata::Start => ("timestamp", "start", "dateTime"),
            Metadata::End => ("timestamp", "end", "dateTime"),
            Metadata::Today => ("date", "today", "date"),
            Metadata::DeviceId => ("property", "deviceid", "string"),
            Metadata::SubscriberId => ("property", "subscriberid", "string"),
            Metadata::SimSerial => ("property", "simserial", "string"),
            Metadata::PhoneNumber => ("property", "phonenumber", "string"),
            Metadata::Username => ("property", "username", "string"),
            Metadata::Email => ("property", "email", "string"),
            Metadata::UriDeviceId => ("property", "uri:deviceid", "string"),
            Metadata::UriSubscriberId => ("property", "uri:subscriberid", "string"),
            Metadata::UriSimSerial => ("property", "uri:simserial", "string"),
            Metadata::UriPhoneNumber => ("property", "uri:phonenumber", "string"),
            Metadata::UriUsername => ("property", "uri:username", "string"),
            Metadata::UriEmail => ("property", "uri:email", "string"),
        }
    }
}

impl QuestionType {
    /// Reads a type as XLSForm authors write it (without the list name).
    pub fn from_name(name: &str) -> Option<QuestionType> {
        use QuestionType as Q;
        let lower = name.to_ascii_lowercase();
        Some(match lower.trim_start_matches("q ").trim_start_matches("add ").trim_end_matches(" prompt") {
            "integer"
            | "int"
            | "percentage"
            | "number of days in last month"
            | "number of days in last six months"
            | "number of days in last year" => Q::Integer,
            "decimal" => Q::Decimal,
            "text" | "string" | "phone number" => Q::Text,
            "note" => Q::Note,
            "date" => Q::Date,
            "time" => Q::Time,
            "datetime" | "date time" => Q::DateTime,
            "geopoint" | "gps" | "location" => Q::Geopoint,
            "geotrace" => Q::Geotrace,
            "geoshape" => Q::Geoshape,
            "image" | "photo" | "picture" => Q::Image,
            "audio" => Q::Audio,
            "video" => Q::Video,
            "file" => Q::File,
            "osm" => Q::Osm,
            "barcode" => Q::Barcode,
            "calculate" => Q::Calculate,
            "acknowledge" => Q::Acknowledge,
            "trigger" => Q::Trigger,
            "range" => Q::Range,
            "hidden" => Q::Hidden,
            "audit" => Q::Audit,
            "start" | "start time" | "get start time" => Q::Metadata(Metadata::Start),
            "end" | "end time" | "get end time" => Q::Metadata(Metadata::End),
            "today" | "get today" => Q::Metadata(Metadata::Today),
            "deviceid" | "device id" | "imei" | "get device id" => Q::Metadata(Metadata::DeviceId),
            "subscriberid" | "subscriber id" | "get subscriber id" => Q::Metadata(Metadata::SubscriberId),
            "simserial" | "sim id" | "get sim id" => Q::Metadata(Metadata::SimSerial),
            "phonenumber" | "get phone number" => Q::Metadata(Metadata::PhoneNumber),
            "username" => Q::Metadata(Metadata::Username),
            "email" => Q::Metadata(Metadata::Email),
            "uri:deviceid" => Q::Metadata(Metadata::UriDeviceId),
            "uri:subscriberid" => Q::Metadata(Metadata::UriSubscriberId),
            "uri:simserial" => Q::Metadata(Metadata::UriSimSerial),
            "uri:phonenumber" => Q::Metadata(Metadata::UriPhoneNumber),
            "uri:username" => Q::Metadata(Metadata::UriUsername),
            "uri:email" => Q::Metadata(Metadata::UriEmail),
            "xml-external" => Q::ExternalInstance { csv: false },
            "csv-external" => Q::ExternalInstance { csv: true },
            "start-geopoint" => Q::StartGeopoint,
            "background-audio" => Q::BackgroundAudio,
            "background-geopoint" => Q::BackgroundGeopoint,
            _ => return None,
        })
    }

    /// The types that take a choice list.
    pub fn takes_choices(self) -> bool {
        matches!(self, QuestionType::SelectOne | QuestionType::SelectMultiple | QuestionType::Rank)
    }

    /// The XForm data type of the bind.
    pub fn bind_type(self) -> Option<&'static str> {
        use QuestionType as Q;
        Some(match self {
            Q::Integer | Q::Range => "int",
            Q::Decimal => "decimal",
            Q::Date => "date",
            Q::Time => "time",
            Q::DateTime => "dateTime",
            Q::Geopoint | Q::StartGeopoint | Q::BackgroundGeopoint => "geopoint",
            Q::Geotrace => "geotrace",
            Q::Geoshape => "geoshape",
            Q::Image | Q::Audio | Q::Video | Q::File | Q::Osm | Q::Audit | Q::BackgroundAudio => "binary",
            Q::Barcode => "barcode",
            Q::Rank => "odk:rank",
            Q::Metadata(metadata) => metadata.preload().2,
            Q::Trigger | Q::ExternalInstance { .. } => return None,
            Q::Text
            | Q::SelectOne
            | Q::SelectMultiple
            | Q::SelectOneExternal
            | Q::Note
            | Q::Calculate
            | Q::Acknowledge
            | Q::Hidden => "string",
        })
    }

    /// The body control (`input`, `select1`...) and its `mediatype`, or
    /// `None` for fields without one (calculations, metadata).
    pub fn control(self) -> Option<(&'static str, Option<&'static str>)> {
        use QuestionType as Q;
        Some(match self {
            Q::Integer
            | Q::Decimal
            | Q::Text
            | Q::Note
            | Q::Date
            | Q::Time
            | Q::DateTime
            | Q::Geopoint
            | Q::Geotrace
            | Q::Geoshape
            | Q::Barcode
            | Q::SelectOneExternal => ("input", None),
            Q::SelectOne => ("select1", None),
            Q::SelectMultiple => ("select", None),
            Q::Rank => ("odk:rank", None),
            Q::Image => ("upload", Some("image/*")),
            Q::Audio => ("upload", Some("audio/*")),
            Q::Video => ("upload", Some("video/*")),
            Q::File => ("upload", Some("application/*")),
            Q::Osm => ("upload", Some("osm/*")),
            Q::Acknowledge | Q::Trigger => ("trigger", None),
            Q::Range => ("range", None),
            Q::Calculate
            | Q::Hidden
            | Q::Audit
            | Q::Metadata(_)
            | Q::ExternalInstance { .. }
            | Q::StartGeopoint
            | Q::BackgroundAudio
            | Q::BackgroundGeopoint => return None,
        })
    }

    /// Whether an answer holds an attachment (a photo, a recording, a file).
    pub fn is_attachment(self) -> bool {
        self.bind_type() == Some("binary")
    }
}

/// A row of the survey sheet: a question, a group or a repeat.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub kind: Option<Kind>,
    /// The type as written in the sheet, for messages.
    pub type_text: String,
    pub label: Translated,
    pub hint: Translated,
    pub guidance_hint: Translated,
    pub media: Media,
    pub required: Option<String>,
    pub required_message: Translated,
    pub relevant: Option<String>,
    pub constraint: Option<String>,
    pub constraint_message: Translated,
    pub calculation: Option<String>,
    pub read_only: Option<String>,
    pub default: Option<String>,
    pub appearance: Option<String>,
    pub choice_filter: Option<String>,
    /// `parameters` column, as `key=value` pairs in their order.
    pub parameters: Vec<(String, String)>,
    pub trigger: Option<String>,
    pub repeat_count: Option<String>,
    /// Our `sensitive` column: the answer is personal data.
    pub sensitive: bool,
    /// The choice list of a select, rank or `select_one_from_file`.
    pub list: Option<String>,
    /// `select_one list or_other`.
    pub or_other: bool,
    /// Extra attributes from `bind::x`, `body::x`/`control::x` and
    /// `instance::x` columns.
    pub bind_attributes: Vec<(String, String)>,
    pub body_attributes: Vec<(String, String)>,
    pub instance_attributes: Vec<(String, String)>,
    /// A group of a `flat` form (pyxform's setting for ODK Tables): its
    /// children sit directly in its parent's element.
    #[serde(default)]
    pub flat: bool,
    /// Where it was written: 1-based row of the survey sheet.
    pub row: usize,
    pub children: Vec<Field>,
}

impl Field {
    pub fn question_type(&self) -> Option<QuestionType> {
        match self.kind {
            Some(Kind::Question(question)) => Some(question),
            _ => None,
        }
    }

    pub fn is_group(&self) -> bool {
        matches!(self.kind, Some(Kind::Group | Kind::Repeat))
    }

    pub fn is_repeat(&self) -> bool {
        matches!(self.kind, Some(Kind::Repeat))
    }
}

/// One option of a choice list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub name: String,
    pub label: Translated,
    pub media: Media,
    /// Other columns of the choices sheet (used by `choice_filter`).
    pub extra: Vec<(String, String)>,
    pub row: usize,
}

/// A named list of choices.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceList {
    pub name: String,
    pub choices: Vec<Choice>,
}

impl ChoiceList {
    pub fn contains(&self, value: &str) -> bool {
        self.choices.iter().any(|choice| choice.name == value)
    }

    /// True when some label is written in a language column, or carries media:
    /// then labels go to `<itext>`.
    pub fn uses_itext(&self) -> bool {
        self.choices.iter().any(|choice| choice.label.is_translated() || !choice.media.is_empty())
    }
}

/// The settings sheet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub form_title: Option<String>,
    pub form_id: Option<String>,
    pub version: Option<String>,
    pub default_language: Option<String>,
    pub instance_name: Option<String>,
    pub allow_choice_duplicates: bool,
    pub style: Option<String>,
    /// Every other setting, as written (`submission_url`, `public_key`,
    /// `namespaces`, `prefix`...).
    pub other: BTreeMap<String, String>,
}

/// A whole XLSForm, read and checked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Form {
    /// Name of the root element of the instance (`data` unless asked).
    pub root: String,
    pub title: String,
    pub id: String,
    pub settings: Settings,
    /// The languages of the form, in the order their columns appear.
    pub languages: Vec<String>,
    pub fields: Vec<Field>,
    pub choices: Vec<ChoiceList>,
    /// The `osm` sheet: tags offered by OpenStreetMap questions, by list.
    pub osm: Vec<ChoiceList>,
    /// The `entities` sheet: submissions create entities (ODK Entities).
    pub entity: Option<Entity>,
}

/// What the `entities` sheet asks: each submission creates an entity in a
/// dataset, with a label computed from the answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    pub dataset: String,
    pub label: Option<String>,
    pub create_if: Option<String>,
    pub update_if: Option<String>,
    pub entity_id: Option<String>,
    pub row: usize,
}

impl Form {
    pub fn choice_list(&self, name: &str) -> Option<&ChoiceList> {
        self.choices.iter().find(|list| list.name == name)
    }

    /// Every field with its path of names from the root, depth first.
    pub fn walk(&self) -> Vec<(Vec<&str>, &Field)> {
        fn visit<'a>(fields: &'a [Field], path: &mut Vec<&'a str>, out: &mut Vec<(Vec<&'a str>, &'a Field)>) {
            for field in fields {
                path.push(&field.name);
                out.push((path.clone(), field));
                visit(&field.children, path, out);
                path.pop();
            }
        }
        let mut out = Vec::new();
        visit(&self.fields, &mut Vec::new(), &mut out);
        out
    }

    /// The field named `name` anywhere in the form.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.walk().into_iter().map(|(_, field)| field).find(|field| field.name == name)
    }
}

/// Where in the workbook a problem is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormError {
    pub sheet: String,
    /// 1-based row, as the spreadsheet shows it.
    pub row: Option<usize>,
    pub column: Option<String>,
    pub message: String,
}

impl FormError {
    pub fn new(sheet: &str, row: Option<usize>, column: Option<&str>, message: impl Into<String>) -> Self {
        FormError { sheet: sheet.to_owned(), row, column: column.map(str::to_owned), message: message.into() }
    }

    pub fn workbook(message: impl Into<String>) -> Self {
        FormError { sheet: String::new(), row: None, column: None, message: message.into() }
    }
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.sheet.is_empty() {
            write!(f, "{} sheet", self.sheet)?;
            if let Some(row) = self.row {
                write!(f, ", row {row}")?;
            }
            if let Some(column) = &self.column {
                write!(f, ", column {column}")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for FormError {}

/// Every problem found in a workbook, in sheet and row order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormErrors(pub Vec<FormError>);

impl fmt::Display for FormErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FormErrors {}
