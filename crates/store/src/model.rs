//! The records of the foundation: places, periods, organisations and people.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{Problems, Result};

/// Declares a closed set of codes stored as text, with its labels for each UI language.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The code list, for error messages.
            pub fn codes() -> String {
                [$($code),+].join(", ")
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($code => Ok($name::$variant),)+ _ => Err(format!("must be one of: {}", Self::codes())) }
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> { s.parse() }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

code_enum!(
    /// What a user may do is decided by the role (see the permission matrix in `rumbo-domain`).
    Role {
        Admin = "admin",
        ImOfficer = "im_officer",
        Enumerator = "enumerator",
        Caseworker = "caseworker",
        ProtectionFocalPoint = "protection_focal_point",
        PartnerReporter = "partner_reporter",
        Viewer = "viewer",
    }
);

code_enum!(
    /// The kind of a site or flow-monitoring point.
    SiteKind {
        BorderCrossing = "border_crossing",
        BusTerminal = "bus_terminal",
        Airport = "airport",
        Shelter = "shelter",
        ReceptionCentre = "reception_centre",
        SupportSpace = "support_space",
        Community = "community",
    }
);

code_enum!(
    /// Where a data-collection round stands.
    RoundStatus {
        Planned = "planned",
        Open = "open",
        Closed = "closed",
    }
);

code_enum!(
    /// The kind of an organisation taking part in the response.
    OrganisationKind {
        UnAgency = "un_agency",
        Ingo = "ingo",
        Nngo = "nngo",
        Government = "government",
        RedCross = "red_cross",
        Other = "other",
    }
);

/// A country of the response, keyed by its ISO 3166-1 alpha-3 code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Country {
    /// ISO 3166-1 alpha-3 code, e.g. `COL`.
    pub code: String,
    /// ISO 3166-1 alpha-2 code, e.g. `CO`.
    pub iso2: String,
    pub name_en: String,
    pub name_es: String,
    pub name_pt: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CountryInput {
    pub code: String,
    pub iso2: String,
    pub name_en: String,
    pub name_es: String,
    pub name_pt: String,
}

impl CountryInput {
    pub fn validate(&self) -> Result<()> {
        let mut p = Problems::default();
        p.check(is_code(&self.code, 3), "code", "must be three capital letters (ISO 3166-1 alpha-3), e.g. COL");
        p.check(is_code(&self.iso2, 2), "iso2", "must be two capital letters (ISO 3166-1 alpha-2), e.g. CO");
        p.text(&self.name_en, "name_en", 200);
        p.text(&self.name_es, "name_es", 200);
        p.text(&self.name_pt, "name_pt", 200);
        p.into_result()
    }
}

fn is_code(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// An administrative area (state, department, province…) with its stable p-code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct AdminArea {
    pub id: i64,
    pub country_code: String,
    /// Stable code of the area (ISO 3166-2 or COD p-code), unique across the instance.
    pub pcode: String,
    /// 1 for the first sub-national level, 2 for the next…
    pub level: i32,
    pub parent_id: Option<i64>,
    pub parent_pcode: Option<String>,
    pub name_en: String,
    pub name_es: String,
    pub name_pt: String,
    /// Whether a boundary geometry is stored for the area.
    pub has_geometry: bool,
}

