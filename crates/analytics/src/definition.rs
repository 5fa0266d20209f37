//! What an indicator is, as declared in the UI, the API or an indicator file, and the
//! checks that make a declaration one that can be computed.

use std::collections::BTreeMap;

use rumbo_store::FieldError;
use rumbo_store::analytics::Dim;
use rumbo_xlsform::Form;
use rumbo_xlsform::xpath::{self, Expr};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How an indicator turns units into a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// How many units (submissions, or repeat entries).
    Count,
    /// The sum of `value` (times `scale`) over the units.
    Sum,
    /// The share of units where `denominator` holds in which `numerator` also holds.
    Proportion,
    /// The mean of `value` over the units that have one.
    Mean,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Count => "count",
            Kind::Sum => "sum",
            Kind::Proportion => "proportion",
            Kind::Mean => "mean",
        }
    }
}

/// Who may see an indicator's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// Anyone who may see the country's dashboards; small cells are suppressed for readers
    /// who may not see the submissions themselves.
    #[default]
    Public,
    /// Only readers who may see the submissions (protection topics: incidents, trafficking).
    Restricted,
}

/// One cell of a tally: a unit split by sex and age group (`f_0_4`, `m_18_59`...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TallyCell {
    #[serde(default)]
    pub sex: Option<String>,
    #[serde(default)]
    pub age_group: Option<String>,
    /// Expression of the count in this cell, e.g. `${f_0_4}`.
    pub value: String,
}

/// An indicator as declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorDef {
    /// Stable identifier: lower-case letters, digits and `_`.
    pub id: String,
    /// The form's `form_id` (the XLSForm settings sheet).
    pub form: String,
    /// The name by language code: `{"es": "...", "pt": "...", "en": "..."}`.
    pub name: BTreeMap<String, String>,
    #[serde(default)]
    pub description: BTreeMap<String, String>,
    pub kind: Kind,
    /// Proportion: the condition counted (among the units where `denominator` holds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerator: Option<String>,
    /// Proportion: which units the share is of (every unit when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<String>,
    /// Sum and mean: the number each unit brings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Any kind: units where this does not hold are left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Sum: a factor each value is multiplied by, e.g. `24 div ${observed_hours}` to scale
    /// the people counted in the observed hours to a day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<String>,
    /// A repeat whose every entry is a unit (otherwise the submission is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// A sum split by sex and age group: each unit brings one value per cell.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<TallyCell>,
    /// Where each dimension's value comes from, as an expression (`${nationality}`);
    /// fields named like the dimension are used without saying so. Site, country, round
    /// and day come from the submission unless given here.
    #[serde(default)]
    pub dimensions: BTreeMap<Dim, String>,
    /// The breakdowns readers may ask for.
    pub disaggregations: Vec<Dim>,
    #[serde(default)]
    pub sensitivity: Sensitivity,
    /// Cells with fewer units (or, for counts and sums, a smaller value) are hidden from
    /// readers who may not see the submissions.
    #[serde(default = "default_suppression")]
    pub suppression: u32,
    /// Survey indicators: weight each unit by its point × sex × age-group cell of this
    /// registry indicator (post-stratification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_by: Option<String>,
    /// Where the dashboard shows it: `flows`, `profile`, `needs`, `vulnerabilities`,
    /// `intentions`, `return`, `baseline` (any word groups indicators into one chart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Shown as a headline figure at the top of the dashboard.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub headline: bool,
    /// A sensitive topic (gender-based violence, trafficking): readers who may not see the
    /// submissions get it for a country or the region only, never for an admin area or a
    /// site. A public indicator may use fields marked sensitive only when this is set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive_topic: bool,
    /// The HXL hashtag of its figures in open data (`#affected+arrived`); sex and age group
    /// are added as attributes (`+f+children+age0_4`). By default `#indicator+value+<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hxl: Option<String>,
}

fn default_suppression() -> u32 {
    5
}

/// The dimensions that always have a value, from the submission itself.
pub const FROM_SUBMISSION: [Dim; 5] = [Dim::Round, Dim::Day, Dim::Month, Dim::Site, Dim::Country];
/// The dimensions weights are computed on.
pub const STRATA: [Dim; 3] = [Dim::Site, Dim::Sex, Dim::AgeGroup];

/// Default age groups: 0–4, 5–11, 12–17, 18–59, 60+ (upper bounds, exclusive, in years).
pub const AGE_GROUPS: [(&str, f64); 5] =
    [("0-4", 5.0), ("5-11", 12.0), ("12-17", 18.0), ("18-59", 60.0), ("60+", f64::INFINITY)];

