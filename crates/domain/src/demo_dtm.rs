//! Realistic, reproducible records for the demo's two other DTM forms: the Flow
//! Monitoring Registry (`data/forms/dtm-fmr.xlsx`, form `rumbo_fmr`), where an
//! enumerator counts everyone who crosses a flow-monitoring point during a shift,
//! by nationality, sex and age; and the mobility-tracking baseline
//! (`data/forms/dtm-baseline.xlsx`, form `rumbo_baseline`), where key informants
//! estimate how many refugees and migrants from Venezuela live in each admin-1 area.
//!
//! The same seed always gives the same records. The registry's counts follow the
//! points: more people at the busy border crossings, directions that differ by point
//! (Tumbes and Pacaraima mostly entries, Huaquillas and Colombia's Rumichaca mostly
//! exits, the Darién stations transits), more men of 18–59 where people are on the
//! move, about a quarter children, and a seasonal peak in December–January and July.
//! The baseline's populations are those of the response's main hosting areas
//! (Bogotá, Norte de Santander, Antioquia, Lima, Santiago, Pichincha, Roraima, São
//! Paulo...), growing slowly from round to round. Each record is a JSON object of the
//! shape [`rumbo_xlsform::Validator::validate_json`] reads, and passes it without
//! errors.

use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate};
use rumbo_store::model::SiteKind;
use serde_json::{Map, Value, json};

use crate::boundaries::{BoundaryOptions, read_boundaries};
use crate::demo::ADMIN1_GEOJSON;
use crate::demo_submissions::{Rng, demo_point, island, on_northern_route, site_weight};

/// The demo Flow Monitoring Registry as an XLSForm (Spanish, Portuguese, English).
pub const FMR_XLSX: &[u8] = include_bytes!("../../../data/forms/dtm-fmr.xlsx");
/// The file name the registry is read under.
pub const FMR_FILE_NAME: &str = "dtm-fmr.xlsx";
/// `form_id` of the registry.
pub const FMR_FORM_ID: &str = "rumbo_fmr";
/// `version` of the registry the records answer.
pub const FMR_FORM_VERSION: &str = "2026112801";

/// The demo mobility-tracking baseline as an XLSForm (Spanish, Portuguese, English).
pub const BASELINE_XLSX: &[u8] = include_bytes!("../../../data/forms/dtm-baseline.xlsx");
/// The file name the baseline is read under.
pub const BASELINE_FILE_NAME: &str = "dtm-baseline.xlsx";
/// `form_id` of the baseline.
pub const BASELINE_FORM_ID: &str = "rumbo_baseline";
/// `version` of the baseline the records answer.
pub const BASELINE_FORM_VERSION: &str = "2026112801";

/// The registry's sex-and-age brackets: (field, sex, age group), with the survey's
/// codes for sex and age group (`female`/`male`, `0-4` … `60+`), so that both
/// forms can be read together.
pub const FMR_BRACKETS: [(&str, &str, &str); 10] = [
    ("f_0_4", "female", "0-4"),
    ("f_5_11", "female", "5-11"),
    ("f_12_17", "female", "12-17"),
    ("f_18_59", "female", "18-59"),
    ("f_60", "female", "60+"),
    ("m_0_4", "male", "0-4"),
    ("m_5_11", "male", "5-11"),
    ("m_12_17", "male", "12-17"),
    ("m_18_59", "male", "18-59"),
    ("m_60", "male", "60+"),
];

/// `count` registry records (one observation shift at one point in one direction
/// each) at the given `sites` (site code, country alpha-3), observed on one of the
/// `days` days from `start` and sent that day or the next. The same arguments always
/// give the same records; no sites give none.
pub fn generate_fmr(count: usize, seed: u64, sites: &[(String, String)], start: NaiveDate, days: u32) -> Vec<Value> {
    fmr_records(seed, sites, start, days).take(count).collect()
}

/// The records of [`generate_fmr`] one at a time, without end (none without sites):
/// `generate_fmr(count, ..)` is the first `count` of them.
pub fn fmr_records(
    seed: u64,
    sites: &[(String, String)],
    start: NaiveDate,
    days: u32,
) -> impl Iterator<Item = Value> + use<> {
    let mut rng = Rng::new(seed ^ 0x464D_5200_0000_0000);
    let points: Vec<Point> = sites.iter().map(|(code, country)| Point::new(code, country)).collect();
    let weights: Vec<(usize, u32)> =
        points.iter().enumerate().map(|(index, point)| (index, site_weight(&point.country) * point.busy)).collect();
    std::iter::from_fn(move || {
        if points.is_empty() {
            return None;
        }
        let point = &points[rng.pick(&weights)];
        let day = start.checked_add_days(Days::new(rng.below(u64::from(days.max(1))))).unwrap_or(start);
        Some(point.shift(&mut rng, day))
    })
}

