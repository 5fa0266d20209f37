//! Realistic, reproducible answers to the demo Flow Monitoring Survey
//! (`data/forms/flow-monitoring.xlsx`, form `rumbo_fms`): what enumerators at the
//! demo's flow-monitoring points would send in a round.
//!
//! The same seed always gives the same submissions. The shares are those of a
//! typical round of the regional survey, with the structure the dashboards show:
//! mostly Venezuelan adults (some Colombians, Haitians, Ecuadorians, Cubans), a few
//! percent over 60; people in transit mostly men of 18–59 travelling alone, people
//! staying in the country more often women and families with children; on the
//! Colombia–Ecuador–Peru route more walking and hitch-hiking and more need of food,
//! water and shelter, where those staying need documents and work; more incidents
//! among those walking and on the Darién route; destinations weighted to Colombia,
//! Peru, Chile, Ecuador, the United States and Brazil; about 3% declining the
//! interview. Each submission is a JSON object of the shape
//! [`rumbo_xlsform::Validator::validate_json`] reads, and passes it without errors.

use chrono::{Days, NaiveDate};
use serde_json::{Map, Value, json};

use rumbo_store::model::SiteKind;

use crate::demo::FLOW_MONITORING_POINTS;

/// The demo Flow Monitoring Survey as an XLSForm (Spanish, Portuguese, English).
pub const FLOW_MONITORING_XLSX: &[u8] = include_bytes!("../../../data/forms/flow-monitoring.xlsx");
/// The file name the form is read under.
pub const FLOW_MONITORING_FILE_NAME: &str = "flow-monitoring.xlsx";
/// `form_id` of the survey.
pub const FORM_ID: &str = "rumbo_fms";
/// `version` of the survey the submissions answer.
pub const FORM_VERSION: &str = "2026112801";

/// The demo's flow-monitoring points as (site code, country alpha-3), coded as the
/// demo seed codes them: `COL-FMP-001`, numbered per country in list order.
pub fn demo_sites() -> Vec<(String, String)> {
    let mut counters = std::collections::HashMap::<&str, usize>::new();
    FLOW_MONITORING_POINTS
        .iter()
        .map(|(country, ..)| {
            let n = counters.entry(country).or_default();
            *n += 1;
            (format!("{country}-FMP-{n:03}"), (*country).to_owned())
        })
        .collect()
}

/// The demo flow-monitoring point a site code names (`PER-FMP-004`: the fourth
/// point of Peru in [`FLOW_MONITORING_POINTS`]): (country, name, kind); `None` for
/// other codes.
pub(crate) fn demo_point(code: &str) -> Option<(&'static str, &'static str, SiteKind)> {
    let (country, number) = code.split_once("-FMP-")?;
    let number: usize = number.parse().ok()?;
    FLOW_MONITORING_POINTS
        .iter()
        .filter(|(c, ..)| *c == country)
        .nth(number.checked_sub(1)?)
        .map(|(country, name, kind, ..)| (*country, *name, *kind))
}

/// What kind of place a demo flow-monitoring point is; `None` for other codes.
fn site_kind(code: &str) -> Option<SiteKind> {
    demo_point(code).map(|(_, _, kind)| kind)
}

/// `count` submissions at the given `sites` (site code, country alpha-3; points in
/// the main transit and destination countries get more), interviews spread over
/// the `days` days from `start` (`today` and `start` fall on the interview's day),
/// between 07:00 and 18:30 local time. The same arguments always give the same
/// submissions; no sites give none.
pub fn generate(count: usize, seed: u64, sites: &[(String, String)], start: NaiveDate, days: u32) -> Vec<Value> {
    submissions(seed, sites, start, days).take(count).collect()
}

/// The submissions of [`generate`] one at a time, without end (none without sites):
/// `generate(count, ..)` is the first `count` of them. Large numbers of submissions
/// take much memory as JSON values; read them from here a batch at a time.
pub fn submissions(
    seed: u64,
    sites: &[(String, String)],
    start: NaiveDate,
    days: u32,
) -> impl Iterator<Item = Value> + use<> {
    let mut rng = Rng::new(seed);
    let weights: Vec<(usize, u32)> =
        sites.iter().enumerate().map(|(index, (_, country))| (index, site_weight(country))).collect();
    let sites: Vec<(String, String, Option<SiteKind>)> =
        sites.iter().map(|(code, country)| (code.clone(), country.clone(), site_kind(code))).collect();
    std::iter::from_fn(move || {
        if sites.is_empty() {
            return None;
        }
        let (site, country, kind) = &sites[rng.pick(&weights)];
        let day = start.checked_add_days(Days::new(rng.below(u64::from(days.max(1))))).unwrap_or(start);
        Some(Interview::new(&mut rng, site, *kind, country, day).to_json())
    })
}

/// splitmix64 (Steele, Lea and Flood, 2014): tiny, fast, and good enough for
/// demo data; not for anything secret. Shared by the demo generators.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5275_6D62_6F46_4D53)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    pub(crate) fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// A number in `0.0..1.0`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// A number in `low..=high`.
    pub(crate) fn between(&mut self, low: u32, high: u32) -> u32 {
        low + self.below(u64::from(high.saturating_sub(low)) + 1) as u32
    }

    /// True `per_mille` times in a thousand.
    pub(crate) fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < u64::from(per_mille)
    }

    /// One item, each as likely as its weight. The tables are never empty.
    pub(crate) fn pick<T: Copy>(&mut self, table: &[(T, u32)]) -> T {
        let total: u64 = table.iter().map(|(_, weight)| u64::from(*weight)).sum();
        let mut roll = self.below(total);
        for (item, weight) in table {
            if roll < u64::from(*weight) {
                return *item;
            }
            roll -= u64::from(*weight);
        }
        table.last().map(|(item, _)| *item).expect("weight tables are not empty")
    }

    /// A random (version 4) UUID.
    pub(crate) fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next().to_be_bytes());
        bytes[8..].copy_from_slice(&self.next().to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex = hex::encode(bytes);
        format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
    }
}

/// How many interviews a point of `country` gets, relative to others: the
/// survey samples more where more people pass.
pub(crate) fn site_weight(country: &str) -> u32 {
    match country {
        "PER" | "ECU" | "CHL" => 4,
        "COL" | "BRA" => 3,
        "VEN" | "PAN" | "ARG" => 2,
        _ => 1,
    }
}

/// Local UTC offset at the demo's points in the last quarter of the year.
fn utc_offset(country: &str) -> &'static str {
    match country {
        "COL" | "ECU" | "PER" | "PAN" => "-05:00",
        "CRI" | "MEX" => "-06:00",
        "ARG" | "URY" | "PRY" | "CHL" => "-03:00",
        _ => "-04:00",
    }
}