/// The age group of an age in years.
pub fn age_group(age: f64) -> Option<&'static str> {
    if !age.is_finite() || age < 0.0 {
        return None;
    }
    AGE_GROUPS.iter().find(|(_, upper)| age < *upper).map(|(code, _)| *code)
}

/// An indicator file: indicators, and dimension bindings shared by a form's indicators.
///
/// ```toml
/// [forms.rumbo_fms.dimensions]
/// origin = "${country_origin}"
///
/// [[indicator]]
/// id = "fms_interviews"
/// form = "rumbo_fms"
/// kind = "count"
/// name = { es = "Entrevistas", pt = "Entrevistas", en = "Interviews" }
/// disaggregations = ["sex", "age_group"]
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorFile {
    #[serde(default)]
    pub forms: BTreeMap<String, FormDefaults>,
    #[serde(default, rename = "indicator")]
    pub indicators: Vec<IndicatorDef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDefaults {
    #[serde(default)]
    pub dimensions: BTreeMap<Dim, String>,
}

impl IndicatorFile {
    /// Reads a TOML indicator file; each indicator gets its form's shared bindings (its
    /// own win).
    pub fn parse(text: &str) -> Result<Vec<IndicatorDef>, FieldError> {
        let file: IndicatorFile =
            toml::from_str(text).map_err(|e| FieldError::new("file", format!("not a valid indicator file: {e}")))?;
        Ok(file
            .indicators
            .into_iter()
            .map(|mut def| {
                if let Some(shared) = file.forms.get(&def.form) {
                    for (dim, expr) in &shared.dimensions {
                        def.dimensions.entry(*dim).or_insert_with(|| expr.clone());
                    }
                }
                def
            })
            .collect())
    }
}

/// Parses an expression of an indicator, naming the field of the definition it is in.
pub fn parse_expr(field: &str, text: &str, form: &Form, problems: &mut Vec<FieldError>) -> Option<Expr> {
    match xpath::parse(text) {
        Ok(expr) => {
            let mut ok = true;
            for name in expr.fields() {
                if form.field(name).is_none() {
                    problems.push(FieldError::new(
                        field,
                        format!(
                            "`${{{name}}}` names no field of form {}: check the spelling in the survey sheet",
                            form.id
                        ),
                    ));
                    ok = false;
                }
            }
            for unknown in xpath::check_functions(&expr) {
                problems.push(FieldError::new(
                    field,
                    format!("`{unknown}()` is not a function of the expression language"),
                ));
                ok = false;
            }
            ok.then_some(expr)
        }
        Err(e) => {
            problems.push(FieldError::new(field, format!("the expression `{text}` does not parse: {e}")));
            None
        }
    }
}

/// The field an expression is, when it is just `${name}`.
pub(crate) fn plain_field(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("${")?.strip_suffix('}')?;
    (!inner.is_empty() && inner.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))).then_some(inner)
}

impl IndicatorDef {
    /// The name in `lang` (a code: `es`), else English, else any.
    pub fn name_in(&self, lang: &str) -> &str {
        self.name
            .get(lang)
            .or_else(|| self.name.get("en"))
            .or_else(|| self.name.values().next())
            .map_or(&self.id, String::as_str)
    }

    pub fn description_in(&self, lang: &str) -> &str {
        self.description
            .get(lang)
            .or_else(|| self.description.get("en"))
            .or_else(|| self.description.values().next())
            .map_or("", String::as_str)
    }

    /// The expression each dimension comes from: the declared ones, then fields named
    /// like the dimension. Dimensions from the submission itself are not listed.
    pub fn bindings(&self, form: &Form) -> BTreeMap<Dim, String> {
        let mut out = self.dimensions.clone();
        for dim in [
            Dim::Adm1,
            Dim::Sex,
            Dim::AgeGroup,
            Dim::Nationality,
            Dim::PopulationGroup,
            Dim::Direction,
            Dim::Origin,
            Dim::Destination,
        ] {
            if !out.contains_key(&dim) && form.field(dim.as_str()).is_some() {
                out.insert(dim, format!("${{{}}}", dim.as_str()));
            }
        }
        out
    }

    /// The dimensions its cells keep: its breakdowns, the geography and round every filter
    /// needs, and the strata of its weights.
    pub fn kept(&self) -> Vec<Dim> {
        let mut kept = self.disaggregations.clone();
        kept.extend([Dim::Round, Dim::Site, Dim::Country, Dim::Adm1]);
        if self.weight_by.is_some() {
            kept.extend(STRATA);
        }
        kept.sort();
        kept.dedup();
        kept
    }