/// A flow-monitoring point, with what shapes its counts.
struct Point {
    code: String,
    country: String,
    name: &'static str,
    kind: Option<SiteKind>,
    /// Relative traffic (1 quiet … 10 very busy).
    busy: u32,
    /// People an hour on an ordinary day.
    per_hour: f64,
}

impl Point {
    fn new(code: &str, country: &str) -> Point {
        let (name, kind) = demo_point(code).map_or(("", None), |(_, name, kind)| (name, Some(kind)));
        let busy = match kind {
            Some(SiteKind::BorderCrossing) => match country {
                "COL" | "VEN" => 8,
                "ECU" | "PER" | "BRA" | "CHL" => 6,
                "PAN" | "CRI" | "MEX" => 4,
                _ => 2,
            },
            Some(SiteKind::BusTerminal) => 5,
            Some(SiteKind::ReceptionCentre | SiteKind::SupportSpace) => {
                if on_northern_route(country) {
                    4
                } else {
                    3
                }
            }
            Some(SiteKind::Airport) => 3,
            Some(SiteKind::Shelter) => 1,
            _ => 2,
        };
        // Each point its own pace, the same every time.
        let jitter = 0.6 + 0.8 * (fnv(code) % 1000) as f64 / 1000.0;
        Point {
            code: code.to_owned(),
            country: country.to_owned(),
            name,
            kind,
            busy,
            per_hour: f64::from(busy) * 5.0 * jitter,
        }
    }

    fn is(&self, place: &str) -> bool {
        self.name.contains(place)
    }

    /// The shares of entries, exits and transits counted here.
    fn directions(&self) -> [(&'static str, u32); 3] {
        let shares = |entry, exit, transit| [("entry", entry), ("exit", exit), ("transit", transit)];
        let border = self.kind.is_none_or(|kind| kind == SiteKind::BorderCrossing);
        match self.country.as_str() {
            _ if self.kind == Some(SiteKind::Airport) => shares(50, 50, 0),
            "COL" if self.is("Rumichaca") => shares(25, 65, 10),
            "ECU" if self.is("Rumichaca") => shares(70, 20, 10),
            _ if self.is("Huaquillas") => shares(25, 65, 10),
            _ if self.is("Tumbes") => shares(70, 20, 10),
            _ if self.is("Tacna") => shares(30, 60, 10),
            _ if self.is("Colchane") || self.is("Chacalluta") => shares(75, 20, 5),
            _ if self.is("Pacaraima") => shares(80, 15, 5),
            "PAN" if self.is("Paso Canoas") => shares(20, 70, 10),
            "CRI" if self.is("Paso Canoas") => shares(70, 20, 10),
            _ if self.is("Peñas Blancas") => shares(20, 70, 10),
            "PAN" => shares(30, 0, 70),
            "MEX" => shares(30, 20, 50),
            "VEN" if border => shares(25, 70, 5),
            "COL" if border => shares(55, 35, 10),
            _ if border => shares(50, 35, 15),
            _ => shares(20, 20, 60),
        }
    }

    /// The main means of transport of a shift's flows.
    fn transport(&self, rng: &mut Rng) -> &'static str {
        let country = self.country.as_str();
        let andean = matches!(country, "ECU" | "PER" | "BOL") || self.is("Rumichaca") || self.is("Colchane");
        match self.kind {
            Some(SiteKind::Airport) => "plane",
            _ if island(country) => rng.pick(&[("boat", 60), ("plane", 40)]),
            Some(SiteKind::BusTerminal) => rng.pick(&[("bus", 90), ("car", 5), ("walking", 5)]),
            Some(SiteKind::ReceptionCentre | SiteKind::SupportSpace) if country == "PAN" => {
                rng.pick(&[("walking", 60), ("boat", 25), ("bus", 15)])
            }
            _ if self.is("Necoclí") => "boat",
            _ if on_northern_route(country) => rng.pick(&[
                ("bus", 50),
                ("walking", 35),
                ("hitchhiking", 10),
                ("train", if country == "MEX" { 5 } else { 0 }),
            ]),
            _ if andean => rng.pick(&[("bus", 40), ("walking", 35), ("hitchhiking", 15), ("car", 10)]),
            _ if matches!(country, "COL" | "VEN") => {
                rng.pick(&[("walking", 60), ("motorcycle", 15), ("bus", 15), ("car", 10)])
            }
            _ if country == "BRA" => rng.pick(&[("bus", 60), ("walking", 30), ("car", 10)]),
            _ => rng.pick(&[("bus", 55), ("car", 20), ("walking", 20), ("hitchhiking", 5)]),
        }
    }