/// Mobile numbers: country calling code, first digits, how many digits follow.
fn mobile_plan(country: &str) -> (&'static str, &'static [&'static str], u32) {
    match country {
        "COL" => ("57", &["300", "301", "304", "310", "311", "313", "315", "318", "320", "321", "350"], 7),
        "PER" => ("51", &["9"], 8),
        "ECU" => ("593", &["9"], 8),
        "CHL" => ("56", &["9"], 8),
        "BRA" => ("55", &["959", "929", "689"], 8),
        "PAN" => ("507", &["6"], 7),
        "CRI" => ("506", &["8", "7"], 7),
        "MEX" => ("52", &["962", "656", "664"], 7),
        "ARG" => ("54", &["911"], 8),
        _ => ("58", &["412", "414", "416", "424", "426"], 7),
    }
}

/// The usual overland route from Venezuela to `country`, both ends included.
fn corridor(country: &str) -> &'static [&'static str] {
    const ANDEAN: [&str; 6] = ["VEN", "COL", "ECU", "PER", "BOL", "ARG"];
    const NORTH: [&str; 9] = ["VEN", "COL", "PAN", "CRI", "NIC", "HND", "GTM", "MEX", "USA"];
    match country {
        "VEN" => &["VEN"],
        "COL" => &NORTH[..2],
        "ECU" => &ANDEAN[..3],
        "PER" => &ANDEAN[..4],
        "BOL" => &ANDEAN[..5],
        "ARG" => &ANDEAN,
        "CHL" => &["VEN", "COL", "ECU", "PER", "CHL"],
        "PAN" => &NORTH[..3],
        "CRI" => &NORTH[..4],
        "NIC" => &NORTH[..5],
        "HND" => &NORTH[..6],
        "GTM" => &NORTH[..7],
        "MEX" => &NORTH[..8],
        "USA" => &NORTH,
        "BRA" => &["VEN", "BRA"],
        "URY" => &["VEN", "BRA", "URY"],
        "PRY" => &["VEN", "BRA", "PRY"],
        "GUY" => &["VEN", "GUY"],
        "TTO" => &["VEN", "TTO"],
        "ABW" => &["VEN", "ABW"],
        "CUW" => &["VEN", "CUW"],
        "DOM" => &["VEN", "DOM"],
        _ => &[],
    }
}

/// The countries crossed between `departure` and `arrival`, both left out: back
/// along the departure's route to where it meets the arrival's, then on.
fn transit(departure: &str, arrival: &str) -> Vec<&'static str> {
    let there = corridor(arrival);
    let back = corridor(departure);
    let shared = back.iter().zip(there).take_while(|(a, b)| a == b).count();
    let mut steps: Vec<&'static str> = Vec::new();
    if back.is_empty() {
        // From outside the region: along the arrival's route from its start.
        steps.extend(there.iter().skip(1));
    } else {
        if let Some(way_back) = back.get(shared..back.len() - 1) {
            steps.extend(way_back.iter().rev());
        }
        steps.extend(there.get(shared.saturating_sub(1)));
        steps.extend(there.iter().skip(shared));
    }
    let mut crossed = Vec::new();
    for step in steps {
        if step != departure && step != arrival && !crossed.contains(&step) {
            crossed.push(step);
        }
    }
    crossed
}

/// Points on the route north, through the Darién and Central America.
pub(crate) fn on_northern_route(country: &str) -> bool {
    matches!(country, "PAN" | "CRI" | "MEX")
}

/// Reached from Venezuela by sea or air.
pub(crate) fn island(country: &str) -> bool {
    matches!(country, "ABW" | "CUW" | "TTO" | "DOM")
}

/// Nationalities and countries of origin written in as "other": (nationality, country).
const OTHER_ORIGINS: [(&str, &str); 7] = [
    ("China", "China"),
    ("India", "India"),
    ("Afgana", "Afganistán"),
    ("Camerunesa", "Camerún"),
    ("Nepalí", "Nepal"),
    ("Senegalesa", "Senegal"),
    ("Angoleña", "Angola"),
];

/// One person in the travelling group other than the respondent.
struct Member {
    sex: &'static str,
    age: u32,
    relationship: &'static str,
}

/// Everything one interview answered.
struct Interview {
    instance_id: String,
    device_id: String,
    start: String,
    end: String,
    today: NaiveDate,
    country: String,
    site: String,
    kind: Option<SiteKind>,
    direction: &'static str,
    consent: bool,
    sex: &'static str,
    age: u32,
    nationality: &'static str,
    other_origin: Option<(&'static str, &'static str)>,
    documents: Vec<&'static str>,
    regular_status: &'static str,
    education: &'static str,
    occupation: &'static str,
    group_type: Option<&'static str>,
    members: Vec<Member>,
    origin: &'static str,
    departure: String,
    departure_other: Option<&'static str>,
    date_left: NaiveDate,
    transit: Vec<&'static str>,
    transport_modes: Vec<&'static str>,
    transport_other: Option<&'static str>,
    transport: &'static str,
    incident: &'static str,
    incident_types: Vec<&'static str>,
    reason_left: Vec<&'static str>,
    reason_left_other: Option<&'static str>,
    pendular: bool,
    intention: &'static str,
    dest_country: Option<&'static str>,
    dest_country_other: Option<&'static str>,
    reason_destination: Option<&'static str>,
    reason_destination_other: Option<&'static str>,
    return_intention: Option<&'static str>,
    needs: Vec<&'static str>,
    needs_other: Option<&'static str>,
    main_need: &'static str,
    assistance: bool,
    pregnant_lactating: Option<&'static str>,
    disability: &'static str,
    chronic_illness: &'static str,
    uasc_seen: &'static str,
    uasc_count: Option<u32>,
    trafficking: [&'static str; 4],
    referral: Option<bool>,
    recontact: bool,
    phone: Option<String>,
    comments: Option<&'static str>,
}

impl Interview {
    fn new(rng: &mut Rng, site: &str, kind: Option<SiteKind>, country: &str, day: NaiveDate) -> Interview {
        let instance_id = format!("uuid:{}", rng.uuid());
        let device_id = device_id(site, rng.below(3));
        let begins = rng.between(7 * 3600, 18 * 3600);
        let consent = !rng.chance(30);
        let minutes = if consent { rng.between(9, 28) } else { rng.between(1, 3) };
        let ends = begins + minutes * 60 + rng.between(0, 59);
        let offset = utc_offset(country);
        let stamp = |seconds: u32, millis: u32| {
            format!("{day}T{:02}:{:02}:{:02}.{millis:03}{offset}", seconds / 3600, seconds / 60 % 60, seconds % 60)
        };
        let start = stamp(begins, rng.between(0, 999));
        let end = stamp(ends, rng.between(0, 999));
        let direction = match country {
            "VEN" => rng.pick(&[("exit", 65), ("entry", 25), ("transit", 10)]),
            _ if on_northern_route(country) => rng.pick(&[("entry", 40), ("exit", 30), ("transit", 30)]),
            _ => rng.pick(&[("entry", 55), ("exit", 20), ("transit", 25)]),
        };
        let mut interview = Interview {
            instance_id,
            device_id,
            start,
            end,
            today: day,
            country: country.to_owned(),
            site: site.to_owned(),
            kind,
            direction,
            consent,
            sex: "male",
            age: 30,
            nationality: "VEN",
            other_origin: None,
            documents: Vec::new(),
            regular_status: "regular",
            education: "secondary",
            occupation: "employed",
            group_type: None,
            members: Vec::new(),
            origin: "VEN",
            departure: "VEN".to_owned(),
            departure_other: None,
            date_left: day,
            transit: Vec::new(),
            transport_modes: Vec::new(),
            transport_other: None,
            transport: "bus",
            incident: "no",
            incident_types: Vec::new(),
            reason_left: Vec::new(),
            reason_left_other: None,
            pendular: false,
            intention: "stay",
            dest_country: None,
            dest_country_other: None,
            reason_destination: None,
            reason_destination_other: None,
            return_intention: None,
            needs: Vec::new(),
            needs_other: None,
            main_need: "none",
            assistance: false,
            pregnant_lactating: None,
            disability: "no",
            chronic_illness: "no",
            uasc_seen: "no",
            uasc_count: None,
            trafficking: ["no"; 4],
            referral: None,
            recontact: false,
            phone: None,
            comments: None,
        };
        if consent {
            interview.origin(rng);
            interview.plans(rng);
            interview.respondent(rng);
            interview.travelling_group(rng);
            interview.route(rng);
            interview.destination(rng);
            interview.journey(rng);
            interview.needs(rng);
            interview.vulnerabilities(rng);
            interview.contact(rng);
        }
        interview
    }

