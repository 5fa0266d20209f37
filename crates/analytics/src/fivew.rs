//! 5W consolidation: people reached per sector and country without counting the same
//! people twice.
//!
//! Partners report monthly rows: organisation, indicator (of one sector, counting people or
//! something else), country, admin 1, month, population type, new or recurring, and the
//! people reached split into girls / boys / women / men / other. Adding every row up counts
//! the same person once per indicator, per month and per sector that reached them. The
//! consolidation removes that, in five steps whose defaults follow the regional RMRP method
//! and are all configurable through [`Rules`] (TOML or JSON, missing fields take the
//! default):
//!
//! 1. **Indicators** (within one organisation, sector, admin 1, month and population type):
//!    the **maximum** across the sector's indicators ([`Combine::Max`]), because the same
//!    family fed and given hygiene kits is in both indicators. Rows of the *same* indicator
//!    in the same group (for example split by modality) are first **summed**: they are
//!    parts of one count.
//! 2. **Organisations** (same sector, admin 1, month, population type): **summed**
//!    ([`Combine::Sum`]); different partners are assumed to reach different people.
//! 3. **Months**: only the rows marked **new** are summed ([`AcrossMonths::NewOnly`]);
//!    recurring beneficiaries were already counted in the month they were new.
//! 4. **Sectors** (the intersector figure): per admin 1 and population type the
//!    **maximum** across sectors ([`Combine::Max`]), then summed over population types and
//!    admin 1 areas to the country.
//! 5. **Population types** stay a dimension throughout; a total over population types is
//!    their **sum**, since they are disjoint groups (a person is in destination or in
//!    transit, not both). Admin 1 areas are summed to the country for the same reason.
//!
//! Every maximum is taken **per disaggregation cell** by default ([`MaxBy::Cell`]): girls
//! is the maximum of the girls, boys of the boys, and so on, and the total is the sum of
//! the cells. This is how R4V/RMRP consolidate, so that a published total always equals
//! the sum of its published breakdown and each breakdown is itself the best estimate for
//! its group. The price is that the total can exceed every single indicator's total (one
//! indicator reaching mostly girls, another mostly men). [`MaxBy::Total`] instead keeps the
//! whole row with the largest total.
//!
//! Only indicators that count people take part. Others (kits, tonnes, transfers) are
//! reported as plain sums in [`Consolidated::other_units`] and never added to people.
//!
//! All combinations are order independent (sums, per-cell maxima, and a maximum by total
//! with a fixed tie-break), so the result does not depend on the order of the rows. The
//! method, with a worked example, is in `docs/response.md`; the tests below check that
//! example and one per rule, computed by hand.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// People reached, by sex and age. `other` holds people reported without the split
/// (or another gender); for an indicator not counting people, the quantity is the total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Disagg {
    pub girls: u64,
    pub boys: u64,
    pub women: u64,
    pub men: u64,
    pub other: u64,
}

impl Disagg {
    pub const fn new(girls: u64, boys: u64, women: u64, men: u64, other: u64) -> Self {
        Self { girls, boys, women, men, other }
    }

    /// The sum of the cells (saturating: a corrupt import must not panic the server).
    pub fn total(&self) -> u64 {
        self.cells().iter().fold(0, |sum, c| sum.saturating_add(*c))
    }

    /// Cell by cell sum.
    pub fn plus(self, other: Self) -> Self {
        self.zip(other, u64::saturating_add)
    }

    /// Cell by cell maximum.
    pub fn max_per_cell(self, other: Self) -> Self {
        self.zip(other, u64::max)
    }

    /// The one of the two with the larger total, ties broken by the cells in order so that
    /// the result never depends on which came first.
    pub fn larger_total(self, other: Self) -> Self {
        if (other.total(), other.cells()) > (self.total(), self.cells()) { other } else { self }
    }

    fn cells(self) -> [u64; 5] {
        [self.girls, self.boys, self.women, self.men, self.other]
    }

    fn zip(self, other: Self, f: impl Fn(u64, u64) -> u64) -> Self {
        let (a, b) = (self.cells(), other.cells());
        Self::new(f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2]), f(a[3], b[3]), f(a[4], b[4]))
    }
}

/// The RMRP population groups. Disjoint: a total over them is their sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PopulationType {
    InDestination,
    InTransit,
    HostCommunity,
    Pendular,
    ColombianReturnees,
}

/// One 5W row as the consolidation needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReachRow {
    /// Organisation id or code.
    pub organisation: String,
    /// Sector code; the indicator belongs to it.
    pub sector: String,
    /// Indicator id.
    pub indicator: String,
    /// Whether the indicator counts people. Rows that do not are never added to people.
    pub counts_people: bool,
    /// ISO 3166 alpha-3.
    pub country: String,
    /// Admin 1 p-code.
    pub admin1: String,
    /// The reporting month, as its first day (another day is taken as its month).
    pub month: NaiveDate,
    pub population: PopulationType,
    /// New beneficiaries (first reached this month) rather than recurring ones.
    pub new: bool,
    pub reached: Disagg,
}

/// How values of one step are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// The same people may be behind each value: keep the largest (see [`MaxBy`]).
    Max,
    /// The values are different people: add them.
    Sum,
}