    /// The nationalities seen here, most frequent first.
    fn nationalities(&self) -> &'static [(&'static str, u32)] {
        match self.country.as_str() {
            "VEN" => &[("VEN", 92), ("COL", 8)],
            country if on_northern_route(country) => {
                &[("VEN", 55), ("HTI", 12), ("ECU", 12), ("COL", 8), ("CUB", 6), ("other", 7)]
            }
            _ => &[("VEN", 82), ("COL", 7), ("HTI", 3), ("ECU", 3), ("CUB", 2), ("PER", 2), ("other", 1)],
        }
    }

    /// One observation shift on `day`.
    fn shift(&self, rng: &mut Rng, day: NaiveDate) -> Value {
        let instance_id = format!("uuid:{}", rng.uuid());
        let sent = if rng.chance(800) { day } else { day.checked_add_days(Days::new(1)).unwrap_or(day) };
        let hours: f64 = rng.pick(&[
            (4.0, 10),
            (5.0, 10),
            (6.0, 25),
            (6.5, 5),
            (7.0, 10),
            (7.5, 5),
            (8.0, 25),
            (10.0, 5),
            (12.0, 5),
        ]);
        let direction = rng.pick(&self.directions());
        let transport = self.transport(rng);
        let noise = 0.7 + 0.6 * rng.unit();
        let share = self.directions().iter().find(|(name, _)| *name == direction).map_or(0, |(_, share)| *share);
        // Every direction counted separately: its own share of the point's traffic.
        let expected = self.per_hour * hours * season(day) * noise * f64::from(share.max(10)) / 50.0;
        let people = (expected.round() as u32).max(1);

        let on_the_move = direction == "transit"
            || on_northern_route(&self.country)
            || matches!(transport, "walking" | "hitchhiking");
        let profile = Profile::new(self.kind, on_the_move);
        let groups = split_by_nationality(rng, people, self.nationalities());
        let mut entries = Vec::with_capacity(groups.len());
        let mut total = 0;
        for (nationality, people) in groups {
            let counts = profile.counts(rng, people);
            let group_total: u32 = counts.iter().sum();
            total += group_total;
            let mut entry = Map::new();
            entry.insert("nationality".into(), json!(nationality));
            for ((field, ..), count) in FMR_BRACKETS.iter().zip(counts) {
                entry.insert((*field).into(), json!(count));
            }
            entry.insert("group_total".into(), json!(group_total));
            entries.push(Value::Object(entry));
        }
        json!({
            "today": sent.to_string(),
            "country": self.country,
            "site": self.code,
            "date": day.to_string(),
            "observed_hours": hours,
            "direction": direction,
            "transport": transport,
            "nationality_group": entries,
            "total": total,
            "meta": { "instanceID": instance_id },
        })
    }
}

/// How many more (or fewer) people cross in `day`'s month than in an ordinary one:
/// the end-of-year holidays and the July school holidays are the peaks.
fn season(day: NaiveDate) -> f64 {
    match day.month() {
        12 => 1.45,
        1 => 1.35,
        7 => 1.3,
        6 | 8 => 1.1,
        11 => 1.05,
        2 => 0.95,
        _ => 0.9,
    }
}