    fn national(&self) -> bool {
        self.origin == self.country
    }

    fn origin(&mut self, rng: &mut Rng) {
        let country = self.country.as_str();
        self.nationality = if country == "VEN" {
            rng.pick(&[("VEN", 95), ("COL", 5)])
        } else if on_northern_route(country) {
            rng.pick(&[("VEN", 60), ("HTI", 10), ("ECU", 10), ("COL", 7), ("CUB", 5), ("other", 8)])
        } else {
            rng.pick(&[("VEN", 85), ("COL", 6), ("HTI", 3), ("ECU", 2), ("CUB", 1), ("PER", 1), ("other", 2)])
        };
        if self.nationality == "other" {
            self.other_origin = Some(OTHER_ORIGINS[rng.index(OTHER_ORIGINS.len())]);
        }
        self.origin = self.nationality;
    }

    /// Whether the person crosses back and forth, and what they intend: decided
    /// first, because who travels (sex, age, group) depends on it.
    fn plans(&mut self, rng: &mut Rng) {
        let country = self.country.as_str();
        let national = self.national();
        let border = matches!(self.kind, None | Some(SiteKind::BorderCrossing));
        let pendular = match country {
            "COL" | "VEN" => 140,
            "BRA" | "ECU" | "PER" | "CHL" | "BOL" => 40,
            _ => 10,
        };
        self.pendular = border && rng.chance(pendular);
        self.intention = if self.pendular {
            // Back home the same day or week.
            if national {
                rng.pick(&[("stay", 85), ("undecided", 15)])
            } else {
                rng.pick(&[("return", 85), ("undecided", 15)])
            }
        } else if national {
            match self.direction {
                "exit" => rng.pick(&[("continue", 88), ("undecided", 12)]),
                "entry" => rng.pick(&[("return", 75), ("stay", 15), ("undecided", 10)]),
                _ => rng.pick(&[("stay", 50), ("continue", 40), ("undecided", 10)]),
            }
        } else if country == "VEN" {
            rng.pick(&[("return", 60), ("continue", 35), ("undecided", 5)])
        } else if on_northern_route(country) {
            rng.pick(&[("continue", 90), ("stay", 4), ("return", 3), ("undecided", 3)])
        } else {
            match self.direction {
                "exit" => rng.pick(&[("continue", 78), ("return", 14), ("undecided", 8)]),
                "entry" => rng.pick(&[("stay", 58), ("continue", 32), ("return", 3), ("undecided", 7)]),
                _ => rng.pick(&[("stay", 45), ("continue", 45), ("return", 4), ("undecided", 6)]),
            }
        };
    }

    fn respondent(&mut self, rng: &mut Rng) {
        // Those moving on are mostly men; those settling more often women.
        let men = match self.intention {
            "continue" => 670,
            "stay" => 420,
            _ => 540,
        };
        self.sex = if rng.chance(men) { "male" } else { "female" };
        self.age = if rng.chance(35) {
            rng.between(60, 78)
        } else {
            let age = 18 + rng.between(0, 8) + rng.between(0, 8) + rng.between(0, 12);
            if rng.chance(80) { age + rng.between(0, 13) } else { age }
        };

        if rng.chance(70) {
            self.documents = vec!["none"];
        } else {
            let permit = if self.intention == "stay" { 260 } else { 60 };
            for (document, per_mille) in [
                ("passport", 300),
                ("passport_expired", 180),
                ("national_id", 720),
                ("birth_certificate", 100),
                ("permit", permit),
                ("asylum", 30),
            ] {
                if rng.chance(per_mille) {
                    self.documents.push(document);
                }
            }
            if self.documents.is_empty() {
                self.documents.push("national_id");
            }
        }
        self.regular_status = if self.national() {
            "regular"
        } else if self.documents.contains(&"permit") {
            rng.pick(&[("regular", 90), ("in_process", 5), ("refuse", 5)])
        } else if self.documents.contains(&"asylum") {
            rng.pick(&[("in_process", 85), ("regular", 10), ("refuse", 5)])
        } else if self.pendular {
            rng.pick(&[("regular", 45), ("irregular", 45), ("refuse", 10)])
        } else {
            match self.intention {
                "stay" => rng.pick(&[("regular", 30), ("in_process", 30), ("irregular", 32), ("refuse", 8)]),
                "continue" => rng.pick(&[("regular", 10), ("in_process", 6), ("irregular", 74), ("refuse", 10)]),
                _ => rng.pick(&[("regular", 20), ("in_process", 10), ("irregular", 60), ("refuse", 10)]),
            }
        };
        self.education =
            rng.pick(&[("none", 3), ("primary", 20), ("secondary", 50), ("technical", 15), ("university", 12)]);
        self.occupation = if self.age >= 60 {
            rng.pick(&[("retired", 50), ("self_employed", 25), ("home", 15), ("unemployed", 10)])
        } else if self.sex == "female" {
            rng.pick(&[("employed", 30), ("self_employed", 25), ("unemployed", 22), ("home", 18), ("student", 5)])
        } else {
            rng.pick(&[("employed", 42), ("self_employed", 30), ("unemployed", 23), ("student", 5)])
        };
    }

    fn travelling_group(&mut self, rng: &mut Rng) {
        let male = self.sex == "male";
        let alone = match self.intention {
            _ if self.pendular => 700,
            "continue" if male => 620,
            "continue" => 300,
            "stay" if male => 300,
            "stay" => 140,
            _ if male => 450,
            _ => 250,
        };
        if rng.chance(alone) {
            return;
        }
        let size: u32 = rng.pick(&[
            (2, 300),
            (3, 240),
            (4, 180),
            (5, 110),
            (6, 70),
            (7, 40),
            (8, 25),
            (9, 15),
            (10, 10),
            (12, 6),
            (15, 3),
            (22, 1),
        ]);
        let group_type = if self.intention == "stay" {
            rng.pick(&[("family", 82), ("mixed", 10), ("non_family", 8)])
        } else {
            rng.pick(&[("family", 62), ("mixed", 17), ("non_family", 21)])
        };
        self.group_type = Some(group_type);
        let family = match group_type {
            "family" => size - 1,
            "mixed" => (size - 1).div_ceil(2),
            _ => 0,
        };
        let (sex, age) = (self.sex, self.age);
        for position in 1..size {
            let member = if position <= family {
                family_member(rng, sex, age, position == 1)
            } else {
                Member {
                    sex: if rng.chance(600) { "male" } else { "female" },
                    age: 18 + rng.between(0, 14) + rng.between(0, 14),
                    relationship: "non_relative",
                }
            };
            self.members.push(member);
        }
    }

    fn size(&self) -> usize {
        self.members.len() + 1
    }

    fn children(&self) -> usize {
        self.members.iter().filter(|member| member.age < 18).count()
    }