/// How months are combined into the figure for a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AcrossMonths {
    /// Sum only the people reported as new; recurring ones were counted when they were new.
    NewOnly,
    /// The largest month (new and recurring together): for services where the same people
    /// come back every month and "new" is not reported reliably.
    MaxMonth,
    /// Every month added, new and recurring: counts contacts, not people.
    SumAll,
}

/// How a maximum is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxBy {
    /// Per disaggregation cell (girls, boys, women, men, other separately): the total
    /// stays the sum of its breakdown (R4V/RMRP practice).
    Cell,
    /// The whole value with the largest total, with its own breakdown.
    Total,
}

/// The consolidation rules. Every field has a default (the RMRP method), so a
/// configuration names only what it changes, e.g. `organisations = "max"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Step 1, indicators of a sector within an organisation, admin 1 and month. Default `max`.
    pub indicators: Combine,
    /// Step 2, organisations within a sector, admin 1 and month. Default `sum`.
    pub organisations: Combine,
    /// Step 3, months. Default `new_only`.
    pub months: AcrossMonths,
    /// Step 4, sectors within an admin 1 (the intersector figure). Default `max`.
    pub sectors: Combine,
    /// How every maximum above is taken. Default `cell`.
    pub max_by: MaxBy,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            indicators: Combine::Max,
            organisations: Combine::Sum,
            months: AcrossMonths::NewOnly,
            sectors: Combine::Max,
            max_by: MaxBy::Cell,
        }
    }
}

impl Rules {
    fn max(&self, a: Disagg, b: Disagg) -> Disagg {
        match self.max_by {
            MaxBy::Cell => a.max_per_cell(b),
            MaxBy::Total => a.larger_total(b),
        }
    }

    fn combine(&self, how: Combine, a: Disagg, b: Disagg) -> Disagg {
        match how {
            Combine::Max => self.max(a, b),
            Combine::Sum => a.plus(b),
        }
    }

    /// The part of a month that the month rule counts.
    fn month_figure(&self, month: Monthly) -> Disagg {
        match self.months {
            AcrossMonths::NewOnly => month.new,
            AcrossMonths::MaxMonth | AcrossMonths::SumAll => month.all,
        }
    }

    /// Adds one month to a period's figure. Order independent, so the caller may feed
    /// months in any order (the progress series feeds them in order).
    fn add_month(&self, period: Disagg, month: Monthly) -> Disagg {
        match self.months {
            AcrossMonths::NewOnly | AcrossMonths::SumAll => period.plus(self.month_figure(month)),
            AcrossMonths::MaxMonth => self.max(period, month.all),
        }
    }
}

/// People reached in one group, in total and per population type (the total is the sum
/// of the population types).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reach {
    pub total: Disagg,
    pub by_population: BTreeMap<PopulationType, Disagg>,
}

/// A [`Reach`] while it is being summed: an array indexed by population type, and which
/// types had rows (a type reached by nobody is still listed if it was reported).
#[derive(Debug, Clone, Copy, Default)]
struct Populations {
    reached: [Disagg; 5],
    reported: [bool; 5],
}

impl Populations {
    const TYPES: [PopulationType; 5] = [
        PopulationType::InDestination,
        PopulationType::InTransit,
        PopulationType::HostCommunity,
        PopulationType::Pendular,
        PopulationType::ColombianReturnees,
    ];

    fn add(&mut self, population: PopulationType, reached: Disagg) {
        let i = population as usize;
        self.reached[i] = self.reached[i].plus(reached);
        self.reported[i] = true;
    }

    fn merge(&mut self, other: &Self) {
        for i in 0..5 {
            self.reached[i] = self.reached[i].plus(other.reached[i]);
            self.reported[i] |= other.reported[i];
        }
    }

    fn reach(&self) -> Reach {
        let by_population: BTreeMap<_, _> = Self::TYPES
            .into_iter()
            .zip(self.reached.into_iter().zip(self.reported))
            .filter_map(|(population, (reached, reported))| reported.then_some((population, reached)))
            .collect();
        let total = by_population.values().fold(Disagg::default(), |sum, reached| sum.plus(*reached));
        Reach { total, by_population }
    }
}

/// A sector's monthly progress in a country.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MonthProgress {
    /// What the month itself adds under the month rule: new people with `new_only`, all
    /// people reached in the month otherwise (summed over admin 1 and population types).
    pub in_month: Disagg,
    /// People reached from the first month up to and including this one, consolidated as
    /// the whole period is; the last month's figure equals [`Consolidated::by_sector`].
    pub cumulative: Disagg,
}

/// The consolidated figures. Keys are codes as they came in the rows; maps are ordered so
/// that outputs are deterministic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consolidated {
    /// (country, sector): people reached by the sector in the country.
    pub by_sector: BTreeMap<(String, String), Reach>,
    /// (country, admin 1, sector).
    pub by_area_sector: BTreeMap<(String, String, String), Reach>,
    /// (country, admin 1): intersector, the sectors combined by [`Rules::sectors`].
    pub intersector_by_area: BTreeMap<(String, String), Reach>,
    /// country: intersector, the sum of its admin 1 areas.
    pub intersector: BTreeMap<String, Reach>,
    /// (organisation, country, sector): one partner's people reached (steps 1 and 3,
    /// per admin 1, then summed over admin 1).
    pub by_organisation: BTreeMap<(String, String, String), Reach>,
    /// (country, sector, month): monthly progress, for the months with rows.
    pub progress: BTreeMap<(String, String, NaiveDate), MonthProgress>,
    /// (country, sector, indicator): indicators not counting people, plain sum of totals
    /// over all rows (new and recurring). Reported, never added to people reached.
    pub other_units: BTreeMap<(String, String, String), u64>,
    /// Rows that took part in people reached.
    pub rows_people: usize,
    /// Rows of indicators that do not count people.
    pub rows_other_units: usize,
}