/// Splits `people` into one to four nationalities, the first most numerous.
fn split_by_nationality(rng: &mut Rng, people: u32, table: &[(&'static str, u32)]) -> Vec<(&'static str, u32)> {
    let wanted = match people {
        0..=5 => rng.between(1, 2),
        6..=40 => rng.between(1, 3),
        _ => rng.between(2, 4),
    } as usize;
    let mut left: Vec<(&'static str, u32)> = table.to_vec();
    let mut groups = Vec::new();
    let mut remaining = people;
    while groups.len() < wanted && remaining > 0 && !left.is_empty() {
        // Mostly the point's main nationality first.
        let nationality = if groups.is_empty() && rng.chance(850) { left[0].0 } else { rng.pick(&left) };
        left.retain(|(name, _)| *name != nationality);
        let last = groups.len() + 1 == wanted || left.is_empty();
        let count = if last {
            remaining
        } else {
            // The first group most of the people, each next one a part of what is left.
            let part = if groups.is_empty() { rng.between(70, 95) } else { rng.between(40, 80) };
            (remaining * part / 100).clamp(1, remaining)
        };
        groups.push((nationality, count));
        remaining -= count;
    }
    if let Some(first) = groups.first_mut() {
        first.1 += remaining;
    }
    groups
}

/// The expected shares of the ten brackets, in [`FMR_BRACKETS`] order.
struct Profile([f64; 10]);

impl Profile {
    fn new(kind: Option<SiteKind>, on_the_move: bool) -> Profile {
        let children = match kind {
            Some(SiteKind::Airport) => 0.18,
            _ if on_the_move => 0.24,
            _ => 0.27,
        };
        let seniors = if on_the_move { 0.025 } else { 0.045 };
        let adults = 1.0 - children - seniors;
        // Men are most of the working-age adults where people are moving on.
        let men = if on_the_move { 0.66 } else { 0.56 };
        let (under5, under12) = (children * 0.36, children * 0.38);
        let teens = children - under5 - under12;
        let girls = 0.49;
        Profile([
            under5 * girls,
            under12 * girls,
            teens * girls,
            adults * (1.0 - men),
            seniors * 0.55,
            under5 * (1.0 - girls),
            under12 * (1.0 - girls),
            teens * (1.0 - girls),
            adults * men,
            seniors * 0.45,
        ])
    }

    /// `people` spread over the brackets, give or take: shift counts are estimates.
    fn counts(&self, rng: &mut Rng, people: u32) -> [u32; 10] {
        let mut counts = [0; 10];
        for (count, share) in counts.iter_mut().zip(self.0) {
            let expected = f64::from(people) * share * (0.8 + 0.4 * rng.unit());
            // Whole people: round up as often as the fraction says.
            let whole = expected.floor();
            *count = whole as u32 + u32::from(rng.unit() < expected - whole);
        }
        if counts.iter().all(|count| *count == 0) {
            counts[8] = people.max(1);
        }
        counts
    }
}

// ------------------------------------------------------------------ baseline

/// The admin-1 areas of the demo as (country alpha-3, p-code), in the order of the
/// boundary file: the p-codes `demo::seed` stores, read the same way.
pub fn adm1_pcodes() -> Vec<(String, String)> {
    static AREAS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    AREAS
        .get_or_init(|| {
            let options = BoundaryOptions { level: Some(1), dissolve: true, ..Default::default() };
            read_boundaries(ADMIN1_GEOJSON, &options)
                .map(|areas| areas.into_iter().map(|area| (area.country_code, area.pcode)).collect())
                .unwrap_or_default()
        })
        .clone()
}

/// A country, how many refugees and migrants it hosts, and its main hosting areas.
type Hosting = (&'static str, u32, &'static [(&'static str, u32)]);

/// Refugees and migrants from Venezuela in each country at the start of 2025
/// (rounded, after the R4V platform's figures), and the share of its main hosting
/// areas in per mille; the other areas share what is left.
const HOSTING: &[Hosting] = &[
    (
        "COL",
        2_810_000,
        &[
            ("CO-DC", 210),
            ("CO-NSA", 120),
            ("CO-ANT", 110),
            ("CO-ATL", 90),
            ("CO-LAG", 60),
            ("CO-VAC", 60),
            ("CO-CUN", 60),
            ("CO-BOL", 50),
            ("CO-SAN", 50),
            ("CO-MAG", 30),
            ("CO-CES", 30),
            ("CO-ARA", 25),
            ("CO-NAR", 15),
        ],
    ),
    (
        "PER",
        1_660_000,
        &[
            ("PE-LMA", 580),
            ("PE-CAL", 60),
            ("PE-LIM", 50),
            ("PE-LAL", 60),
            ("PE-ARE", 40),
            ("PE-PIU", 40),
            ("PE-ICA", 30),
            ("PE-LAM", 30),
            ("PE-TUM", 25),
            ("PE-CUS", 15),
            ("PE-TAC", 15),
            ("PE-JUN", 15),
        ],
    ),
    (
        "BRA",
        626_000,
        &[
            ("BR-SP", 200),
            ("BR-RR", 150),
            ("BR-AM", 120),
            ("BR-PR", 100),
            ("BR-SC", 100),
            ("BR-RS", 90),
            ("BR-MG", 40),
            ("BR-RJ", 30),
            ("BR-DF", 30),
            ("BR-MS", 30),
            ("BR-PA", 25),
            ("BR-MT", 20),
            ("BR-GO", 20),
        ],
    ),
    (
        "CHL",
        532_000,
        &[
            ("CL-RM", 620),
            ("CL-AN", 70),
            ("CL-VS", 60),
            ("CL-TA", 50),
            ("CL-AP", 40),
            ("CL-CO", 30),
            ("CL-BI", 30),
            ("CL-LI", 20),
            ("CL-ML", 20),
        ],
    ),
    (
        "ECU",
        440_000,
        &[
            ("EC-P", 380),
            ("EC-G", 250),
            ("EC-M", 60),
            ("EC-O", 50),
            ("EC-A", 30),
            ("EC-C", 30),
            ("EC-I", 30),
            ("EC-SD", 30),
            ("EC-T", 20),
        ],
    ),
    ("ARG", 165_000, &[("AR-C", 450), ("AR-B", 250), ("AR-X", 60), ("AR-S", 50), ("AR-M", 40)]),
    ("PAN", 147_000, &[("PA-8", 750), ("PA-3", 60), ("PA-4", 60), ("PA-5", 30)]),
    ("DOM", 124_000, &[("DO-01", 350), ("DO-32", 300), ("DO-25", 90), ("DO-11", 60), ("DO-18", 40)]),
    ("MEX", 102_000, &[("MX-CMX", 300), ("MX-MEX", 120), ("MX-NLE", 80), ("MX-JAL", 70), ("MX-CHP", 70)]),
    ("URY", 33_000, &[("UY-MO", 700), ("UY-CA", 120), ("UY-MA", 40)]),
    ("CRI", 30_000, &[("CR-SJ", 550), ("CR-A", 150), ("CR-H", 130)]),
    ("TTO", 29_000, &[("TT-POS", 150), ("TT-SJL", 130), ("TT-CHA", 120), ("TT-SFO", 110), ("TT-SIP", 90)]),
    ("GUY", 22_000, &[("GY-BA", 300), ("GY-DE", 250), ("GY-CU", 150), ("GY-ES", 100)]),
    ("ABW", 17_000, &[]),
    ("BOL", 16_000, &[("BO-L", 350), ("BO-S", 300), ("BO-C", 150)]),
    ("CUW", 14_000, &[]),
    ("PRY", 6_000, &[("PY-ASU", 350), ("PY-11", 300), ("PY-10", 150)]),
];

/// Areas where people arrive across the border: shelter and food come first there.
const BORDER_AREAS: [&str; 12] =
    ["CO-NSA", "CO-LAG", "CO-ARA", "CO-NAR", "EC-C", "EC-O", "PE-TUM", "PE-TAC", "BR-RR", "CL-TA", "CL-AP", "PA-5"];

/// How much the population grows from one round to the next.
const GROWTH_PER_ROUND: f64 = 0.015;

/// Baseline records for the round `round_index` (0 for the first of
/// [`crate::demo::DEMO_ROUNDS`]) that starts on `start`: one for each admin-1 area of
/// every demo country but Venezuela, `today` within the round's first 40 days (every
/// demo round is longer). The estimates grow by about 1.5% a round, each area with
/// its own ups and downs, and `trend` says how it compares with the round before.
pub fn generate_baseline(seed: u64, round_index: usize, start: NaiveDate) -> Vec<Value> {
    let mut rng = Rng::new(seed ^ 0x4241_5345_0000_0000 ^ (round_index as u64).wrapping_mul(0x9E37_79B9));
    let areas = adm1_pcodes();
    let mut records = Vec::new();
    for (country, total, main_areas) in HOSTING {
        let in_country: Vec<&str> =
            areas.iter().filter(|(code, _)| code == country).map(|(_, pcode)| pcode.as_str()).collect();
        let listed: u32 = main_areas.iter().map(|(_, share)| share).sum();
        let others = in_country.iter().filter(|pcode| !main_areas.iter().any(|(code, _)| code == *pcode)).count();
        for pcode in in_country {
            let share = match main_areas.iter().find(|(code, _)| *code == pcode) {
                Some((_, share)) => f64::from(*share) / 1000.0,
                // The rest spread unevenly over the other areas.
                None => f64::from(1000 - listed) / 1000.0 / others as f64 * (0.4 + 1.2 * unit(fnv(pcode) ^ seed)),
            };
            let base = f64::from(*total) * share;
            let population = estimate(seed, pcode, base, round_index as i64);
            let before = estimate(seed, pcode, base, round_index as i64 - 1);
            records.push(baseline_record(&mut rng, country, pcode, start, population, before));
        }
    }
    records
}

/// The informants' estimate for an area in round `round` (−1 for the one before the
/// first): the area's base, grown by the rounds, with a noise of its own.
fn estimate(seed: u64, pcode: &str, base: f64, round: i64) -> u32 {
    let noise = 0.96 + 0.08 * unit(fnv(pcode) ^ seed ^ (round as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    (base * (1.0 + GROWTH_PER_ROUND * round as f64) * noise).round().max(0.0) as u32
}

fn baseline_record(rng: &mut Rng, country: &str, pcode: &str, start: NaiveDate, population: u32, before: u32) -> Value {
    let instance_id = format!("uuid:{}", rng.uuid());
    let today = start.checked_add_days(Days::new(rng.below(41))).unwrap_or(start);
    let households = f64::from(population) / (3.0 + 1.2 * rng.unit());
    let informants = 2 + (f64::from(population) + 1.0).log10().round() as u32 + rng.between(0, 3);
    let trend = if rng.chance(60) {
        "dont_know"
    } else if f64::from(population) > f64::from(before) * 1.02 {
        "increase"
    } else if f64::from(population) < f64::from(before) * 0.98 {
        "decrease"
    } else {
        "stable"
    };
    let main_need = if BORDER_AREAS.contains(&pcode) {
        rng.pick(&[("food", 30), ("shelter", 30), ("health", 15), ("documentation", 15), ("employment", 10)])
    } else {
        rng.pick(&[
            ("employment", 35),
            ("documentation", 25),
            ("food", 12),
            ("health", 10),
            ("shelter", 10),
            ("legal", 4),
            ("cash", 4),
        ])
    };
    json!({
        "today": today.to_string(),
        "country": country,
        "adm1": pcode,
        "informants": informants,
        "population": population,
        "households": (households.round() as u32).min(population),
        "trend": trend,
        "main_need": main_need,
        "meta": { "instanceID": instance_id },
    })
}

/// FNV-1a of a text: a seed of its own for each point or area.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// A number in `0.0..1.0` that depends only on `seed`.
fn unit(seed: u64) -> f64 {
    Rng::new(seed).unit()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap, HashSet};

    use rumbo_xlsform::{Validator, read_form};

    use super::*;
    use crate::demo::DEMO_ROUNDS;
    use crate::demo_submissions::demo_sites;

    fn validator(bytes: &[u8], file_name: &str, id: &str, version: &str) -> Validator {
        let form = match read_form(bytes, Some(file_name)) {
            Ok(form) => form,
            Err(errors) => panic!("{file_name} does not load: {errors:?}"),
        };
        assert_eq!(form.id, id);
        assert_eq!(form.settings.version.as_deref(), Some(version));
        Validator::new(&form)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    fn number(record: &Value, key: &str) -> u64 {
        record[key].as_u64().unwrap_or_else(|| panic!("{key} in {record}"))
    }

    fn people(records: &[&Value], field: &str) -> u64 {
        records
            .iter()
            .flat_map(|record| record["nationality_group"].as_array().into_iter().flatten())
            .map(|group| number(group, field))
            .sum()
    }

    #[test]
    fn every_registry_record_passes_the_form() {
        let validator = validator(FMR_XLSX, FMR_FILE_NAME, FMR_FORM_ID, FMR_FORM_VERSION);
        let records = generate_fmr(600, 20_261_128, &demo_sites(), date(2026, 10, 1), 75);
        assert_eq!(records.len(), 600);
        for (index, record) in records.iter().enumerate() {
            let checked = validator.validate_json(record).unwrap_or_else(|rejected| panic!("#{index}: {rejected}"));
            assert!(checked.is_valid(), "#{index}: {:#?}\n{record:#}", checked.errors);
            assert_eq!(checked.instance_id.as_deref(), record["meta"]["instanceID"].as_str());
            // The totals sent are the ones the form computes.
            let computed = &checked.record["total"];
            let computed = computed.as_str().map_or_else(|| computed.to_string(), str::to_owned);
            assert_eq!(computed, record["total"].to_string(), "#{index}");
            let groups = record["nationality_group"].as_array().expect("nationality groups");
            assert!((1..=4).contains(&groups.len()), "#{index}: {} groups", groups.len());
            let nationalities: HashSet<&str> =
                groups.iter().filter_map(|group| group["nationality"].as_str()).collect();
            assert_eq!(nationalities.len(), groups.len(), "#{index}: a nationality twice");
            let hours = record["observed_hours"].as_f64().expect("hours");
            assert!((4.0..=12.0).contains(&hours), "#{index}: {hours}");
            assert!(record["date"].as_str() <= record["today"].as_str());
            assert!(number(record, "total") > 0);
        }
    }

    #[test]
    fn the_registry_refuses_what_it_should() {
        let validator = validator(FMR_XLSX, FMR_FILE_NAME, FMR_FORM_ID, FMR_FORM_VERSION);
        let mut record = generate_fmr(1, 5, &demo_sites(), date(2026, 10, 1), 10).remove(0);
        record["observed_hours"] = json!(30);
        record["nationality_group"][0]["m_18_59"] = json!(-2);
        record["site"] = json!(if record["country"] == "COL" { "PER-FMP-001" } else { "COL-FMP-001" });
        let checked = validator.validate_json(&record).expect("a readable record");
        let fields: HashSet<&str> = checked.errors.iter().map(|error| error.field.as_str()).collect();
        for field in ["observed_hours", "m_18_59", "site"] {
            assert!(fields.contains(field), "{field} not refused: {:#?}", checked.errors);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_records() {
        let sites = demo_sites();
        let start = date(2026, 1, 15);
        assert_eq!(generate_fmr(40, 3, &sites, start, 30), generate_fmr(40, 3, &sites, start, 30));
        assert_ne!(generate_fmr(40, 3, &sites, start, 30), generate_fmr(40, 4, &sites, start, 30));
        assert_eq!(generate_baseline(3, 2, start), generate_baseline(3, 2, start));
        assert_ne!(generate_baseline(3, 2, start), generate_baseline(4, 2, start));
        assert!(generate_fmr(10, 1, &[], start, 10).is_empty());
    }

    #[test]
    fn registry_counts_are_plausible() {
        let sites = demo_sites();
        let records = generate_fmr(6000, 9, &sites, date(2025, 1, 1), 365);
        let all: Vec<&Value> = records.iter().collect();
        let total: u64 = all.iter().map(|record| number(record, "total")).sum();
        let children: u64 = FMR_BRACKETS
            .iter()
            .filter(|(.., group)| !matches!(*group, "18-59" | "60+"))
            .map(|(field, ..)| people(&all, field))
            .sum();
        let children = 100.0 * children as f64 / total as f64;
        assert!((20.0..=30.0).contains(&children), "{children:.1}% children");
        let seniors = 100.0 * (people(&all, "f_60") + people(&all, "m_60")) as f64 / total as f64;
        assert!((1.5..=6.0).contains(&seniors), "{seniors:.1}% over 60");

        // Where people are on the move, many more men of working age than women.
        let transit: Vec<&Value> = all.iter().copied().filter(|record| record["direction"] == "transit").collect();
        let (men, women) = (people(&transit, "m_18_59"), people(&transit, "f_18_59"));
        assert!(men as f64 > 1.6 * women as f64, "{men} men, {women} women in transit");

        // Directions differ by point.
        let exits = |code: &str| {
            let here: Vec<&Value> = all.iter().copied().filter(|record| record["site"] == code).collect();
            100.0 * here.iter().filter(|record| record["direction"] == "exit").count() as f64 / here.len() as f64
        };
        let code = |country: &str, name: &str| {
            sites
                .iter()
                .find(|(code, c)| c == country && demo_point(code).is_some_and(|(_, n, _)| n.contains(name)))
                .map(|(code, _)| code.clone())
                .expect("a demo point")
        };
        let (huaquillas, tumbes) = (exits(&code("ECU", "Huaquillas")), exits(&code("PER", "Tumbes")));
        assert!(huaquillas > 50.0 && tumbes < 35.0, "{huaquillas:.0}% vs {tumbes:.0}% exits");

        // The season: more people an hour in December–January and July than in October.
        let per_hour = |months: &[u32]| {
            let (people, hours) = all
                .iter()
                .filter(|record| {
                    record["date"]
                        .as_str()
                        .and_then(|day| day.parse::<NaiveDate>().ok())
                        .is_some_and(|day| months.contains(&day.month()))
                })
                .fold((0.0, 0.0), |(people, hours), record| {
                    (people + number(record, "total") as f64, hours + record["observed_hours"].as_f64().unwrap_or(0.0))
                });
            people / hours
        };
        let (peak, july, ordinary) = (per_hour(&[12, 1]), per_hour(&[7]), per_hour(&[3, 4, 9, 10]));
        assert!(peak > 1.2 * ordinary && july > 1.15 * ordinary, "{peak:.1} {july:.1} {ordinary:.1}");

        // Mostly Venezuelans; walking shows on the Andean route.
        let venezuelans: u64 = all
            .iter()
            .flat_map(|record| record["nationality_group"].as_array().into_iter().flatten())
            .filter(|group| group["nationality"] == "VEN")
            .map(|group| number(group, "group_total"))
            .sum();
        assert!(venezuelans * 100 > total * 70, "{venezuelans} of {total}");
    }

    #[test]
    fn every_baseline_record_passes_the_form_for_every_round() {
        let validator = validator(BASELINE_XLSX, BASELINE_FILE_NAME, BASELINE_FORM_ID, BASELINE_FORM_VERSION);
        for (index, (_, (y, m, d), (ey, em, ed))) in DEMO_ROUNDS.into_iter().enumerate() {
            let (start, end) = (date(y, m, d), date(ey, em, ed));
            let records = generate_baseline(7, index, start);
            assert_eq!(records.len(), adm1_pcodes().iter().filter(|(country, _)| country != "VEN").count());
            for record in &records {
                let checked = validator.validate_json(record).unwrap_or_else(|rejected| panic!("{rejected}"));
                assert!(checked.is_valid(), "{:#?}\n{record:#}", checked.errors);
                let today: NaiveDate = record["today"].as_str().and_then(|day| day.parse().ok()).expect("a day");
                assert!(today >= start && today <= end, "{today} outside round {index}");
            }
        }
    }

    #[test]
    fn baseline_populations_are_plausible_and_grow_slowly() {
        let first = generate_baseline(7, 0, date(2025, 1, 15));
        let last = generate_baseline(7, 5, date(2026, 10, 1));
        let population = |records: &[Value], pcode: &str| {
            records.iter().find(|record| record["adm1"] == pcode).map_or(0, |record| number(record, "population"))
        };
        let by_country = |records: &[Value], country: &str| -> u64 {
            records
                .iter()
                .filter(|record| record["country"] == country)
                .map(|record| number(record, "population"))
                .sum()
        };
        for country in ["COL", "ECU", "PER", "BRA", "CHL"] {
            assert!(first.iter().any(|record| record["country"] == country), "{country}");
        }
        assert!(first.iter().all(|record| record["country"] != "VEN"));
        let colombia = by_country(&first, "COL");
        assert!((2_500_000..3_100_000).contains(&colombia), "{colombia} in Colombia");
        // The large hosting areas are the largest of their country.
        for (country, pcode) in [("COL", "CO-DC"), ("COL", "CO-NSA"), ("PER", "PE-LMA"), ("CHL", "CL-RM")] {
            let largest = first
                .iter()
                .filter(|record| record["country"] == country)
                .map(|record| number(record, "population"))
                .max()
                .unwrap_or(0);
            assert!(population(&first, pcode) * 2 >= largest && population(&first, pcode) > 150_000, "{pcode}");
        }
        let growth = by_country(&last, "COL") as f64 / colombia as f64;
        assert!((1.03..1.15).contains(&growth), "grew by {growth:.3}");
        let trends: HashMap<&str, usize> = last.iter().fold(HashMap::new(), |mut counts, record| {
            *counts.entry(record["trend"].as_str().unwrap_or_default()).or_default() += 1;
            counts
        });
        assert!(trends.get("increase") > trends.get("decrease"), "{trends:?}");
        for record in &first {
            assert!(number(record, "households") <= number(record, "population"));
            assert!(number(record, "informants") >= 1);
        }
    }

    #[test]
    fn the_forms_offer_the_demo_sites_and_areas() {
        let listed = |bytes: &[u8], file_name: &str, list: &str| -> BTreeSet<(String, String)> {
            let form = read_form(bytes, Some(file_name)).expect("the form loads");
            let list = form.choices.iter().find(|candidate| candidate.name == list).expect("the list");
            list.choices
                .iter()
                .map(|choice| {
                    let country = choice.extra.iter().find(|(column, _)| column == "country").map(|(_, value)| value);
                    (country.cloned().unwrap_or_default(), choice.name.clone())
                })
                .collect()
        };
        let sites: BTreeSet<(String, String)> =
            demo_sites().into_iter().map(|(code, country)| (country, code)).collect();
        assert_eq!(listed(FMR_XLSX, FMR_FILE_NAME, "sites"), sites);
        let areas: BTreeSet<(String, String)> = adm1_pcodes().into_iter().collect();
        assert_eq!(areas.len(), 330);
        assert_eq!(listed(BASELINE_XLSX, BASELINE_FILE_NAME, "adm1"), areas);
    }

    #[test]
    #[ignore = "prints samples, for reading"]
    fn print_samples() {
        let records = generate_fmr(3, 1, &demo_sites(), date(2026, 12, 1), 20);
        println!("{:#}", records[0]);
        let baseline = generate_baseline(1, 5, date(2026, 10, 1));
        for record in baseline.iter().filter(|record| record["country"] == "COL").take(40) {
            println!("{record}");
        }
    }
}