    /// Where the journey began, when, and the countries crossed since.
    fn route(&mut self, rng: &mut Rng) {
        let country = self.country.clone();
        // Venezuelans who lived some years in another country and are moving on.
        let secondary = match self.nationality {
            "VEN" | "other" => rng.chance(300),
            "HTI" => rng.chance(700),
            _ => rng.chance(100),
        };
        self.departure = if self.national() {
            if self.intention == "return" && !self.pendular {
                // Returnees: nationals coming home from where they lived.
                let table: &[(&str, u32)] = if country == "VEN" {
                    &[("COL", 50), ("PER", 20), ("ECU", 10), ("CHL", 10), ("BRA", 10)]
                } else {
                    &[("VEN", 70), ("PER", 10), ("ECU", 10), ("CHL", 10)]
                };
                let choice = rng.pick(table);
                if choice == country { "VEN".to_owned() } else { choice.to_owned() }
            } else {
                country.clone()
            }
        } else if self.pendular {
            self.origin.to_owned()
        } else if self.intention == "return" && rng.chance(500) {
            // Going home from the country where they lived.
            country.clone()
        } else if secondary {
            let table: &[(&str, u32)] = match self.nationality {
                "HTI" => &[("CHL", 60), ("BRA", 40)],
                "other" => &[("BRA", 60), ("ECU", 40)],
                _ => &[("COL", 40), ("PER", 25), ("CHL", 15), ("ECU", 10), ("BRA", 5), ("ARG", 5)],
            };
            let choice = rng.pick(table);
            if choice == country { self.origin.to_owned() } else { choice.to_owned() }
        } else {
            self.origin.to_owned()
        };
        if self.departure == "other" {
            self.departure_other = self.other_origin.map(|(_, country)| country);
        }

        let days_ago = if self.departure == country || self.pendular {
            rng.between(0, 3)
        } else {
            match rng.below(10) {
                0..=5 => rng.between(2, 30),
                6..=8 => rng.between(31, 180),
                _ => rng.between(181, 2500),
            }
        };
        let earliest = NaiveDate::from_ymd_opt(2015, 1, 2).unwrap_or(self.today);
        self.date_left =
            self.today.checked_sub_days(Days::new(u64::from(days_ago))).unwrap_or(self.today).max(earliest);

        self.transit = if self.pendular { Vec::new() } else { transit(&self.departure, &country) };
    }

    /// On the road from Colombia through Ecuador to Peru and on south: the
    /// caminantes' route.
    fn on_andean_route(&self) -> bool {
        let south = |country: &str| matches!(country, "ECU" | "PER" | "BOL" | "CHL" | "ARG");
        match self.country.as_str() {
            "ECU" | "PER" => !self.pendular,
            "COL" => {
                !self.pendular
                    && (self.dest_country.is_some_and(south)
                        || south(&self.departure)
                        || self.transit.iter().any(|country| south(country)))
            }
            _ => false,
        }
    }

    /// How they travel and what happened on the way.
    fn journey(&mut self, rng: &mut Rng) {
        let country = self.country.as_str();
        let northern = on_northern_route(country);
        let andean = self.on_andean_route();
        let by_sea = matches!(country, "PAN" | "CRI");
        self.transport = if island(country) {
            rng.pick(&[
                ("boat", if country == "DOM" { 3 } else { 75 }),
                ("plane", if country == "DOM" { 97 } else { 25 }),
            ])
        } else if self.kind == Some(SiteKind::Airport) {
            rng.pick(&[("plane", 97), ("bus", 3)])
        } else if self.pendular {
            rng.pick(&[("walking", 55), ("motorcycle", 20), ("bus", 15), ("car", 10)])
        } else if northern {
            rng.pick(&[
                ("walking", 45),
                ("bus", 35),
                ("boat", if by_sea { 10 } else { 0 }),
                ("hitchhiking", 5),
                ("train", if country == "MEX" { 10 } else { 0 }),
            ])
        } else if andean {
            rng.pick(&[("bus", 45), ("walking", 30), ("hitchhiking", 15), ("car", 5), ("motorcycle", 3), ("plane", 2)])
        } else {
            let motorcycle = if matches!(country, "VEN" | "COL") { 6 } else { 2 };
            rng.pick(&[
                ("bus", 72),
                ("car", 8),
                ("walking", 7),
                ("hitchhiking", 5),
                ("motorcycle", motorcycle),
                ("plane", 4),
                ("other", 1),
            ])
        };
        // Every other means used on the way, in the order of the list.
        let overland = !island(country) && self.kind != Some(SiteKind::Airport);
        for (mode, per_mille) in [
            ("bus", if overland { 400 } else { 50 }),
            ("car", 60),
            ("hitchhiking", if andean || northern { 200 } else { 50 }),
            ("motorcycle", if matches!(country, "VEN" | "COL") { 80 } else { 20 }),
            ("walking", if andean || northern { 300 } else { 60 }),
            ("boat", if by_sea { 400 } else { 10 }),
            ("plane", 20),
            ("train", if country == "MEX" { 200 } else { 0 }),
            ("other", 10),
        ] {
            if mode == self.transport || (overland && rng.chance(per_mille)) {
                self.transport_modes.push(mode);
            }
        }
        if self.transport_modes.contains(&"other") {
            self.transport_other = Some(["Bicicleta", "Canoa", "Caballo"][rng.index(3)]);
        }

        let through_darien = northern || self.transit.contains(&"PAN");
        let yes = if through_darien {
            350
        } else if self.transport == "walking" {
            240
        } else if self.transport_modes.contains(&"walking") {
            150
        } else {
            70
        };
        self.incident = rng.pick(&[("yes", yes), ("no", 980 - yes), ("refuse", 20)]);
        if self.incident == "yes" {
            for (kind, per_mille) in [
                ("theft", 500),
                ("extortion", if through_darien { 450 } else { 300 }),
                ("fraud", 200),
                ("physical_violence", 150),
                ("sexual_violence", if through_darien { 60 } else { 30 }),
                ("detention", 80),
                ("missing_person", if through_darien { 40 } else { 10 }),
            ] {
                if rng.chance(per_mille) {
                    self.incident_types.push(kind);
                }
            }
            if self.incident_types.is_empty() {
                self.incident_types.push("theft");
            }
        }
    }

    fn destination(&mut self, rng: &mut Rng) {
        let country = self.country.as_str();
        let moved_on = self.departure != self.origin;
        let reasons = [
            ("economic", 50),
            ("food", 12),
            ("services", 10),
            ("violence", 8),
            ("persecution", 4),
            ("family", 12),
            ("discrimination", if moved_on { 8 } else { 0 }),
            ("other", 1),
        ];
        let first = rng.pick(&reasons);
        for (reason, weight) in reasons {
            // One main reason, and often one or two more.
            if reason == first || (weight > 0 && reason != "other" && rng.chance(140)) {
                self.reason_left.push(reason);
            }
        }
        if self.reason_left.contains(&"other") {
            self.reason_left_other = Some(["Estudios", "Tratamiento médico", "Desastre natural"][rng.index(3)]);
        }
        if self.intention == "continue" {
            let mut table: Vec<(&'static str, u32)> = if on_northern_route(country) {
                vec![("USA", 85), ("MEX", 8), ("CAN", 4), ("other", 3)]
            } else {
                vec![
                    ("COL", 26),
                    ("PER", 22),
                    ("CHL", 14),
                    ("ECU", 10),
                    ("USA", 12),
                    ("BRA", 6),
                    ("ARG", 6),
                    ("MEX", 2),
                    ("PAN", 1),
                    ("URY", 1),
                    ("ESP", 2),
                    ("other", 1),
                ]
            };
            for (destination, weight) in &mut table {
                if *destination == country {
                    *weight = 0;
                } else if *destination == self.departure || self.transit.contains(destination) {
                    // Back where they came from: rare.
                    *weight = weight.div_ceil(4);
                } else if *destination != "USA" && corridor(destination).contains(&country) {
                    // Further along the road they are already on.
                    *weight *= 3;
                }
            }
            let destination = rng.pick(&table);
            self.dest_country = Some(destination);
            if destination == "other" {
                self.dest_country_other = Some(["Italia", "Reino Unido", "Alemania"][rng.index(3)]);
            }
        }
        if matches!(self.intention, "stay" | "continue") {
            let reason = rng.pick(&[
                ("work", 40),
                ("family_friends", 32),
                ("regularisation", 9),
                ("services", 6),
                ("safety", 6),
                ("language", 3),
                ("cost", 3),
                ("other", 1),
            ]);
            self.reason_destination = Some(reason);
            if reason == "other" {
                self.reason_destination_other = Some("Estudios");
            }
        }
        if !self.national() {
            self.return_intention = Some(match self.intention {
                "return" => rng.pick(&[("yes", 78), ("no", 8), ("dont_know", 14)]),
                "stay" => rng.pick(&[("yes", 22), ("no", 48), ("dont_know", 30)]),
                "continue" => rng.pick(&[("yes", 30), ("no", 35), ("dont_know", 35)]),
                _ => rng.pick(&[("yes", 35), ("no", 25), ("dont_know", 40)]),
            });
        }
    }