impl AdminArea {
    pub fn name(&self, lang: &str) -> &str {
        match lang {
            "es" => &self.name_es,
            "pt" => &self.name_pt,
            _ => &self.name_en,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AdminAreaInput {
    pub country_code: String,
    pub pcode: String,
    pub level: i32,
    /// p-code of the parent area; required below level 1.
    #[serde(default)]
    pub parent_pcode: Option<String>,
    pub name_en: String,
    #[serde(default)]
    pub name_es: String,
    #[serde(default)]
    pub name_pt: String,
    /// A GeoJSON geometry (Polygon or MultiPolygon), as text.
    #[serde(default)]
    pub geometry: Option<String>,
}

impl AdminAreaInput {
    /// Fills the Spanish and Portuguese names from the English one when they are left empty.
    pub fn normalise(&mut self) {
        self.pcode = self.pcode.trim().to_string();
        self.country_code = self.country_code.trim().to_uppercase();
        self.name_en = self.name_en.trim().to_string();
        if self.name_es.trim().is_empty() {
            self.name_es.clone_from(&self.name_en);
        }
        if self.name_pt.trim().is_empty() {
            self.name_pt.clone_from(&self.name_en);
        }
        if self.parent_pcode.as_deref().is_some_and(|p| p.trim().is_empty()) {
            self.parent_pcode = None;
        }
    }

    pub fn validate(&self) -> Result<()> {
        let mut p = Problems::default();
        p.check(is_code(&self.country_code, 3), "country_code", "must be an ISO 3166-1 alpha-3 code, e.g. COL");
        p.text(&self.pcode, "pcode", 40);
        p.check(
            self.pcode.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'),
            "pcode",
            "may hold only letters, digits, '-', '_' and '.'",
        );
        p.check((1..=5).contains(&self.level), "level", "must be between 1 and 5");
        if self.level > 1 && self.parent_pcode.is_none() {
            p.push("parent_pcode", "is required for an area below level 1");
        }
        if self.level == 1 && self.parent_pcode.is_some() {
            p.push("parent_pcode", "must be empty for a level-1 area (its parent is the country)");
        }
        p.text(&self.name_en, "name_en", 200);
        p.text(&self.name_es, "name_es", 200);
        p.text(&self.name_pt, "name_pt", 200);
        p.into_result()
    }
}

/// A site or flow-monitoring point: a place where data is collected.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Site {
    pub id: i64,
    pub country_code: String,
    /// Short unique code, e.g. `COL-FMP-001`.
    pub code: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: SiteKind,
    pub latitude: f64,
    pub longitude: f64,
    pub admin_area_id: Option<i64>,
    pub admin_area_pcode: Option<String>,
    pub admin_area_name: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SiteInput {
    pub country_code: String,
    pub code: String,
    pub name: String,
    pub kind: SiteKind,
    pub latitude: f64,
    pub longitude: f64,
    /// p-code of the admin area; when left out it is found from the coordinates.
    #[serde(default)]
    pub admin_area_pcode: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl SiteInput {
    pub fn normalise(&mut self) {
        self.country_code = self.country_code.trim().to_uppercase();
        self.code = self.code.trim().to_string();
        self.name = self.name.trim().to_string();
        if self.admin_area_pcode.as_deref().is_some_and(|p| p.trim().is_empty()) {
            self.admin_area_pcode = None;
        }
    }

    pub fn validate(&self) -> Result<()> {
        let mut p = Problems::default();
        p.check(is_code(&self.country_code, 3), "country_code", "must be an ISO 3166-1 alpha-3 code, e.g. COL");
        p.text(&self.code, "code", 40);
        p.text(&self.name, "name", 200);
        p.check(
            self.latitude.is_finite() && (-90.0..=90.0).contains(&self.latitude),
            "latitude",
            "must be a number between -90 and 90",
        );
        p.check(
            self.longitude.is_finite() && (-180.0..=180.0).contains(&self.longitude),
            "longitude",
            "must be a number between -180 and 180",
        );
        p.into_result()
    }
}

/// A data-collection period of one country.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Round {
    pub id: i64,
    pub country_code: String,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    #[sqlx(try_from = "String")]
    pub status: RoundStatus,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RoundInput {
    pub country_code: String,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub status: RoundStatus,
}

impl RoundInput {
    pub fn validate(&self) -> Result<()> {
        let mut p = Problems::default();
        p.check(is_code(&self.country_code, 3), "country_code", "must be an ISO 3166-1 alpha-3 code, e.g. COL");
        p.text(&self.name, "name", 120);
        p.check(self.ends_on >= self.starts_on, "ends_on", "must not be before the start date");
        p.into_result()
    }
}

/// An organisation taking part in the response (agency, NGO, government…).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    pub acronym: String,
    #[sqlx(try_from = "String")]
    pub kind: OrganisationKind,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct OrganisationInput {
    pub name: String,
    #[serde(default)]
    pub acronym: String,
    pub kind: OrganisationKind,
}

impl OrganisationInput {
    pub fn validate(&self) -> Result<()> {
        let mut p = Problems::default();
        p.text(&self.name, "name", 200);
        p.check(self.acronym.chars().count() <= 40, "acronym", "is longer than 40 characters");
        p.into_result()
    }
}

/// A person who signs in. The password hash never leaves the store.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub organisation_id: Option<i64>,
    /// Scoped to every country (regional staff).
    pub all_countries: bool,
    pub active: bool,
    /// The countries the user works in (ISO alpha-3), when not `all_countries`.
    #[sqlx(skip)]
    pub countries: Vec<String>,
}

impl User {
    pub fn covers(&self, country: &str) -> bool {
        self.all_countries || self.countries.iter().any(|c| c == country)
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default)]
    pub organisation_id: Option<i64>,
    #[serde(default)]
    pub all_countries: bool,
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

impl UserInput {
    pub fn normalise(&mut self) {
        self.username = self.username.trim().to_lowercase();
        self.display_name = self.display_name.trim().to_string();
        for c in &mut self.countries {
            *c = c.trim().to_uppercase();
        }
        self.countries.retain(|c| !c.is_empty());
        self.countries.sort();
        self.countries.dedup();
    }

    pub fn validate(&self) -> Result<()> {
        let mut p = Problems::default();
        p.text(&self.username, "username", 60);
        p.check(
            self.username.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
            "username",
            "may hold only letters, digits, '.', '_' and '-'",
        );
        p.text(&self.display_name, "display_name", 200);
        p.check(
            self.all_countries || !self.countries.is_empty(),
            "countries",
            "choose at least one country, or all countries",
        );
        p.check(
            self.role != Role::PartnerReporter || self.organisation_id.is_some(),
            "organisation_id",
            "a partner reporter must belong to an organisation",
        );
        p.into_result()
    }
}

/// A user's API token (the secret itself is shown once, at creation, and stored only as a hash).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// One line of the append-only, hash-chained audit log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub country_code: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Who is writing: a signed-in user, or the system itself (demo, CLI).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
}

impl Actor {
    pub fn system(name: &str) -> Self {
        Self { user_id: None, name: name.to_string() }
    }

    pub fn user(user: &User) -> Self {
        Self { user_id: Some(user.id), name: user.username.clone() }
    }
}

/// A page of results with the total that matched the filter.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// Filter for lists: every field is optional; `countries` limits to the caller's scope.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct ListFilter {
    /// ISO alpha-3 code of one country.
    pub country: Option<String>,
    /// Free text matched against names and codes.
    pub q: Option<String>,
    /// Admin level (admin areas only).
    pub level: Option<i32>,
    /// Site kind, round status or organisation kind, depending on the list.
    pub kind: Option<String>,
    /// At most this many rows (default 100, at most 1000 through the API).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// Restricts to these countries (set by the server from the caller's scope).
    #[serde(skip)]
    #[param(ignore)]
    #[schema(ignore)]
    pub scope: Option<Vec<String>>,
}

impl ListFilter {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(100).clamp(1, 100_000)
    }