/// One month of a group after steps 1 (and 2): new people, and all people reached in the
/// month (new plus recurring, combined per indicator before the indicators are combined).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Monthly {
    new: Disagg,
    all: Disagg,
}

/// One indicator's rows within a group of step 1: new and recurring people.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    new: Disagg,
    recurring: Disagg,
}

/// Codes of one kind (countries, sectors…) numbered in order of appearance, so that rows
/// sort and group on small integers instead of strings.
#[derive(Default)]
struct Codes<'a> {
    ids: HashMap<&'a str, u32>,
    names: Vec<&'a str>,
}

impl<'a> Codes<'a> {
    fn id(&mut self, code: &'a str) -> u32 {
        if let Some(id) = self.ids.get(code) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(code);
        self.ids.insert(code, id);
        id
    }

    fn name(&self, id: u32) -> String {
        self.names.get(id as usize).map_or_else(String::new, |name| (*name).to_owned())
    }
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// A people row with its codes numbered, in the order the consolidation walks them:
/// sorted by series (country, admin 1, sector, population type), then month, organisation
/// and indicator, each step of the method is a run of consecutive entries.
#[derive(Debug, Clone, Copy)]
struct Entry {
    series: (u32, u32, u32, PopulationType),
    month: NaiveDate,
    organisation: u32,
    indicator: u32,
    new: bool,
    reached: Disagg,
}

/// Consolidates 5W rows into people reached, by the steps in the module documentation.
///
/// One pass numbers the codes; one sort puts the rows in the order of the method; one scan
/// over runs of equal keys does steps 1 to 3 (and 4 into a map per area): `O(n log n)`
/// with no per-row hashing beyond numbering the codes.
pub fn consolidate(rows: &[ReachRow], rules: &Rules) -> Consolidated {
    let mut out = Consolidated::default();
    let (mut countries, mut areas, mut sectors) = (Codes::default(), Codes::default(), Codes::default());
    let (mut organisations, mut indicators) = (Codes::default(), Codes::default());

    let mut other_units: HashMap<(u32, u32, u32), u64> = HashMap::new();
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let country = countries.id(&row.country);
        let sector = sectors.id(&row.sector);
        let indicator = indicators.id(&row.indicator);
        if !row.counts_people {
            out.rows_other_units += 1;
            let sum = other_units.entry((country, sector, indicator)).or_default();
            *sum = sum.saturating_add(row.reached.total());
            continue;
        }
        entries.push(Entry {
            series: (country, areas.id(&row.admin1), sector, row.population),
            month: first_of_month(row.month),
            organisation: organisations.id(&row.organisation),
            indicator,
            new: row.new,
            reached: row.reached,
        });
    }
    out.rows_people = entries.len();
    entries.sort_unstable_by_key(|e| (e.series, e.month, e.organisation, e.indicator));

    let mut area_sector: HashMap<(u32, u32, u32), Populations> = HashMap::new();
    let mut intersector: HashMap<(u32, u32, PopulationType), Disagg> = HashMap::new();
    let mut progress: HashMap<(u32, u32, NaiveDate), (Disagg, [i64; 5])> = HashMap::new();
    let mut partners: HashMap<(u32, u32, u32), Populations> = HashMap::new();
    // One partner's months in the current series (its figure skips step 2).
    let mut own: HashMap<u32, Disagg> = HashMap::new();
    for series in entries.chunk_by(|a, b| a.series == b.series) {
        let Some(&Entry { series: (country, admin1, sector, population), .. }) = series.first() else {
            continue;
        };
        let mut period = Disagg::default();
        for month in series.chunk_by(|a, b| a.month == b.month) {
            let mut combined = Monthly::default();
            for organisation in month.chunk_by(|a, b| a.organisation == b.organisation) {
                // Step 1: the rows of one indicator are parts of one count, summed; then
                // the indicators are combined. Zero is neutral for max and sum alike.
                let mut monthly = Monthly::default();
                for indicator in organisation.chunk_by(|a, b| a.indicator == b.indicator) {
                    let mut tally = Tally::default();
                    for entry in indicator {
                        if entry.new {
                            tally.new = tally.new.plus(entry.reached);
                        } else {
                            tally.recurring = tally.recurring.plus(entry.reached);
                        }
                    }
                    monthly = Monthly {
                        new: rules.combine(rules.indicators, monthly.new, tally.new),
                        all: rules.combine(rules.indicators, monthly.all, tally.new.plus(tally.recurring)),
                    };
                }
                if let Some(first) = organisation.first() {
                    let figure = own.entry(first.organisation).or_default();
                    *figure = rules.add_month(*figure, monthly);
                }
                // Step 2: the organisations.
                combined = Monthly {
                    new: rules.combine(rules.organisations, combined.new, monthly.new),
                    all: rules.combine(rules.organisations, combined.all, monthly.all),
                };
            }
            // Step 3: the months, in order, keeping what each month changes in the running
            // figure so that a country's cumulative progress is a prefix sum (a running
            // maximum by total can lower a cell, hence signed changes).
            let Some(first) = month.first() else { continue };
            let before = period;
            period = rules.add_month(period, combined);
            let (in_month, change) = progress.entry((country, sector, first.month)).or_default();
            *in_month = in_month.plus(rules.month_figure(combined));
            for (c, (now, was)) in change.iter_mut().zip(period.cells().into_iter().zip(before.cells())) {
                // Saturating: absurd imported counts must not panic the server.
                let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
                *c = c.saturating_add(signed(now).saturating_sub(signed(was)));
            }
        }
        area_sector.entry((country, admin1, sector)).or_default().add(population, period);
        // Step 4: the sectors, per area and population type.
        let cross = intersector.entry((country, admin1, population)).or_default();
        *cross = rules.combine(rules.sectors, *cross, period);
        for (organisation, reached) in own.drain() {
            partners.entry((organisation, country, sector)).or_default().add(population, reached);
        }
    }