    fn needs(&mut self, rng: &mut Rng) {
        let staying = self.intention == "stay" && !self.pendular;
        let on_foot = matches!(self.transport, "walking" | "hitchhiking");
        let on_the_road = on_foot || (self.intention == "continue" && self.on_andean_route());
        let none = match () {
            () if self.pendular => 300,
            () if staying => 90,
            () if on_the_road => 20,
            () => 60,
        };
        if rng.chance(none) {
            self.needs = vec!["none"];
            self.main_need = "none";
        } else {
            let young = self.members.iter().any(|member| member.age < 5);
            let continuing = self.intention == "continue";
            // (need, how often it is mentioned, how often it is the most urgent)
            let table = [
                ("food", if on_the_road { 720 } else { 420 }, 6),
                ("water", if on_foot { 560 } else { 180 }, if on_foot { 5 } else { 2 }),
                ("shelter", if on_the_road { 560 } else { 260 }, 4),
                ("health", 180, 3),
                ("information", if continuing { 300 } else { 180 }, 1),
                ("documentation", if staying { 520 } else { 200 }, if staying { 7 } else { 2 }),
                ("cash", 450, 3),
                ("transport", if continuing { 380 } else { 120 }, 2),
                ("hygiene", if young { 350 } else { 140 }, 1),
                ("employment", if staying { 580 } else { 180 }, if staying { 7 } else { 1 }),
                ("legal", if staying { 150 } else { 60 }, 1),
                ("other", 20, 1),
            ];
            let mut urgent = Vec::new();
            for (need, per_mille, weight) in table {
                if rng.chance(per_mille) {
                    self.needs.push(need);
                    urgent.push((need, weight));
                }
            }
            if self.needs.is_empty() {
                let need = if staying { "employment" } else { "food" };
                self.needs.push(need);
                urgent.push((need, 1));
            }
            if self.needs.contains(&"other") {
                self.needs_other =
                    Some(["Pañales", "Fórmula infantil", "Ropa de abrigo", "Cargar el teléfono"][rng.index(4)]);
            }
            self.main_need = rng.pick(&urgent);
        }
        self.assistance = rng.chance(350);
    }

    fn vulnerabilities(&mut self, rng: &mut Rng) {
        let northern = on_northern_route(&self.country);
        if self.sex == "female" && self.age <= 55 {
            let yes = if self.age <= 40 { 80 } else { 20 };
            self.pregnant_lactating = Some(rng.pick(&[("yes", yes), ("no", 990 - yes), ("refuse", 10)]));
        }
        self.disability = rng.pick(&[("yes", 40), ("no", 950), ("refuse", 10)]);
        self.chronic_illness = rng.pick(&[("yes", if self.age >= 60 { 300 } else { 70 }), ("no", 920), ("refuse", 10)]);
        self.uasc_seen = rng.pick(&[("yes", if northern { 120 } else { 40 }), ("no", 920), ("dont_know", 40)]);
        if self.uasc_seen == "yes" {
            self.uasc_count = Some(if rng.chance(850) { rng.between(1, 4) } else { rng.between(5, 30) });
        }
        let yes = if northern { 30 } else { 15 };
        for answer in &mut self.trafficking {
            *answer = rng.pick(&[("yes", yes), ("no", 990 - yes), ("refuse", 10)]);
        }
        if self.trafficking.contains(&"yes") || self.uasc_seen == "yes" || self.incident == "yes" {
            self.referral = Some(rng.chance(600));
        }
    }

    fn contact(&mut self, rng: &mut Rng) {
        self.recontact = rng.chance(300);
        if self.recontact && rng.chance(750) {
            let sim = if rng.chance(500) { self.country.as_str() } else { self.origin };
            let (code, prefixes, digits) = mobile_plan(sim);
            let mut number = format!("+{code}{}", prefixes[rng.index(prefixes.len())]);
            for _ in 0..digits {
                number.push(char::from(b'0' + rng.below(10) as u8));
            }
            self.phone = Some(number);
        }
        if rng.chance(120) {
            const SPANISH: [&str; 6] = [
                "El grupo esperaba transporte; entrevista breve.",
                "Entrevista interrumpida un momento por lluvia.",
                "La persona se veía muy cansada; se indicó el punto de salud.",
                "Se entregó información sobre el punto de atención de la Cruz Roja.",
                "Había mucha gente en el punto; poco tiempo para la entrevista.",
                "La persona pidió información sobre regularización.",
            ];
            const PORTUGUESE: [&str; 3] = [
                "Grupo aguardando ônibus da Operação Acolhida.",
                "Pessoa pediu informação sobre documentação.",
                "Entrevista feita com apoio de intérprete.",
            ];
            const ENGLISH: [&str; 2] =
                ["Interview done with a Spanish interpreter.", "Respondent asked about shelter."];
            self.comments = Some(match self.country.as_str() {
                "BRA" => PORTUGUESE[rng.index(PORTUGUESE.len())],
                "TTO" | "GUY" => ENGLISH[rng.index(ENGLISH.len())],
                _ => SPANISH[rng.index(SPANISH.len())],
            });
        }
    }

    /// The submission as the device would send it, calculations included.
    fn to_json(&self) -> Value {
        let mut record = Map::new();
        record.insert("start".into(), json!(self.start));
        record.insert("end".into(), json!(self.end));
        record.insert("today".into(), json!(self.today.to_string()));
        record.insert("deviceid".into(), json!(self.device_id));
        record.insert(
            "intro".into(),
            json!({
                "country": self.country,
                "site": self.site,
                "direction": self.direction,
                "consent": yes_no(self.consent),
            }),
        );
        if self.consent {
            record.insert("respondent".into(), self.respondent_json());
            record.insert("travel_group".into(), self.group_json());
            record.insert("route".into(), self.route_json());
            record.insert("destination".into(), self.destination_json());
            let mut needs = Map::new();
            needs.insert("needs".into(), json!(self.needs));
            insert_some(&mut needs, "needs_other", self.needs_other);
            needs.insert("main_need".into(), json!(self.main_need));
            needs.insert("assistance".into(), json!(yes_no(self.assistance)));
            record.insert("humanitarian_needs".into(), Value::Object(needs));
            record.insert("vulnerabilities".into(), self.vulnerabilities_json());
            let mut contact = Map::new();
            contact.insert("recontact".into(), json!(yes_no(self.recontact)));
            insert_some(&mut contact, "phone", self.phone.as_deref());
            record.insert("contact".into(), Value::Object(contact));
            insert_some(&mut record, "comments", self.comments);
        }
        record.insert("meta".into(), json!({ "instanceID": self.instance_id }));
        Value::Object(record)
    }