    pub fn offset(&self) -> i64 {
        self.offset.unwrap_or(0).max(0)
    }

    /// The text filter as a `LIKE … ESCAPE '\'` pattern over folded text, or `None`.
    pub fn pattern(&self) -> Option<String> {
        self.q.as_deref().map(fold).filter(|q| !q.is_empty()).map(|q| {
            let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{escaped}%")
        })
    }
}

/// An area's shape for drawing maps: code, names and GeoJSON geometry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AreaShape {
    pub id: i64,
    pub pcode: String,
    pub name_en: String,
    pub name_es: String,
    pub name_pt: String,
    pub geometry: String,
}

/// Text as it is searched: lower case, without accents, spaces collapsed, so that "tachira"
/// finds "Táchira" and "CÚCUTA" finds "Cúcuta" on both engines.
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let plain: String = text.nfd().filter(|c| !is_combining_mark(*c)).collect::<String>().to_lowercase();
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::{ListFilter, fold};

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(fold("  San Antonio del  TÁCHIRA "), "san antonio del tachira");
        assert_eq!(fold("Ñuble · Curaçao · São Paulo"), "nuble · curacao · sao paulo");
    }

    #[test]
    fn like_wildcards_typed_by_a_person_are_literal() {
        let f = ListFilter { q: Some("50%_off\\".into()), ..Default::default() };
        assert_eq!(f.pattern().unwrap(), "%50\\%\\_off\\\\%");
        assert_eq!(ListFilter { q: Some("  ".into()), ..Default::default() }.pattern(), None);
    }
}
