//! The service directory: which organisation offers what (health, shelter, legal aid…),
//! where, to whom, when and how to reach it. Caseworkers refer cases to these services;
//! the public page shows the public, active ones nearest to a person.
//!
//! Services are never deleted: a service that closes is deactivated, so referrals made to
//! it keep their meaning and the change can be undone.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::QueryBuilder;
use utoipa::ToSchema;

use crate::error::{Problems, Result};
use crate::model::{Actor, Page, fold};
use crate::{AuditEvent, Store, StoreError, run};

/// The sector of a service: what need it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sector {
    Health,
    /// Mental health and psychosocial support.
    Mhpss,
    Shelter,
    Legal,
    Cash,
    ChildProtection,
    /// Gender-based violence: prevention, response, safe spaces.
    Gbv,
    Livelihoods,
}

impl Sector {
    pub const ALL: &'static [Sector] = &[
        Sector::Health,
        Sector::Mhpss,
        Sector::Shelter,
        Sector::Legal,
        Sector::Cash,
        Sector::ChildProtection,
        Sector::Gbv,
        Sector::Livelihoods,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sector::Health => "health",
            Sector::Mhpss => "mhpss",
            Sector::Shelter => "shelter",
            Sector::Legal => "legal",
            Sector::Cash => "cash",
            Sector::ChildProtection => "child_protection",
            Sector::Gbv => "gbv",
            Sector::Livelihoods => "livelihoods",
        }
    }

    /// The code list, for error messages.
    pub fn codes() -> String {
        Self::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl std::str::FromStr for Sector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == s.trim())
            .ok_or_else(|| format!("must be one of: {}", Self::codes()))
    }
}

impl TryFrom<String> for Sector {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl std::fmt::Display for Sector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A service of the directory, with its organisation's name and, in a search near a point,
/// its distance from that point.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Service {
    pub id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub organisation_acronym: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub sector: Sector,
    /// ISO alpha-3 code of the country.
    pub country_code: String,
    /// p-code of the admin-1 area the service is in.
    pub admin1_pcode: Option<String>,
    /// English name of that area.
    pub admin1_name: Option<String>,
    /// The site the service works at, if any.
    pub site_id: Option<i64>,
    pub site_name: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub address: String,
    /// Who may use it (age, sex, status, documents needed…).
    pub eligibility: String,
    /// Phone, WhatsApp, e-mail: how to reach it.
    pub contact: String,
    /// Opening days and hours.
    pub hours: String,
    /// Languages spoken.
    pub languages: String,
    /// Listed on the public page.
    pub public: bool,
    /// Open; an inactive service is kept for the record but not offered.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Kilometres from the point searched near (only in a search near a point, and only
    /// for services with coordinates).
    #[sqlx(skip)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

/// A service as written by the API and the forms.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ServiceInput {
    pub organisation_id: i64,
    pub name: String,
    pub sector: Sector,
    /// ISO alpha-3 code of the country.
    pub country_code: String,
    /// p-code of an admin-1 area of that country.
    #[serde(default)]
    pub admin1_pcode: Option<String>,
    /// A site of that country; its coordinates are used when none are given.
    #[serde(default)]
    pub site_id: Option<i64>,
    /// Latitude (WGS84), -90 to 90; give both coordinates or neither.
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Longitude (WGS84), -180 to 180.
    #[serde(default)]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub eligibility: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub hours: String,
    #[serde(default)]
    pub languages: String,
    /// Listed on the public page (default true).
    #[serde(default = "yes")]
    pub public: bool,
    /// Open (default true).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl ServiceInput {
    /// Trims texts, upper-cases the country and treats an empty p-code as none.
    pub fn normalise(&mut self) {
        self.country_code = self.country_code.trim().to_uppercase();
        self.name = self.name.trim().to_string();
        for text in [&mut self.address, &mut self.eligibility, &mut self.contact, &mut self.hours, &mut self.languages]
        {
            *text = text.trim().to_string();
        }
        self.admin1_pcode = self.admin1_pcode.take().map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    }