    // Sums to the country (admin 1 areas and population types are disjoint), with the
    // codes back as strings.
    let mut by_sector: HashMap<(u32, u32), Populations> = HashMap::new();
    for ((country, admin1, sector), reached) in area_sector {
        by_sector.entry((country, sector)).or_default().merge(&reached);
        out.by_area_sector.insert((countries.name(country), areas.name(admin1), sectors.name(sector)), reached.reach());
    }
    for ((country, sector), reached) in by_sector {
        out.by_sector.insert((countries.name(country), sectors.name(sector)), reached.reach());
    }
    let mut intersector_by_area: HashMap<(u32, u32), Populations> = HashMap::new();
    for ((country, admin1, population), reached) in intersector {
        intersector_by_area.entry((country, admin1)).or_default().add(population, reached);
    }
    let mut intersector: HashMap<u32, Populations> = HashMap::new();
    for ((country, admin1), reached) in intersector_by_area {
        intersector.entry(country).or_default().merge(&reached);
        out.intersector_by_area.insert((countries.name(country), areas.name(admin1)), reached.reach());
    }
    for (country, reached) in intersector {
        out.intersector.insert(countries.name(country), reached.reach());
    }
    for ((organisation, country, sector), reached) in partners {
        let key = (organisations.name(organisation), countries.name(country), sectors.name(sector));
        out.by_organisation.insert(key, reached.reach());
    }
    for ((country, sector, indicator), sum) in other_units {
        out.other_units.insert((countries.name(country), sectors.name(sector), indicators.name(indicator)), sum);
    }