    fn respondent_json(&self) -> Value {
        let mut respondent = Map::new();
        respondent.insert("sex".into(), json!(self.sex));
        respondent.insert("age".into(), json!(self.age));
        respondent.insert("age_group".into(), json!(age_group(self.age)));
        respondent.insert("nationality".into(), json!(self.nationality));
        insert_some(&mut respondent, "nationality_other", self.other_origin.map(|(nationality, _)| nationality));
        respondent.insert("documents".into(), json!(self.documents));
        respondent.insert("regular_status".into(), json!(self.regular_status));
        respondent.insert("education".into(), json!(self.education));
        respondent.insert("occupation".into(), json!(self.occupation));
        Value::Object(respondent)
    }

    fn group_json(&self) -> Value {
        let mut group = Map::new();
        group.insert("size".into(), json!(self.size()));
        insert_some(&mut group, "group_type", self.group_type);
        group.insert("member_count".into(), json!(self.members.len()));
        if !self.members.is_empty() {
            let members: Vec<Value> = self
                .members
                .iter()
                .map(|member| {
                    json!({
                        "m_sex": member.sex,
                        "m_age": member.age,
                        "m_relationship": member.relationship,
                        "m_child": u32::from(member.age < 18),
                        "m_under5": u32::from(member.age < 5),
                        "m_senior": u32::from(member.age >= 60),
                    })
                })
                .collect();
            group.insert("member".into(), Value::Array(members));
        }
        let under5 = self.members.iter().filter(|member| member.age < 5).count();
        let seniors = self.members.iter().filter(|member| member.age >= 60).count() + usize::from(self.age >= 60);
        group.insert("n_children".into(), json!(self.children()));
        group.insert("n_under5".into(), json!(under5));
        group.insert("n_seniors".into(), json!(seniors));
        group.insert("n_adults".into(), json!(self.size() - self.children()));
        Value::Object(group)
    }

    fn route_json(&self) -> Value {
        let mut route = Map::new();
        route.insert("country_origin".into(), json!(self.origin));
        insert_some(&mut route, "country_origin_other", self.other_origin.map(|(_, country)| country));
        route.insert("country_departure".into(), json!(self.departure));
        insert_some(&mut route, "country_departure_other", self.departure_other);
        route.insert("date_left".into(), json!(self.date_left.to_string()));
        route.insert("days_travelling".into(), json!((self.today - self.date_left).num_days()));
        route.insert("transited".into(), json!(yes_no(!self.transit.is_empty())));
        if !self.transit.is_empty() {
            route.insert("countries_transit".into(), json!(self.transit));
        }
        route.insert("transport_modes".into(), json!(self.transport_modes));
        insert_some(&mut route, "transport_modes_other", self.transport_other);
        route.insert("transport".into(), json!(self.transport));
        route.insert("incident".into(), json!(self.incident));
        if !self.incident_types.is_empty() {
            route.insert("incident_type".into(), json!(self.incident_types));
        }
        Value::Object(route)
    }

    fn destination_json(&self) -> Value {
        let mut destination = Map::new();
        destination.insert("reason_left".into(), json!(self.reason_left));
        insert_some(&mut destination, "reason_left_other", self.reason_left_other);
        destination.insert("pendular".into(), json!(yes_no(self.pendular)));
        destination.insert("intention".into(), json!(self.intention));
        destination.insert("population_group".into(), json!(self.population_group()));
        insert_some(&mut destination, "dest_country", self.dest_country);
        insert_some(&mut destination, "dest_country_other", self.dest_country_other);
        let final_destination = match self.intention {
            "stay" => self.country.as_str(),
            "continue" => self.dest_country.unwrap_or_default(),
            "return" => self.origin,
            _ => "",
        };
        destination.insert("final_destination".into(), json!(final_destination));
        insert_some(&mut destination, "reason_destination", self.reason_destination);
        insert_some(&mut destination, "reason_destination_other", self.reason_destination_other);
        insert_some(&mut destination, "return_intention", self.return_intention);
        Value::Object(destination)
    }

    /// DTM's population group, as the form computes it.
    fn population_group(&self) -> &'static str {
        match self.intention {
            _ if self.pendular => "pendular",
            "stay" => "in_destination",
            "continue" => "in_transit",
            "return" => "returnee",
            _ => "undecided",
        }
    }

    fn vulnerabilities_json(&self) -> Value {
        let mut vulnerabilities = Map::new();
        insert_some(&mut vulnerabilities, "pregnant_lactating", self.pregnant_lactating);
        vulnerabilities.insert("disability".into(), json!(self.disability));
        vulnerabilities.insert("chronic_illness".into(), json!(self.chronic_illness));
        vulnerabilities.insert("uasc_seen".into(), json!(self.uasc_seen));
        if let Some(count) = self.uasc_count {
            vulnerabilities.insert("uasc_count".into(), json!(count));
        }
        let [unpaid, held, documents, deceived] = self.trafficking;
        vulnerabilities.insert(
            "trafficking".into(),
            json!({
                "tr_unpaid_work": unpaid,
                "tr_held": held,
                "tr_documents_kept": documents,
                "tr_deceived": deceived,
                "trafficking_flag": u32::from(self.trafficking.contains(&"yes")),
            }),
        );
        insert_some(&mut vulnerabilities, "referral", self.referral.map(yes_no));
        Value::Object(vulnerabilities)
    }
}

/// A relative of a respondent of `sex` and `age`; the first one is often a partner.
fn family_member(rng: &mut Rng, sex: &'static str, age: u32, first: bool) -> Member {
    let other_sex = if sex == "male" { "female" } else { "male" };
    let any_sex = |rng: &mut Rng| if rng.chance(500) { "male" } else { "female" };
    if first && age >= 20 && rng.chance(700) {
        let partner_age = (age + rng.between(0, 12)).saturating_sub(6).max(18);
        let partner_sex = if rng.chance(960) { other_sex } else { sex };
        return Member { sex: partner_sex, age: partner_age, relationship: "partner" };
    }
    let roll = rng.below(100);
    if age >= 56 && roll < 45 {
        Member { sex: any_sex(rng), age: rng.between(0, 17), relationship: "grandchild" }
    } else if roll < 78 && age >= 18 {
        let oldest = (age - 15).min(17);
        Member { sex: any_sex(rng), age: rng.between(0, oldest), relationship: "child" }
    } else if roll < 86 && age <= 50 {
        Member { sex: any_sex(rng), age: age + rng.between(18, 30), relationship: "parent" }
    } else if roll < 95 {
        Member { sex: any_sex(rng), age: (age + rng.between(0, 20)).saturating_sub(10), relationship: "sibling" }
    } else {
        Member { sex: any_sex(rng), age: rng.between(1, 60), relationship: "other_relative" }
    }
}

/// The id a data-collection app reports for one of a point's phones.
pub(crate) fn device_id(site: &str, phone: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let hash = site
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    let mut rng = Rng::new(hash ^ phone);
    let id: String = (0..16).map(|_| char::from(ALPHABET[rng.index(ALPHABET.len())])).collect();
    format!("collect:{id}")
}

/// DTM's age bracket of someone `age` years old, as the forms code it.
pub(crate) fn age_group(age: u32) -> &'static str {
    match age {
        0..=4 => "0-4",
        5..=11 => "5-11",
        12..=17 => "12-17",
        18..=59 => "18-59",
        _ => "60+",
    }
}

fn yes_no(answer: bool) -> &'static str {
    if answer { "yes" } else { "no" }
}