    /// Checks what can be checked without the database; every problem is reported.
    pub fn validate(&self) -> Result<()> {
        let mut p = Problems::default();
        p.text(&self.name, "name", 200);
        p.check(
            self.country_code.len() == 3 && self.country_code.bytes().all(|b| b.is_ascii_uppercase()),
            "country_code",
            "must be an ISO 3166-1 alpha-3 code, e.g. COL",
        );
        if let Some(lat) = self.latitude {
            p.check(
                lat.is_finite() && (-90.0..=90.0).contains(&lat),
                "latitude",
                "must be a number between -90 and 90",
            );
        }
        if let Some(lon) = self.longitude {
            p.check(
                lon.is_finite() && (-180.0..=180.0).contains(&lon),
                "longitude",
                "must be a number between -180 and 180",
            );
        }
        match (self.latitude, self.longitude) {
            (Some(_), None) => p.push("longitude", "is required when a latitude is given"),
            (None, Some(_)) => p.push("latitude", "is required when a longitude is given"),
            _ => {}
        }
        for (value, field, max) in [
            (&self.address, "address", 500),
            (&self.eligibility, "eligibility", 2000),
            (&self.contact, "contact", 500),
            (&self.hours, "hours", 500),
            (&self.languages, "languages", 200),
        ] {
            p.check(value.chars().count() <= max, field, format!("is longer than {max} characters"));
        }
        p.into_result()
    }

    /// The folded text a search matches: name, eligibility and address (the organisation's
    /// own search text is matched beside it).
    fn search_text(&self) -> String {
        fold(&format!("{} {} {}", self.name, self.eligibility, self.address))
    }
}

/// A point to search near, and how far from it to look.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub latitude: f64,
    pub longitude: f64,
    /// Only services within this many kilometres (those without coordinates are left out
    /// then); without it, every service, nearest first, those without coordinates last.
    pub radius_km: Option<f64>,
}

/// What to look for in the directory. Every field is optional.
#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    /// Restricts to these countries (the caller's scope); `None`: every country.
    pub scope: Option<Vec<String>>,
    /// One country (ISO alpha-3).
    pub country: Option<String>,
    /// Any of these sectors (none: every sector).
    pub sectors: Vec<Sector>,
    /// p-code of an admin-1 area.
    pub admin1: Option<String>,
    pub organisation_id: Option<i64>,
    /// Free text matched against the name, the organisation, the eligibility and the address.
    pub q: Option<String>,
    pub active: Option<bool>,
    pub public: Option<bool>,
    /// Nearest first from this point, with distances.
    pub near: Option<Near>,
    /// At most this many (default 100).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl ServiceFilter {
    fn limit(&self) -> i64 {
        self.limit.unwrap_or(100).clamp(1, 100_000)
    }

    fn offset(&self) -> i64 {
        self.offset.unwrap_or(0).max(0)
    }

    fn pattern(&self) -> Option<String> {
        crate::model::ListFilter { q: self.q.clone(), ..Default::default() }.pattern()
    }
}

/// Mean radius of the Earth (IUGG), in kilometres.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance between two points (degrees), in kilometres (haversine formula).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// The latitude and longitude ranges that hold every point within `radius_km` of `near`;
/// the longitude range is `None` where it would wrap (near a pole or the antimeridian).
fn bounding_box(near: &Near, radius_km: f64) -> ((f64, f64), Option<(f64, f64)>) {
    let d_lat = (radius_km / EARTH_RADIUS_KM).to_degrees();
    let lat = (near.latitude - d_lat, near.latitude + d_lat);
    let cos = near.latitude.to_radians().cos();
    let lon = if lat.0 > -89.0 && lat.1 < 89.0 && cos > 0.01 {
        let d_lon = d_lat / (lat.0.abs().max(lat.1.abs()).to_radians().cos());
        let range = (near.longitude - d_lon, near.longitude + d_lon);
        (range.0 >= -180.0 && range.1 <= 180.0).then_some(range)
    } else {
        None
    };
    (lat, lon)
}

const SERVICE_COLUMNS: &str = "SELECT s.id, s.organisation_id, o.name AS organisation_name, o.acronym AS organisation_acronym, \
     s.name, s.sector, s.country_code, s.admin1_pcode, a.name_en AS admin1_name, s.site_id, st.name AS site_name, \
     s.latitude, s.longitude, s.address, s.eligibility, s.contact, s.hours, s.languages, s.public, s.active, \
     s.created_at, s.updated_at \
     FROM services s JOIN organisations o ON o.id = s.organisation_id \
     LEFT JOIN admin_areas a ON a.pcode = s.admin1_pcode LEFT JOIN sites st ON st.id = s.site_id";