    /// Whether the indicator can be broken down by `dim`.
    pub fn supports(&self, dim: Dim, bindings: &BTreeMap<Dim, String>, has_sites: bool) -> bool {
        match dim {
            Dim::Round | Dim::Day | Dim::Month | Dim::Country => true,
            Dim::Site => has_sites,
            Dim::Adm1 => has_sites || bindings.contains_key(&Dim::Adm1),
            Dim::Sex => bindings.contains_key(&dim) || self.cells.iter().any(|c| c.sex.is_some()),
            Dim::AgeGroup => bindings.contains_key(&dim) || self.cells.iter().any(|c| c.age_group.is_some()),
            other => bindings.contains_key(&other),
        }
    }

    /// Checks everything that can be checked without the data; every problem is listed.
    /// `form` is the current version of the form; `registry` says whether an indicator id
    /// exists and is a sum (for `weight_by`).
    pub fn check(&self, form: &Form, weight_target: Option<Option<&IndicatorDef>>) -> Vec<FieldError> {
        let mut p = Vec::new();
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 60
            && self.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !id_ok {
            p.push(FieldError::new("id", "use 1 to 60 lower-case letters, digits and `_`"));
        }
        if self.name.values().all(|n| n.trim().is_empty()) {
            p.push(FieldError::new("name", "give the indicator a name in at least one language"));
        }
        if let Some(tag) = &self.hxl
            && !crate::hxl::valid(tag)
        {
            p.push(FieldError::new(
                "hxl",
                format!("`{tag}` is not an HXL hashtag: write `#name` and `+attribute`s in lower-case letters, digits and `_` (`#affected+arrived`)"),
            ));
        }
        for (lang, name) in &self.name {
            if name.chars().count() > 200 {
                p.push(FieldError::new(format!("name.{lang}"), "is longer than 200 characters"));
            }
        }
        let has = |o: &Option<String>| o.as_deref().is_some_and(|s| !s.trim().is_empty());
        match self.kind {
            Kind::Proportion if !has(&self.numerator) => {
                p.push(FieldError::new("numerator", "a proportion needs a numerator: the condition to count"));
            }
            Kind::Sum | Kind::Mean if !has(&self.value) && self.cells.is_empty() => {
                p.push(FieldError::new(
                    "value",
                    format!("a {} needs a value: the number each unit brings", self.kind.as_str()),
                ));
            }
            _ => {}
        }
        if self.kind != Kind::Proportion {
            for (field, given) in [("numerator", &self.numerator), ("denominator", &self.denominator)] {
                if has(given) {
                    p.push(FieldError::new(
                        field,
                        format!("only a proportion has a {field}; a {} has none", self.kind.as_str()),
                    ));
                }
            }
        }
        if !self.cells.is_empty() && self.kind != Kind::Sum {
            p.push(FieldError::new("cells", "only a sum can be split into tally cells"));
        }
        if !self.cells.is_empty() && has(&self.value) {
            p.push(FieldError::new("value", "give either a value or tally cells, not both"));
        }
        if has(&self.scale) && self.kind != Kind::Sum {
            p.push(FieldError::new("scale", "only a sum can be scaled"));
        }
        if self.suppression > 1000 {
            p.push(FieldError::new("suppression", "must be between 0 and 1000"));
        }
        // Expressions.
        for (field, text) in [
            ("numerator", &self.numerator),
            ("denominator", &self.denominator),
            ("value", &self.value),
            ("filter", &self.filter),
            ("scale", &self.scale),
        ] {
            if let Some(text) = text.as_deref().filter(|t| !t.trim().is_empty()) {
                parse_expr(field, text, form, &mut p);
            }
        }
        for (i, cell) in self.cells.iter().enumerate() {
            parse_expr(&format!("cells[{i}].value"), &cell.value, form, &mut p);
            if cell.sex.is_none() && cell.age_group.is_none() {
                p.push(FieldError::new(format!("cells[{i}]"), "a tally cell needs a sex, an age group or both"));
            }
        }
        for (dim, text) in &self.dimensions {
            if FROM_SUBMISSION.contains(dim) && *dim != Dim::Day {
                p.push(FieldError::new(
                    format!("dimensions.{dim}"),
                    format!("{dim} comes from the submission (its site, country and round) and cannot be bound"),
                ));
                continue;
            }
            parse_expr(&format!("dimensions.{dim}"), text, form, &mut p);
        }
        // Personal data stays out of public figures; free text makes no breakdown.
        let mut used: Vec<(String, String)> = Vec::new();
        for (field, text) in [
            ("numerator", &self.numerator),
            ("denominator", &self.denominator),
            ("value", &self.value),
            ("filter", &self.filter),
            ("scale", &self.scale),
        ] {
            if let Some(text) = text {
                used.push((field.to_owned(), text.clone()));
            }
        }
        used.extend(self.cells.iter().enumerate().map(|(i, c)| (format!("cells[{i}].value"), c.value.clone())));
        used.extend(self.bindings(form).into_iter().map(|(d, t)| (format!("dimensions.{d}"), t)));
        for (field, text) in &used {
            let Ok(expr) = xpath::parse(text) else { continue };
            for name in expr.fields() {
                let Some(question) = form.field(name) else { continue };
                if question.sensitive && self.sensitivity == Sensitivity::Public && !self.sensitive_topic {
                    p.push(FieldError::new(
                        field.as_str(),
                        format!(
                            "`{name}` is marked sensitive in the form: only a restricted indicator, or a public one marked `sensitive_topic` (never shown below country level), may use it"
                        ),
                    ));
                }
                let free_text = matches!(question.question_type(), Some(rumbo_xlsform::QuestionType::Text));
                if field.starts_with("dimensions.") && free_text {
                    p.push(FieldError::new(
                        field.as_str(),
                        format!("`{name}` is free text: a breakdown needs a choice question or a calculation"),
                    ));
                }
            }
        }
        if self.cells.len() > 100 {
            p.push(FieldError::new("cells", "at most 100 tally cells"));
        }
        if let Some(unit) = &self.unit {
            match form.field(unit) {
                Some(f) if f.is_repeat() => {}
                Some(_) => p.push(FieldError::new(
                    "unit",
                    format!("`{unit}` is not a repeat: only a repeat's entries can be units"),
                )),
                None => p.push(FieldError::new("unit", format!("form {} has no repeat named `{unit}`", form.id))),
            }
        }
        // Disaggregations the form can support.
        let bindings = self.bindings(form);
        let has_sites = form.field("site").is_some();
        for dim in &self.disaggregations {
            if !self.supports(*dim, &bindings, has_sites) {
                p.push(FieldError::new(
                    "disaggregations",
                    format!(
                        "form {} cannot be broken down by {dim}: it has no field `{dim}`; bind one under `dimensions`",
                        form.id
                    ),
                ));
            }
        }
        // Weighting.
        if let Some(target) = &self.weight_by {
            if !matches!(self.kind, Kind::Proportion | Kind::Mean) {
                p.push(FieldError::new("weight_by", "only proportions and means are weighted"));
            }
            match weight_target {
                Some(Some(t)) if matches!(t.kind, Kind::Sum | Kind::Count) => {
                    if !STRATA.iter().all(|d| t.disaggregations.contains(d)) {
                        p.push(FieldError::new(
                            "weight_by",
                            format!("`{target}` must allow the breakdowns site, sex and age_group to weight by it"),
                        ));
                    }
                }
                Some(Some(_)) => {
                    p.push(FieldError::new("weight_by", format!("`{target}` is not a count or a sum of people")));
                }
                _ => p.push(FieldError::new("weight_by", format!("there is no indicator `{target}`"))),
            }
            for dim in [Dim::Sex, Dim::AgeGroup] {
                if !self.supports(dim, &bindings, has_sites) {
                    p.push(FieldError::new(
                        "weight_by",
                        format!("weights are computed per point, sex and age group, and form {} has no {dim}", form.id),
                    ));
                }
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_fall_in_the_default_groups() {
        assert_eq!(age_group(0.0), Some("0-4"));
        assert_eq!(age_group(4.9), Some("0-4"));
        assert_eq!(age_group(5.0), Some("5-11"));
        assert_eq!(age_group(17.0), Some("12-17"));
        assert_eq!(age_group(18.0), Some("18-59"));
        assert_eq!(age_group(60.0), Some("60+"));
        assert_eq!(age_group(-1.0), None);
        assert_eq!(age_group(f64::NAN), None);
    }

    #[test]
    fn plain_fields_are_recognised() {
        assert_eq!(plain_field(" ${sex} "), Some("sex"));
        assert_eq!(plain_field("${a} + 1"), None);
        assert_eq!(plain_field("concat(${a})"), None);
    }

    #[test]
    fn a_file_shares_bindings_between_a_forms_indicators() {
        let defs = IndicatorFile::parse(
            r#"
            [forms.f.dimensions]
            origin = "${from}"
            nationality = "${nat}"

            [[indicator]]
            id = "a"
            form = "f"
            kind = "count"
            name = { en = "A" }
            disaggregations = ["origin"]
            dimensions = { nationality = "${other}" }
            "#,
        )
        .unwrap();
        assert_eq!(defs[0].dimensions[&Dim::Origin], "${from}");
        assert_eq!(defs[0].dimensions[&Dim::Nationality], "${other}");
        assert!(IndicatorFile::parse("[[indicator]]\nid = 1").unwrap_err().message.contains("not a valid"));
    }
}