fn insert_some(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rumbo_xlsform::{Validator, read_form};

    use super::*;

    fn round_start() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, 1).expect("a date")
    }

    fn validator() -> Validator {
        let form = match read_form(FLOW_MONITORING_XLSX, Some(FLOW_MONITORING_FILE_NAME)) {
            Ok(form) => form,
            Err(errors) => panic!("the survey does not load: {errors:?}"),
        };
        assert_eq!(form.id, FORM_ID);
        assert_eq!(form.settings.version.as_deref(), Some(FORM_VERSION));
        Validator::new(&form)
    }

    fn text<'v>(record: &'v Value, path: &[&str]) -> Option<&'v str> {
        path.iter().try_fold(record, |value, key| value.get(key))?.as_str()
    }

    #[test]
    fn every_generated_submission_passes_the_form() {
        let validator = validator();
        let records = generate(500, 20_261_127, &demo_sites(), round_start(), 45);
        assert_eq!(records.len(), 500);
        for (index, record) in records.iter().enumerate() {
            let checked = validator.validate_json(record).unwrap_or_else(|rejected| panic!("#{index}: {rejected}"));
            assert!(checked.is_valid(), "#{index}: {:#?}\n{record:#}", checked.errors);
            assert_eq!(checked.instance_id.as_deref(), text(record, &["meta", "instanceID"]));
            // The counts the generator sends are the ones the form computes.
            for key in ["n_children", "n_under5", "n_seniors", "n_adults", "member_count"] {
                let sent = record.get("travel_group").and_then(|group| group.get(key)).map(Value::to_string);
                let computed = checked.record.get("travel_group").and_then(|group| group.get(key));
                let computed = computed.map(|value| value.as_str().map_or_else(|| value.to_string(), str::to_owned));
                assert_eq!(sent, computed, "#{index}: {key}");
            }
            for (group, key) in
                [("respondent", "age_group"), ("destination", "population_group"), ("destination", "final_destination")]
            {
                // An empty calculation is stored as null.
                let sent = text(record, &[group, key]).filter(|value| !value.is_empty());
                assert_eq!(sent, text(&checked.record, &[group, key]), "#{index}: {key}");
            }
            if record.get("respondent").is_some() {
                let main_need = text(record, &["humanitarian_needs", "main_need"]).expect("a main need");
                assert!(
                    record["humanitarian_needs"]["needs"]
                        .as_array()
                        .is_some_and(|needs| needs.contains(&json!(main_need)))
                );
                let transport = text(record, &["route", "transport"]).expect("a main means of transport");
                assert!(
                    record["route"]["transport_modes"]
                        .as_array()
                        .is_some_and(|modes| modes.contains(&json!(transport)))
                );
                let age = record["respondent"]["age"].as_u64().expect("an age");
                assert!(age >= 18, "#{index}: {age}");
            }
        }
    }

    /// Shares in percent, out of a count.
    fn percent(part: usize, whole: usize) -> f64 {
        100.0 * part as f64 / whole.max(1) as f64
    }

    fn selected(record: &Value, path: &[&str], value: &str) -> bool {
        path.iter()
            .try_fold(record, |value, key| value.get(key))
            .and_then(Value::as_array)
            .is_some_and(|values| values.iter().any(|candidate| candidate == value))
    }

    #[test]
    fn the_structure_tells_the_story() {
        let records = generate(20_000, 11, &demo_sites(), round_start(), 60);
        let interviews: Vec<&Value> = records.iter().filter(|record| record.get("respondent").is_some()).collect();
        let group = |name: &str| -> Vec<&Value> {
            interviews.iter().copied().filter(|r| text(r, &["destination", "population_group"]) == Some(name)).collect()
        };
        let share = |records: &[&Value], test: &dyn Fn(&Value) -> bool| {
            percent(records.iter().filter(|record| test(record)).count(), records.len())
        };
        let (transit, staying, returning) = (group("in_transit"), group("in_destination"), group("returnee"));
        assert!(transit.len() > 2000 && staying.len() > 2000 && returning.len() > 300);
        assert!(group("pendular").len() > 100 && group("undecided").len() > 100);

        // In transit: men of working age on their own; staying: women and families.
        let lone_man = |r: &Value| {
            text(r, &["respondent", "sex"]) == Some("male")
                && text(r, &["respondent", "age_group"]) == Some("18-59")
                && r["travel_group"]["size"] == 1
        };
        let (lone_transit, lone_staying) = (share(&transit, &lone_man), share(&staying, &lone_man));
        assert!(lone_transit > 35.0 && lone_transit > 2.5 * lone_staying, "{lone_transit:.1}% vs {lone_staying:.1}%");
        let woman = |r: &Value| text(r, &["respondent", "sex"]) == Some("female");
        assert!(share(&staying, &woman) > share(&transit, &woman) + 15.0);
        let children = |r: &Value| r["travel_group"]["n_children"].as_u64().is_some_and(|n| n > 0);
        assert!(share(&staying, &children) > share(&transit, &children) + 10.0);

        let older = share(&interviews, &|r| text(r, &["respondent", "age_group"]) == Some("60+"));
        assert!((1.5..=8.0).contains(&older), "{older:.1}% over 60");

        // The caminantes' route: on foot or hitch-hiking, short of food, water and shelter.
        let andean = |r: &Value| {
            matches!(text(r, &["intro", "country"]), Some("ECU" | "PER"))
                && text(r, &["destination", "pendular"]) == Some("no")
        };
        let elsewhere = |r: &Value| {
            !matches!(text(r, &["intro", "country"]), Some("ECU" | "PER" | "COL" | "VEN" | "PAN" | "CRI" | "MEX"))
        };
        let (on_route, off_route): (Vec<&Value>, Vec<&Value>) = (
            interviews.iter().copied().filter(|r| andean(r)).collect(),
            interviews.iter().copied().filter(|r| elsewhere(r)).collect(),
        );
        let on_foot = |r: &Value| matches!(text(r, &["route", "transport"]), Some("walking" | "hitchhiking"));
        let (foot_on, foot_off) = (share(&on_route, &on_foot), share(&off_route, &on_foot));
        assert!(foot_on > 2.0 * foot_off, "{foot_on:.1}% vs {foot_off:.1}% on foot");
        let basic = |r: &Value| {
            ["food", "water", "shelter"].iter().any(|need| selected(r, &["humanitarian_needs", "needs"], need))
        };
        let moving_on: Vec<&Value> =
            on_route.iter().copied().filter(|r| text(r, &["destination", "intention"]) == Some("continue")).collect();
        assert!(share(&moving_on, &basic) > share(&staying, &basic) + 10.0);
        let settling = |r: &Value| {
            ["documentation", "employment"].iter().any(|need| selected(r, &["humanitarian_needs", "needs"], need))
        };
        assert!(share(&staying, &settling) > share(&transit, &settling) + 20.0);
        let main_settling =
            |r: &Value| matches!(text(r, &["humanitarian_needs", "main_need"]), Some("documentation" | "employment"));
        assert!(share(&staying, &main_settling) > 2.0 * share(&transit, &main_settling));

        // Incidents: more among those who walk (off the Darién route).
        let off_darien: Vec<&Value> = interviews
            .iter()
            .copied()
            .filter(|r| !matches!(text(r, &["intro", "country"]), Some("PAN" | "CRI" | "MEX")))
            .filter(|r| !selected(r, &["route", "countries_transit"], "PAN"))
            .collect();
        let walkers: Vec<&Value> =
            off_darien.iter().copied().filter(|r| text(r, &["route", "transport"]) == Some("walking")).collect();
        let riders: Vec<&Value> =
            off_darien.iter().copied().filter(|r| text(r, &["route", "transport"]) == Some("bus")).collect();
        let incident = |r: &Value| text(r, &["route", "incident"]) == Some("yes");
        assert!(share(&walkers, &incident) > 2.0 * share(&riders, &incident));

        // Meaning to go home one day: most of those returning, some of those staying.
        let will_return = |r: &Value| text(r, &["destination", "return_intention"]) == Some("yes");
        fn abroad<'r>(records: &[&'r Value]) -> Vec<&'r Value> {
            records.iter().copied().filter(|r| r["destination"].get("return_intention").is_some()).collect()
        }
        let (back, stay) = (share(&abroad(&returning), &will_return), share(&abroad(&staying), &will_return));
        assert!(back > 60.0 && (10.0..40.0).contains(&stay), "{back:.1}% vs {stay:.1}%");
        let irregular = |r: &Value| text(r, &["respondent", "regular_status"]) == Some("irregular");
        assert!(share(&transit, &irregular) > share(&staying, &irregular) + 20.0);

        let nationality = |code: &'static str| move |r: &Value| text(r, &["respondent", "nationality"]) == Some(code);
        assert!(share(&interviews, &nationality("VEN")) > 70.0);
        for code in ["COL", "HTI", "ECU", "CUB"] {
            assert!((0.5..10.0).contains(&share(&interviews, &nationality(code))), "{code}");
        }
    }

    #[test]
    fn the_form_still_refuses_what_it_should() {
        let validator = validator();
        let records = generate(20, 3, &demo_sites(), round_start(), 5);
        let mut record = records.into_iter().find(|record| record.get("respondent").is_some()).expect("an interview");
        record["respondent"]["age"] = json!(15);
        record["intro"]["site"] =
            json!(if text(&record, &["intro", "country"]) == Some("COL") { "PER-FMP-001" } else { "COL-FMP-001" });
        record["travel_group"]["size"] = json!(40);
        let checked = validator.validate_json(&record).expect("a readable submission");
        let fields: HashSet<&str> = checked.errors.iter().map(|error| error.field.as_str()).collect();
        for field in ["age", "site", "size", "member"] {
            assert!(fields.contains(field), "{field} not refused: {:#?}", checked.errors);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_submissions_and_another_seed_others() {
        let sites = demo_sites();
        let first = generate(50, 7, &sites, round_start(), 30);
        assert_eq!(first, generate(50, 7, &sites, round_start(), 30));
        let other = generate(50, 8, &sites, round_start(), 30);
        assert_ne!(first, other);
        assert!(first.iter().zip(&other).all(|(a, b)| a != b));
    }

    #[test]
    fn submissions_are_at_the_given_sites_and_days_with_plausible_shares() {
        let sites: Vec<(String, String)> =
            demo_sites().into_iter().filter(|(_, country)| matches!(country.as_str(), "COL" | "PER")).collect();
        let records = generate(1000, 42, &sites, round_start(), 10);
        let last_day = round_start() + Days::new(9);
        let mut ids = HashSet::new();
        let (mut declined, mut venezuelans, mut alone, mut with_children) = (0, 0, 0, 0);
        for record in &records {
            let site = text(record, &["intro", "site"]).expect("a site");
            let country = text(record, &["intro", "country"]).expect("a country");
            assert!(sites.iter().any(|(code, alpha3)| code == site && alpha3 == country), "{site} {country}");
            let today: NaiveDate = text(record, &["today"]).and_then(|day| day.parse().ok()).expect("a day");
            assert!(today >= round_start() && today <= last_day, "{today}");
            assert!(text(record, &["start"]).is_some_and(|start| start.starts_with(&today.to_string())));
            let id = text(record, &["meta", "instanceID"]).expect("an instanceID");
            assert!(id.len() == 41 && id.starts_with("uuid:") && id.as_bytes()[19] == b'4', "{id}");
            assert!(ids.insert(id.to_owned()), "{id} twice");
            if text(record, &["intro", "consent"]) == Some("no") {
                declined += 1;
                assert!(record.get("respondent").is_none());
                continue;
            }
            venezuelans += usize::from(text(record, &["respondent", "nationality"]) == Some("VEN"));
            let group = &record["travel_group"];
            alone += usize::from(group["size"] == 1);
            with_children += usize::from(group["n_children"].as_u64().is_some_and(|n| n > 0));
        }
        assert!((10..=60).contains(&declined), "{declined} declined");
        let interviewed = records.len() - declined;
        assert!(venezuelans * 100 > interviewed * 75, "{venezuelans} Venezuelans of {interviewed}");
        assert!(alone * 100 > interviewed * 30 && alone * 100 < interviewed * 55, "{alone} alone");
        assert!(with_children * 100 > interviewed * 20, "{with_children} groups with children");
    }

    #[test]
    #[ignore = "prints a sample and the shares, for reading"]
    fn print_a_sample() {
        let records = generate(2000, 1, &demo_sites(), round_start(), 60);
        println!("{:#}", records[0]);
        println!("{:#}", records[1]);
        let mut shares = std::collections::BTreeMap::<String, usize>::new();
        for record in &records {
            for (label, path) in [
                ("consent", &["intro", "consent"][..]),
                ("nationality", &["respondent", "nationality"]),
                ("intention", &["destination", "intention"]),
                ("dest", &["destination", "dest_country"]),
                ("incident", &["route", "incident"]),
                ("uasc", &["vulnerabilities", "uasc_seen"]),
                ("age_group", &["respondent", "age_group"]),
                ("regular_status", &["respondent", "regular_status"]),
                ("population_group", &["destination", "population_group"]),
                ("return_intention", &["destination", "return_intention"]),
                ("transport", &["route", "transport"]),
                ("main_need", &["humanitarian_needs", "main_need"]),
            ] {
                *shares.entry(format!("{label}={}", text(record, path).unwrap_or("-"))).or_default() += 1;
            }
            let size = record.get("travel_group").and_then(|group| group.get("size")).map(Value::to_string);
            *shares.entry(format!("size={}", size.unwrap_or_default())).or_default() += 1;
        }
        println!("{shares:#?}");
    }

    #[test]
    fn no_sites_give_no_submissions() {
        assert!(generate(10, 1, &[], round_start(), 10).is_empty());
        assert_eq!(generate(3, 1, &demo_sites()[..1], round_start(), 0).len(), 3);
    }

    #[test]
    fn the_form_offers_every_demo_site_under_its_country() {
        let form = read_form(FLOW_MONITORING_XLSX, Some(FLOW_MONITORING_FILE_NAME)).expect("the survey loads");
        let list = form.choices.iter().find(|list| list.name == "sites").expect("a `sites` list");
        let offered: Vec<(String, String)> = list
            .choices
            .iter()
            .map(|choice| {
                let country = choice.extra.iter().find(|(column, _)| column == "country").map(|(_, value)| value);
                (choice.name.clone(), country.cloned().unwrap_or_default())
            })
            .collect();
        assert_eq!(offered, demo_sites());
        assert_eq!(demo_sites().len(), FLOW_MONITORING_POINTS.len());
    }

    #[test]
    fn protection_questions_are_sensitive() {
        let validator = validator();
        let sensitive = validator.sensitive_paths();
        for path in [
            "/data/contact/phone",
            "/data/route/incident",
            "/data/respondent/regular_status",
            "/data/vulnerabilities/pregnant_lactating",
            "/data/vulnerabilities/uasc_seen",
            "/data/vulnerabilities/trafficking/tr_held",
            "/data/vulnerabilities/trafficking/trafficking_flag",
        ] {
            assert!(sensitive.iter().any(|candidate| candidate == path), "{path} in {sensitive:?}");
        }
        assert!(!sensitive.iter().any(|path| path == "/data/respondent/age"));
    }
}