/// Appends the conditions of a filter (but the distance) to a query over `services s`.
macro_rules! push_service_filters {
    ($qb:expr, $f:expr) => {{
        let f: &ServiceFilter = $f;
        if let Some(scope) = &f.scope {
            if scope.is_empty() {
                $qb.push(" AND 1 = 0");
            } else {
                $qb.push(" AND s.country_code IN (");
                let mut list = $qb.separated(", ");
                for c in scope {
                    list.push_bind(c.clone());
                }
                list.push_unseparated(")");
            }
        }
        if let Some(country) = &f.country {
            $qb.push(" AND s.country_code = ").push_bind(country.clone());
        }
        if !f.sectors.is_empty() {
            $qb.push(" AND s.sector IN (");
            let mut list = $qb.separated(", ");
            for s in &f.sectors {
                list.push_bind(s.as_str());
            }
            list.push_unseparated(")");
        }
        if let Some(admin1) = &f.admin1 {
            $qb.push(" AND s.admin1_pcode = ").push_bind(admin1.clone());
        }
        if let Some(org) = f.organisation_id {
            $qb.push(" AND s.organisation_id = ").push_bind(org);
        }
        if let Some(active) = f.active {
            $qb.push(" AND s.active = ").push_bind(active);
        }
        if let Some(public) = f.public {
            $qb.push(" AND s.public = ").push_bind(public);
        }
        if let Some(pattern) = f.pattern() {
            $qb.push(" AND (s.search LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
            $qb.push(" OR o.search LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
        }
        if let Some(near) = &f.near
            && let Some(radius) = near.radius_km
        {
            let ((lat_min, lat_max), lon) = bounding_box(near, radius);
            $qb.push(" AND s.latitude IS NOT NULL AND s.longitude IS NOT NULL");
            $qb.push(" AND s.latitude >= ").push_bind(lat_min).push(" AND s.latitude <= ").push_bind(lat_max);
            if let Some((lon_min, lon_max)) = lon {
                $qb.push(" AND s.longitude >= ").push_bind(lon_min).push(" AND s.longitude <= ").push_bind(lon_max);
            }
        }
    }};
}

/// Checks, inside a write transaction, what the input refers to: the organisation, the
/// country, the admin-1 area and the site. Evaluates to the coordinates to store (the
/// site's when the input gives none).
macro_rules! check_references {
    ($tx:expr, $input:expr) => {{
        let input: &ServiceInput = $input;
        let mut problems = Problems::default();
        let org: Option<i64> = sqlx::query_scalar("SELECT id FROM organisations WHERE id = $1")
            .bind(input.organisation_id)
            .fetch_optional(&mut *$tx)
            .await?;
        problems.check(org.is_some(), "organisation_id", format!("no organisation has id {}", input.organisation_id));
        let country: Option<String> = sqlx::query_scalar("SELECT code FROM countries WHERE code = $1")
            .bind(&input.country_code)
            .fetch_optional(&mut *$tx)
            .await?;
        problems.check(country.is_some(), "country_code", format!("no country has code {}", input.country_code));
        if let Some(pcode) = &input.admin1_pcode {
            let area: Option<(String, i32)> =
                sqlx::query_as("SELECT country_code, level FROM admin_areas WHERE pcode = $1")
                    .bind(pcode)
                    .fetch_optional(&mut *$tx)
                    .await?;
            match area {
                None => problems.push("admin1_pcode", format!("no admin area has p-code {pcode}")),
                Some((c, _)) if c != input.country_code => {
                    problems.push("admin1_pcode", format!("{pcode} is an area of {c}, not of {}", input.country_code))
                }
                Some((_, level)) if level != 1 => {
                    problems.push("admin1_pcode", format!("{pcode} is an area of level {level}, not of level 1"));
                }
                Some(_) => {}
            }
        }
        let mut coordinates = (input.latitude, input.longitude);
        if let Some(site) = input.site_id {
            let row: Option<(String, f64, f64)> =
                sqlx::query_as("SELECT country_code, latitude, longitude FROM sites WHERE id = $1")
                    .bind(site)
                    .fetch_optional(&mut *$tx)
                    .await?;
            match row {
                None => problems.push("site_id", format!("no site has id {site}")),
                Some((c, ..)) if c != input.country_code => {
                    problems.push("site_id", format!("site {site} is in {c}, not in {}", input.country_code));
                }
                Some((_, lat, lon)) => {
                    if coordinates.0.is_none() {
                        coordinates = (Some(lat), Some(lon));
                    }
                }
            }
        }
        problems.into_result()?;
        coordinates
    }};
}

impl Store {
    /// One service; [`StoreError::NotFound`] when there is none with this id.
    pub async fn service(&self, id: i64) -> Result<Service> {
        run!(self, |pool, _h| {
            sqlx::query_as(&format!("{SERVICE_COLUMNS} WHERE s.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "service" })
        })
    }

    /// The services matching `f`: by country, sector and name; or, with `f.near`, nearest
    /// first with their distances (computed here, after a bounding-box filter in SQL).
    #[tracing::instrument(skip_all)]
    pub async fn search_services(&self, f: &ServiceFilter) -> Result<Page<Service>> {
        let Some(near) = f.near else {
            return run!(self, |pool, _h| {
                let mut count = QueryBuilder::new(
                    "SELECT COUNT(*) FROM services s JOIN organisations o ON o.id = s.organisation_id WHERE 1 = 1",
                );
                push_service_filters!(count, f);
                let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
                let mut qb = QueryBuilder::new(SERVICE_COLUMNS);
                qb.push(" WHERE 1 = 1");
                push_service_filters!(qb, f);
                qb.push(" ORDER BY s.country_code, s.sector, s.name, s.id LIMIT ").push_bind(f.limit());
                qb.push(" OFFSET ").push_bind(f.offset());
                let items = qb.build_query_as().fetch_all(pool).await?;
                Ok(Page { items, total })
            });
        };
        let mut items: Vec<Service> = run!(self, |pool, _h| {
            let mut qb = QueryBuilder::new(SERVICE_COLUMNS);
            qb.push(" WHERE 1 = 1");
            push_service_filters!(qb, f);
            qb.build_query_as().fetch_all(pool).await?
        });
        Ok(rank_by_distance(&mut items, &near, f.offset(), f.limit()))
    }

    /// Adds a service to the directory.
    #[tracing::instrument(skip_all)]
    pub async fn create_service(&self, actor: &Actor, input: &ServiceInput) -> Result<Service> {
        input.validate()?;
        let now = Utc::now();
        let id = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let (latitude, longitude) = check_references!(tx, input);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO services (organisation_id, name, sector, country_code, admin1_pcode, site_id, latitude, longitude, \
                 address, eligibility, contact, hours, languages, search, public, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id",
            )
            .bind(input.organisation_id).bind(&input.name).bind(input.sector.as_str()).bind(&input.country_code)
            .bind(&input.admin1_pcode).bind(input.site_id).bind(latitude).bind(longitude).bind(&input.address)
            .bind(&input.eligibility).bind(&input.contact).bind(&input.hours).bind(&input.languages)
            .bind(input.search_text()).bind(input.public).bind(input.active).bind(now).bind(now)
            .fetch_one(&mut *tx)
            .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "create",
                    entity: "service",
                    entity_id: id.to_string(),
                    country_code: Some(&input.country_code),
                    detail: json!({ "name": input.name, "sector": input.sector, "organisation_id": input.organisation_id,
                                    "public": input.public, "active": input.active }),
                },
            )
            .await?;
            tx.commit().await?;
            id
        });
        self.service(id).await
    }

    /// Changes a service. It stays in its country: a service that moves is deactivated
    /// here and created there.
    #[tracing::instrument(skip_all)]
    pub async fn update_service(&self, actor: &Actor, id: i64, input: &ServiceInput) -> Result<Service> {
        input.validate()?;
        let before = self.service(id).await?;
        if before.country_code != input.country_code {
            return Err(StoreError::invalid(
                "country_code",
                format!(
                    "the service is in {}; it cannot move to another country (deactivate it and create one there)",
                    before.country_code
                ),
            ));
        }
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let (latitude, longitude) = check_references!(tx, input);
            sqlx::query(
                "UPDATE services SET organisation_id = $1, name = $2, sector = $3, admin1_pcode = $4, site_id = $5, \
                 latitude = $6, longitude = $7, address = $8, eligibility = $9, contact = $10, hours = $11, languages = $12, \
                 search = $13, public = $14, active = $15, updated_at = $16 WHERE id = $17",
            )
            .bind(input.organisation_id).bind(&input.name).bind(input.sector.as_str()).bind(&input.admin1_pcode)
            .bind(input.site_id).bind(latitude).bind(longitude).bind(&input.address).bind(&input.eligibility)
            .bind(&input.contact).bind(&input.hours).bind(&input.languages).bind(input.search_text())
            .bind(input.public).bind(input.active).bind(now).bind(id)
            .execute(&mut *tx)
            .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "update",
                    entity: "service",
                    entity_id: id.to_string(),
                    country_code: Some(&input.country_code),
                    detail: json!({
                        "before": { "name": before.name, "sector": before.sector, "organisation_id": before.organisation_id,
                                    "public": before.public, "active": before.active },
                        "after": { "name": input.name, "sector": input.sector, "organisation_id": input.organisation_id,
                                   "public": input.public, "active": input.active },
                    }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        self.service(id).await
    }

    /// Deactivates (`false`) or reactivates (`true`) a service; the directory's "delete",
    /// which can be undone.
    #[tracing::instrument(skip_all)]
    pub async fn set_service_active(&self, actor: &Actor, id: i64, active: bool) -> Result<Service> {
        let service = self.service(id).await?;
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            sqlx::query("UPDATE services SET active = $1, updated_at = $2 WHERE id = $3")
                .bind(active)
                .bind(Utc::now())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: if active { "reactivate" } else { "deactivate" },
                    entity: "service",
                    entity_id: id.to_string(),
                    country_code: Some(&service.country_code),
                    detail: json!({ "name": service.name, "was_active": service.active }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        self.service(id).await
    }
}

/// Sets each service's distance from `near`, drops those beyond the radius, sorts nearest
/// first (those without coordinates last, by name) and cuts the page.
fn rank_by_distance(items: &mut Vec<Service>, near: &Near, offset: i64, limit: i64) -> Page<Service> {
    for s in items.iter_mut() {
        s.distance_km = match (s.latitude, s.longitude) {
            (Some(lat), Some(lon)) => Some(distance_km(near.latitude, near.longitude, lat, lon)),
            _ => None,
        };
    }
    if let Some(radius) = near.radius_km {
        items.retain(|s| s.distance_km.is_some_and(|d| d <= radius));
    }
    items.sort_by(|a, b| match (a.distance_km, b.distance_km) {
        (Some(x), Some(y)) => x.total_cmp(&y).then(a.id.cmp(&b.id)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.name.cmp(&b.name).then(a.id.cmp(&b.id)),
    });
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from(offset).unwrap_or(0);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    let page = std::mem::take(items).into_iter().skip(skip).take(take).collect();
    Page { items: page, total }
}

#[cfg(test)]
mod tests {
    use super::{Near, Sector, ServiceInput, bounding_box, distance_km};

    #[test]
    fn haversine_distances_match_hand_computed_ones() {
        // One degree along a meridian: 2πR / 360.
        let degree = 2.0 * std::f64::consts::PI * 6371.0088 / 360.0;
        assert!((distance_km(0.0, 0.0, 1.0, 0.0) - degree).abs() < 1e-9);
        // One degree along the equator is the same; at 60° north it is half as long.
        assert!((distance_km(0.0, 10.0, 0.0, 11.0) - degree).abs() < 1e-9);
        assert!((distance_km(60.0, 0.0, 60.0, 1.0) - degree / 2.0).abs() < 0.01);
        // The same point, and the antipode (half the circumference).
        assert!(distance_km(7.8, -72.5, 7.8, -72.5).abs() < 1e-12);
        assert!((distance_km(0.0, 0.0, 0.0, 180.0) - degree * 180.0).abs() < 1e-6);
        // Cúcuta to Bogotá, about 395 km as the crow flies.
        let d = distance_km(7.8939, -72.5078, 4.7110, -74.0721);
        assert!((390.0..400.0).contains(&d), "{d}");
    }

    #[test]
    fn the_bounding_box_holds_the_whole_circle() {
        let near = Near { latitude: 7.8, longitude: -72.5, radius_km: Some(50.0) };
        let ((lat_min, lat_max), lon) = bounding_box(&near, 50.0);
        let (lon_min, lon_max) = lon.unwrap();
        assert!(distance_km(7.8, -72.5, lat_max, -72.5) >= 49.99 && lat_min < 7.8);
        assert!(distance_km(7.8, -72.5, 7.8, lon_min) >= 49.99 && lon_max > -72.5);
        let pole = Near { latitude: 89.9, longitude: 0.0, radius_km: Some(50.0) };
        assert!(bounding_box(&pole, 50.0).1.is_none());
    }

    #[test]
    fn input_problems_are_named() {
        let input = ServiceInput {
            organisation_id: 1,
            name: " ".into(),
            sector: Sector::Legal,
            country_code: "col".into(),
            admin1_pcode: None,
            site_id: None,
            latitude: Some(95.0),
            longitude: None,
            address: String::new(),
            eligibility: String::new(),
            contact: String::new(),
            hours: String::new(),
            languages: String::new(),
            public: true,
            active: true,
        };
        let Err(crate::StoreError::Invalid(errors)) = input.validate() else { panic!("accepted") };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "country_code", "latitude", "longitude"]);
        assert_eq!("gbv".parse::<Sector>(), Ok(Sector::Gbv));
        assert!("food".parse::<Sector>().unwrap_err().contains("child_protection"));
    }
}