    // Cumulative progress: keys sort by (country, sector, month), so a running sum that
    // restarts with each (country, sector) walks each sector's months in order.
    let progress: BTreeMap<_, _> = progress
        .into_iter()
        .map(|((country, sector, month), v)| ((countries.name(country), sectors.name(sector), month), v))
        .collect();
    let mut running = [0_i64; 5];
    let mut current: Option<(&str, &str)> = None;
    for ((country, sector, month), (in_month, change)) in &progress {
        if current != Some((country, sector)) {
            current = Some((country, sector));
            running = [0; 5];
        }
        for (r, c) in running.iter_mut().zip(change) {
            *r = r.saturating_add(*c);
        }
        let [girls, boys, women, men, other] = running.map(|c| c.max(0) as u64);
        out.progress.insert(
            (country.clone(), sector.clone(), *month),
            MonthProgress { in_month: *in_month, cumulative: Disagg::new(girls, boys, women, men, other) },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const COL: &str = "COL";
    const BOG: &str = "CO11";
    const ATL: &str = "CO08";

    fn month(m: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, 1).expect("a valid month")
    }

    /// A people row in Colombia, in destination; the tests change what they need.
    fn row(
        organisation: &str,
        sector: &str,
        indicator: &str,
        admin1: &str,
        m: u32,
        new: bool,
        [girls, boys, women, men, other]: [u64; 5],
    ) -> ReachRow {
        ReachRow {
            organisation: organisation.into(),
            sector: sector.into(),
            indicator: indicator.into(),
            counts_people: true,
            country: COL.into(),
            admin1: admin1.into(),
            month: month(m),
            population: PopulationType::InDestination,
            new,
            reached: Disagg::new(girls, boys, women, men, other),
        }
    }

    fn d(girls: u64, boys: u64, women: u64, men: u64) -> Disagg {
        Disagg::new(girls, boys, women, men, 0)
    }

    fn sector(out: &Consolidated, s: &str) -> Disagg {
        out.by_sector.get(&(COL.to_owned(), s.to_owned())).map(|r| r.total).unwrap_or_default()
    }

    fn country(out: &Consolidated) -> Disagg {
        out.intersector.get(COL).map(|r| r.total).unwrap_or_default()
    }

    /// The worked example of docs/response.md.
    fn example() -> Vec<ReachRow> {
        let mut tonnes = row("A", "FS", "FS-9", BOG, 1, true, [0, 0, 0, 0, 3]);
        tonnes.counts_people = false;
        vec![
            row("A", "FS", "FS-1", BOG, 1, true, [10, 10, 20, 10, 0]),
            row("A", "FS", "FS-2", BOG, 1, true, [20, 5, 10, 20, 0]),
            row("B", "FS", "FS-1", BOG, 1, true, [0, 0, 30, 20, 0]),
            row("A", "FS", "FS-1", BOG, 2, false, [10, 10, 20, 10, 0]),
            row("A", "FS", "FS-1", BOG, 2, true, [5, 5, 0, 0, 0]),
            row("A", "HE", "HE-1", BOG, 1, true, [30, 30, 40, 20, 0]),
            row("C", "HE", "HE-1", ATL, 1, true, [5, 5, 10, 10, 0]),
            tonnes,
        ]
    }

    #[test]
    fn worked_example_with_the_default_rules() {
        let out = consolidate(&example(), &Rules::default());
        // Step 1, A/FS/CO11/Jan: max per cell of FS-1 (10,10,20,10) and FS-2 (20,5,10,20)
        //   = (20,10,20,20) = 70 (max of totals would be 55, the sum 105).
        // Step 2, Jan: A (20,10,20,20) + B (0,0,30,20) = (20,10,50,40) = 120.
        // Step 3: Feb adds only A's new (5,5,0,0); the recurring 50 are January's people.
        //   FS in CO11 = (25,15,50,40) = 130.
        assert_eq!(sector(&out, "FS"), d(25, 15, 50, 40));
        assert_eq!(sector(&out, "FS").total(), 130);
        // HE: CO11 (30,30,40,20) = 120, CO08 (5,5,10,10) = 30; 150 in Colombia.
        assert_eq!(sector(&out, "HE").total(), 150);
        // Step 4, CO11: max per cell of FS (25,15,50,40) and HE (30,30,40,20)
        //   = (30,30,50,40) = 150; CO08 = 30 (only HE); Colombia 150 + 30 = 180.
        let bog = &out.intersector_by_area[&(COL.to_owned(), BOG.to_owned())];
        assert_eq!(bog.total, d(30, 30, 50, 40));
        assert_eq!(country(&out), d(35, 35, 60, 50));
        assert_eq!(country(&out).total(), 180);
        // Per area and sector.
        let key = (COL.to_owned(), ATL.to_owned(), "HE".to_owned());
        assert_eq!(out.by_area_sector[&key].total.total(), 30);
        // Per organisation: A in FS = Jan 70 + Feb new 10 = 80; B 50; A in HE 120.
        let org = |o: &str, s: &str| out.by_organisation[&(o.into(), COL.into(), s.into())].total;
        assert_eq!(org("A", "FS").total(), 80);
        assert_eq!(org("B", "FS").total(), 50);
        assert_eq!(org("A", "HE").total(), 120);
        assert_eq!(org("C", "HE").total(), 30);
        // Monthly progress of FS: Jan 120 new, Feb 10 new; cumulative 120, 130.
        let p = |m| out.progress[&(COL.to_owned(), "FS".to_owned(), month(m))];
        assert_eq!((p(1).in_month.total(), p(1).cumulative.total()), (120, 120));
        assert_eq!((p(2).in_month.total(), p(2).cumulative.total()), (10, 130));
        // The tonnes are reported apart and in no people figure.
        assert_eq!(out.other_units[&(COL.into(), "FS".into(), "FS-9".into())], 3);
        assert_eq!((out.rows_people, out.rows_other_units), (7, 1));
    }

    #[test]
    fn indicators_of_a_sector_take_the_maximum_per_cell() {
        // FS-1 (10 girls, 0 boys, 4 women), FS-2 (2 girls, 8 boys, 4 women), same org,
        // area, month: per cell (10, 8, 4) = 22, though neither indicator reaches 22.
        let rows = [
            row("A", "FS", "FS-1", BOG, 1, true, [10, 0, 4, 0, 0]),
            row("A", "FS", "FS-2", BOG, 1, true, [2, 8, 4, 0, 0]),
        ];
        let out = consolidate(&rows, &Rules::default());
        assert_eq!(sector(&out, "FS"), d(10, 8, 4, 0));
        assert_eq!(sector(&out, "FS").total(), 22);
    }

    #[test]
    fn rows_of_the_same_indicator_are_parts_of_one_count() {
        // FS-1 reported twice (cash 6 women, in kind 5 women): 11, then max with FS-2 (8).
        let rows = [
            row("A", "FS", "FS-1", BOG, 1, true, [0, 0, 6, 0, 0]),
            row("A", "FS", "FS-1", BOG, 1, true, [0, 0, 5, 0, 0]),
            row("A", "FS", "FS-2", BOG, 1, true, [0, 0, 8, 0, 0]),
        ];
        let out = consolidate(&rows, &Rules::default());
        assert_eq!(sector(&out, "FS"), d(0, 0, 11, 0));
    }

    #[test]
    fn organisations_are_summed() {
        // A (3 girls, 7 men) and B (4 girls, 1 man), same indicator, area and month:
        // (7 girls, 8 men) = 15. Each organisation keeps its own figure.
        let rows = [
            row("A", "HE", "HE-1", BOG, 3, true, [3, 0, 0, 7, 0]),
            row("B", "HE", "HE-1", BOG, 3, true, [4, 0, 0, 1, 0]),
        ];
        let out = consolidate(&rows, &Rules::default());
        assert_eq!(sector(&out, "HE"), d(7, 0, 0, 8));
        let own = &out.by_organisation[&("B".into(), COL.into(), "HE".into())];
        assert_eq!(own.total, d(4, 0, 0, 1));
    }

    #[test]
    fn across_months_only_new_people_are_added() {
        // Jan 40 new; Feb 40 recurring + 5 new; Mar 45 recurring + 2 new.
        // New only: 40 + 5 + 2 = 47 (the plain sum would be 132).
        let rows = [
            row("A", "ED", "ED-1", BOG, 1, true, [20, 20, 0, 0, 0]),
            row("A", "ED", "ED-1", BOG, 2, false, [20, 20, 0, 0, 0]),
            row("A", "ED", "ED-1", BOG, 2, true, [5, 0, 0, 0, 0]),
            row("A", "ED", "ED-1", BOG, 3, false, [25, 20, 0, 0, 0]),
            row("A", "ED", "ED-1", BOG, 3, true, [0, 2, 0, 0, 0]),
        ];
        let out = consolidate(&rows, &Rules::default());
        assert_eq!(sector(&out, "ED"), d(25, 22, 0, 0));
        // Progress: 40, 45, 47.
        let cumulative: Vec<u64> = out.progress.values().map(|p| p.cumulative.total()).collect();
        assert_eq!(cumulative, [40, 45, 47]);
        // With max_month: Jan 40, Feb 45, Mar 47 (all in the month) -> per cell
        // (25 girls, 22 boys) = 47 too; with sum_all: 40 + 45 + 47 = 132.
        let max_month = Rules { months: AcrossMonths::MaxMonth, ..Rules::default() };
        assert_eq!(sector(&consolidate(&rows, &max_month), "ED"), d(25, 22, 0, 0));
        let sum_all = Rules { months: AcrossMonths::SumAll, ..Rules::default() };
        let out = consolidate(&rows, &sum_all);
        assert_eq!(sector(&out, "ED").total(), 132);
        let in_month: Vec<u64> = out.progress.values().map(|p| p.in_month.total()).collect();
        assert_eq!(in_month, [40, 45, 47]);
    }

    #[test]
    fn max_month_keeps_the_largest_month_per_cell() {
        // Jan (10 women, 2 men), Feb (4 women, 6 men), no "new" flag used by this rule:
        // per cell (10, 6) = 16; by total the larger month is Jan (12) -> (10, 2).
        let rows = [
            row("A", "PR", "PR-1", BOG, 1, true, [0, 0, 10, 2, 0]),
            row("A", "PR", "PR-1", BOG, 2, false, [0, 0, 4, 6, 0]),
        ];
        let cell = Rules { months: AcrossMonths::MaxMonth, ..Rules::default() };
        let out = consolidate(&rows, &cell);
        assert_eq!(sector(&out, "PR"), d(0, 0, 10, 6));
        let p: Vec<u64> = out.progress.values().map(|p| p.cumulative.total()).collect();
        assert_eq!(p, [12, 16]);
        let total = Rules { max_by: MaxBy::Total, ..cell };
        assert_eq!(sector(&consolidate(&rows, &total), "PR"), d(0, 0, 10, 2));
    }

    #[test]
    fn intersector_is_the_maximum_per_area_summed_to_the_country() {
        // CO11: FS (10 women, 5 men), HE (4 women, 9 men) -> (10, 9) = 19.
        // CO08: FS (3 women), WASH (2 women, 2 men) -> (3, 2) = 5. Colombia 19 + 5 = 24.
        // The sector figures still add to 10+5+4+9+3+2+2 = 35.
        let rows = [
            row("A", "FS", "FS-1", BOG, 1, true, [0, 0, 10, 5, 0]),
            row("B", "HE", "HE-1", BOG, 1, true, [0, 0, 4, 9, 0]),
            row("A", "FS", "FS-1", ATL, 1, true, [0, 0, 3, 0, 0]),
            row("C", "WASH", "WA-1", ATL, 1, true, [0, 0, 2, 2, 0]),
        ];
        let out = consolidate(&rows, &Rules::default());
        let area = |a: &str| out.intersector_by_area[&(COL.to_owned(), a.to_owned())].total;
        assert_eq!(area(BOG), d(0, 0, 10, 9));
        assert_eq!(area(ATL), d(0, 0, 3, 2));
        assert_eq!(country(&out), d(0, 0, 13, 11));
        assert_eq!(country(&out).total(), 24);
        let sectors: u64 = out.by_sector.values().map(|r| r.total.total()).sum();
        assert_eq!(sectors, 35);
        // sectors = "sum": the intersector figure is that plain 35.
        let sum = Rules { sectors: Combine::Sum, ..Rules::default() };
        assert_eq!(country(&consolidate(&rows, &sum)).total(), 35);
    }

    #[test]
    fn indicators_that_do_not_count_people_are_never_added() {
        // 12 people, plus 500 kits and 40 kits of a non-people indicator.
        let mut kits = row("A", "SH", "SH-9", BOG, 1, true, [0, 0, 0, 0, 500]);
        kits.counts_people = false;
        let mut more = kits.clone();
        more.month = month(2);
        more.new = false;
        more.reached = Disagg::new(0, 0, 0, 0, 40);
        let rows = [row("A", "SH", "SH-1", BOG, 1, true, [0, 0, 6, 6, 0]), kits, more];
        let out = consolidate(&rows, &Rules::default());
        assert_eq!(sector(&out, "SH").total(), 12);
        assert_eq!(country(&out).total(), 12);
        assert_eq!(out.other_units[&(COL.into(), "SH".into(), "SH-9".into())], 540);
        // A sector with only such rows has no people figure at all.
        let out = consolidate(&rows[1..], &Rules::default());
        assert!(out.by_sector.is_empty() && out.intersector.is_empty());
    }

    #[test]
    fn population_types_are_kept_apart_and_summed() {
        // FS-1: in destination 10 women, host community 4 women.
        // FS-2: in destination 6 women + 3 men, in transit 5 men.
        // In destination: max per cell (10 women, 3 men) = 13; host 4; transit 5;
        // total 13 + 4 + 5 = 22 (the max is never taken across population types).
        let mut host = row("A", "FS", "FS-1", BOG, 1, true, [0, 0, 4, 0, 0]);
        host.population = PopulationType::HostCommunity;
        let mut transit = row("A", "FS", "FS-2", BOG, 1, true, [0, 0, 0, 5, 0]);
        transit.population = PopulationType::InTransit;
        let rows = [
            row("A", "FS", "FS-1", BOG, 1, true, [0, 0, 10, 0, 0]),
            host,
            row("A", "FS", "FS-2", BOG, 1, true, [0, 0, 6, 3, 0]),
            transit,
        ];
        let out = consolidate(&rows, &Rules::default());
        let reach = &out.by_sector[&(COL.to_owned(), "FS".to_owned())];
        use PopulationType::{HostCommunity, InDestination, InTransit};
        assert_eq!(reach.by_population[&InDestination], d(0, 0, 10, 3));
        assert_eq!(reach.by_population[&HostCommunity], d(0, 0, 4, 0));
        assert_eq!(reach.by_population[&InTransit], d(0, 0, 0, 5));
        assert_eq!(reach.total, d(0, 0, 14, 8));
        assert_eq!(out.intersector[COL].total.total(), 22);
    }

    #[test]
    fn each_other_rule_on_the_worked_example() {
        let rows = example();
        let with = |rules: Rules| consolidate(&rows, &rules);
        // indicators = sum: A Jan 50 + 55 = 105; Jan 105 + 50 = 155; FS 155 + 10 = 165.
        let out = with(Rules { indicators: Combine::Sum, ..Rules::default() });
        assert_eq!(sector(&out, "FS").total(), 165);
        // max_by = total: A Jan keeps FS-2 whole (55 > 50); Jan 105; FS 115 = (25,10,40,40).
        // Intersector CO11 by total: FS 115 < HE 120 -> 120; Colombia 120 + 30 = 150.
        let out = with(Rules { max_by: MaxBy::Total, ..Rules::default() });
        assert_eq!(sector(&out, "FS"), d(25, 10, 40, 40));
        assert_eq!(country(&out).total(), 150);
        // organisations = max: Jan max per cell A (20,10,20,20), B (0,0,30,20)
        //   = (20,10,30,20) = 80; FS 80 + 10 = 90.
        let out = with(Rules { organisations: Combine::Max, ..Rules::default() });
        assert_eq!(sector(&out, "FS").total(), 90);
        // months = max_month: Jan all (20,10,50,40); Feb all: FS-1 new + recurring
        //   (15,15,20,10) = 60; per cell (20,15,50,40) = 125.
        let out = with(Rules { months: AcrossMonths::MaxMonth, ..Rules::default() });
        assert_eq!(sector(&out, "FS"), d(20, 15, 50, 40));
        // months = sum_all: 120 + 60 = 180.
        let out = with(Rules { months: AcrossMonths::SumAll, ..Rules::default() });
        assert_eq!(sector(&out, "FS").total(), 180);
        // sectors = sum: CO11 130 + 120 = 250; Colombia 250 + 30 = 280.
        let out = with(Rules { sectors: Combine::Sum, ..Rules::default() });
        assert_eq!(country(&out).total(), 280);
    }

    #[test]
    fn rules_are_read_from_toml_with_defaults() {
        let rules: Rules = toml::from_str("organisations = \"max\"\nmonths = \"max_month\"").expect("valid rules");
        assert_eq!(rules, Rules { organisations: Combine::Max, months: AcrossMonths::MaxMonth, ..Rules::default() });
        assert_eq!(toml::from_str::<Rules>("").ok(), Some(Rules::default()));
        assert!(toml::from_str::<Rules>("sector = \"sum\"").is_err());
        assert!(toml::from_str::<Rules>("months = \"new\"").is_err());
        let json: Rules = serde_json::from_str(r#"{"max_by":"total"}"#).expect("valid json");
        assert_eq!(json.max_by, MaxBy::Total);
    }

    #[test]
    fn the_order_of_the_rows_does_not_matter() {
        let mut rows = example();
        let rules = Rules { max_by: MaxBy::Total, ..Rules::default() };
        let forward = consolidate(&rows, &rules);
        rows.reverse();
        assert_eq!(consolidate(&rows, &rules), forward);
    }

    /// xorshift64*: reproducible random rows without a dependency.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    const POPULATIONS: [PopulationType; 5] = [
        PopulationType::InDestination,
        PopulationType::InTransit,
        PopulationType::HostCommunity,
        PopulationType::Pendular,
        PopulationType::ColombianReturnees,
    ];

    /// How many distinct codes random rows draw from (few, so that groups collide).
    struct Sizes {
        organisations: u64,
        sectors: u64,
        countries: u64,
        admin1: u64,
        months: u64,
    }

    fn random_rows(random: &mut Random, n: usize, sizes: &Sizes) -> Vec<ReachRow> {
        (0..n)
            .map(|_| {
                let sector = random.below(sizes.sectors);
                let mut cells = [0; 5];
                for c in &mut cells {
                    *c = random.below(40);
                }
                ReachRow {
                    organisation: format!("ORG{}", random.below(sizes.organisations)),
                    sector: format!("S{sector}"),
                    indicator: format!("S{sector}-{}", random.below(4)),
                    counts_people: random.below(10) > 0,
                    country: format!("C{}", random.below(sizes.countries)),
                    admin1: format!("A{}", random.below(sizes.admin1)),
                    month: month(1 + random.below(sizes.months) as u32),
                    population: POPULATIONS[random.below(5) as usize],
                    new: random.below(3) > 0,
                    reached: Disagg::new(cells[0], cells[1], cells[2], cells[3], cells[4]),
                }
            })
            .collect()
    }

    fn all_rules() -> Vec<Rules> {
        let mut all = Vec::new();
        for indicators in [Combine::Max, Combine::Sum] {
            for organisations in [Combine::Max, Combine::Sum] {
                for months in [AcrossMonths::NewOnly, AcrossMonths::MaxMonth, AcrossMonths::SumAll] {
                    for sectors in [Combine::Max, Combine::Sum] {
                        for max_by in [MaxBy::Cell, MaxBy::Total] {
                            all.push(Rules { indicators, organisations, months, sectors, max_by });
                        }
                    }
                }
            }
        }
        all
    }

    /// Property (proptest is not in the workspace, so 200 seeded random cases per rule
    /// set): per country and sector, people reached lie between the largest single new
    /// row and the plain sum of the rows; per cell too when maxima are per cell. The last
    /// month's cumulative progress equals the sector figure, and the intersector figure
    /// of a country lies between its largest sector and the sum of its sectors.
    #[test]
    fn reached_lies_between_the_largest_new_row_and_the_plain_sum() {
        const SMALL: Sizes = Sizes { organisations: 3, sectors: 3, countries: 2, admin1: 3, months: 4 };
        let mut random = Random(0x5eed_f5a5);
        for rules in all_rules() {
            for _ in 0..200 {
                let n = random.below(40) as usize;
                let rows = random_rows(&mut random, n, &SMALL);
                let out = consolidate(&rows, &rules);
                let mut plain: HashMap<(String, String), Disagg> = HashMap::new();
                let mut largest: HashMap<(String, String), Vec<Disagg>> = HashMap::new();
                for r in rows.iter().filter(|r| r.counts_people) {
                    let key = (r.country.clone(), r.sector.clone());
                    let sum = plain.entry(key.clone()).or_default();
                    *sum = sum.plus(r.reached);
                    if r.new {
                        largest.entry(key).or_default().push(r.reached);
                    }
                }
                assert_eq!(out.by_sector.len(), plain.len(), "{rules:?}");
                for (key, reach) in &out.by_sector {
                    let got = reach.total;
                    let sum = plain[key];
                    assert!(got.total() <= sum.total(), "{rules:?} {key:?}");
                    for row in largest.get(key).into_iter().flatten() {
                        assert!(got.total() >= row.total(), "{rules:?} {key:?}");
                        if rules.max_by == MaxBy::Cell {
                            assert_eq!(got.max_per_cell(*row), got, "{rules:?}");
                        }
                    }
                    if rules.max_by == MaxBy::Cell {
                        assert_eq!(got.max_per_cell(sum), sum, "{rules:?} {key:?}");
                    }
                    let last = out
                        .progress
                        .range((key.0.clone(), key.1.clone(), NaiveDate::MIN)..)
                        .take_while(|((c, s, _), _)| (c, s) == (&key.0, &key.1))
                        .last()
                        .map(|(_, p)| p.cumulative);
                    assert_eq!(last, Some(got), "{rules:?} {key:?}");
                }
                for (country, reach) in &out.intersector {
                    let sectors = out.by_sector.range((country.clone(), String::new())..);
                    let sectors: Vec<u64> =
                        sectors.take_while(|((c, _), _)| c == country).map(|(_, r)| r.total.total()).collect();
                    let max = sectors.iter().copied().max().unwrap_or(0);
                    assert!(reach.total.total() >= max, "{rules:?}");
                    assert!(reach.total.total() <= sectors.iter().sum(), "{rules:?}");
                }
            }
        }
    }

    /// Timing on a year-sized input: `cargo test --release -p rumbo-analytics fivew --
    /// --ignored --nocapture`.
    #[test]
    #[ignore = "timing, run by hand in release"]
    fn consolidates_half_a_million_rows() {
        let mut random = Random(42);
        // A year of the regional response: 231 partners, 12 sectors, 17 countries with
        // 30 admin 1 codes each, 12 months.
        let sizes = Sizes { organisations: 231, sectors: 12, countries: 17, admin1: 30, months: 12 };
        let rows = random_rows(&mut random, 500_000, &sizes);
        let start = std::time::Instant::now();
        let out = consolidate(&rows, &Rules::default());
        let elapsed = start.elapsed();
        println!(
            "fivew: {} rows consolidated in {elapsed:?} ({} sector figures, {} progress points)",
            rows.len(),
            out.by_area_sector.len(),
            out.progress.len()
        );
    }
}
