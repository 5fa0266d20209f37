//! Statistical disclosure control for figures anyone may read.
//!
//! Every public figure of an indicator is a cell of one table: round × geography (region,
//! country, admin 1) × sex × age group, with every total. The whole table is protected at
//! once, so that no combination of published figures — breakdowns, totals, other filters of
//! the same indicator — lets a suppressed cell be recomputed:
//!
//! 1. **Primary suppression**: a cell smaller than the indicator's threshold (counts and
//!    sums: its value; shares and means: its units) is not published.
//! 2. **Secondary suppression by hypercubes**: each suppressed cell is made a corner of a
//!    "hypercube" of cells that are all suppressed: in every dimension two positions (two
//!    admin 1 areas of a country, a sex and the total of both sexes...) with signs such that
//!    adding `+d` to the positive corners and `−d` to the negative ones changes no total of
//!    any order. The published figures are then as true of the table with `d` added as of
//!    the real one: no suppressed cell is determined by them, whatever equations a reader
//!    writes. Every corner holds someone (a corner at zero would pin the value down on one
//!    side), and among the hypercubes that fit, the one hiding the least is taken.
//!
//! A sensitive topic has no admin 1 in its public table: it is published by country at
//! most. [`recoverable`] is the attacker's side: it tells which hidden cells a set of
//! published sums determines, and the tests use it against everything published.

use std::collections::{BTreeMap, HashMap, HashSet};

use rumbo_store::Store;
use rumbo_store::analytics::Dim;

use crate::definition::{IndicatorDef, Kind, Sensitivity};
use crate::estimate::Estimate;
use crate::query::{self, Answer, QueryError, Request, Row};
use crate::registry::Registry;
use rumbo_store::FieldError;

/// The dimensions public figures can be broken down by.
pub const PUBLIC_DIMS: [Dim; 5] = [Dim::Round, Dim::Country, Dim::Adm1, Dim::Sex, Dim::AgeGroup];

/// The four axes of a protected table: round, geography, sex, age group.
const AXES: usize = 4;
const ROUND: usize = 0;
const GEO: usize = 1;
const SEX: usize = 2;
const AGE: usize = 3;

/// Position 0 on every axis is the total.
const TOTAL: u32 = 0;

/// The public breakdowns of an indicator: round and country always, admin 1, sex and age
/// group when it allows them (admin 1 never for a sensitive topic).
pub fn public_dims(def: &IndicatorDef) -> Vec<Dim> {
    PUBLIC_DIMS
        .into_iter()
        .filter(|d| match d {
            Dim::Round | Dim::Country => true,
            Dim::Adm1 => def.disaggregations.contains(d) && !def.sensitive_topic,
            _ => def.disaggregations.contains(d),
        })
        .collect()
}

/// One axis: its positions (0 the total), each with its code, level and parent.
#[derive(Debug, Clone, Default)]
struct Axis {
    codes: Vec<String>,
    /// 0 the total, 1 a value (a country on the geography axis), 2 an admin 1 area.
    levels: Vec<u8>,
    parents: Vec<u32>,
    /// By level, parent and code: an area without a p-code (`""`) is one per country.
    index: HashMap<(u8, u32, String), u32>,
    /// By level and code, for filters.
    by_code: HashMap<(u8, String), u32>,
    children: Vec<Vec<u32>>,
}

impl Axis {
    fn new() -> Axis {
        let mut axis = Axis::default();
        axis.codes.push(String::new());
        axis.levels.push(0);
        axis.parents.push(TOTAL);
        axis.children.push(Vec::new());
        axis
    }

    fn intern(&mut self, level: u8, code: &str, parent: u32) -> u32 {
        if let Some(&i) = self.index.get(&(level, parent, code.to_owned())) {
            return i;
        }
        let i = self.codes.len() as u32;
        self.codes.push(code.to_owned());
        self.levels.push(level);
        self.parents.push(parent);
        self.children.push(Vec::new());
        self.children[parent as usize].push(i);
        self.index.insert((level, parent, code.to_owned()), i);
        self.by_code.entry((level, code.to_owned())).or_insert(i);
        i
    }

    fn find(&self, level: u8, code: &str) -> Option<u32> {
        self.by_code.get(&(level, code.to_owned())).copied()
    }

    fn level(&self, p: u32) -> u8 {
        self.levels[p as usize]
    }
}

type Coord = [u32; AXES];

/// A cell of a protected table.
#[derive(Debug, Clone, Copy)]
struct Cell {
    estimate: Estimate,
    /// What the threshold applies to: the value of a count or sum, the units of a share
    /// or mean.
    size: f64,
    /// The size its own breakdown gave (the same, unless submissions arrived between two).
    own: f64,
    suppressed: bool,
}

/// An indicator's public table, protected.
#[derive(Debug, Clone)]
pub struct Protected {
    pub indicator: String,
    pub kind: Kind,
    pub weighted: bool,
    /// The breakdowns it can answer.
    pub dims: Vec<Dim>,
    pub threshold: u32,
    axes: [Axis; AXES],
    cells: HashMap<Coord, Cell>,
    /// Each cell's size, summed from the finest cells.
    sizes: HashMap<Coord, f64>,
}

impl Protected {
    /// Reads an indicator's public table from the aggregates (every breakdown of it, with
    /// its totals) and protects it.
    pub async fn build(store: &Store, registry: &Registry, indicator: &str) -> Result<Protected, QueryError> {
        let def = registry.get(indicator).ok_or_else(|| QueryError::UnknownIndicator(indicator.to_owned()))?;
        if def.sensitivity == Sensitivity::Restricted {
            return Err(QueryError::Restricted(def.id.clone()));
        }
        let dims = public_dims(def);
        let has = |d: Dim| dims.contains(&d);
        let geo_levels: Vec<Vec<Dim>> = if has(Dim::Adm1) {
            vec![vec![], vec![Dim::Country], vec![Dim::Country, Dim::Adm1]]
        } else {
            vec![vec![], vec![Dim::Country]]
        };
        let options = |d: Dim| if has(d) { vec![vec![], vec![d]] } else { vec![vec![]] };
        let mut answers = Vec::new();
        let mut weighted = false;
        for round in options(Dim::Round) {
            for geo in &geo_levels {
                for sex in options(Dim::Sex) {
                    for age in options(Dim::AgeGroup) {
                        let by: Vec<Dim> = [round.clone(), geo.clone(), sex.clone(), age.clone()].concat();
                        let request = Request {
                            indicator: def.id.clone(),
                            by: by.clone(),
                            privileged: true,
                            ..Request::default()
                        };
                        let answer = query::aggregate(store, registry, &request).await?;
                        weighted = answer.weighted;
                        answers.push(answer);
                    }
                }
            }
        }
        let mut table = Protected::from_answers(def, dims, &answers);
        table.weighted = weighted;
        table.protect();
        Ok(table)
    }

    /// A table from the answers to each of its breakdowns (asked with every row shown).
    pub fn from_answers(def: &IndicatorDef, dims: Vec<Dim>, answers: &[Answer]) -> Protected {
        let mut axes = [Axis::new(), Axis::new(), Axis::new(), Axis::new()];
        let mut cells = HashMap::new();
        let size = |e: &Estimate| match def.kind {
            Kind::Count | Kind::Sum => e.value.unwrap_or(0.0),
            Kind::Proportion | Kind::Mean => e.n as f64,
        };
        for answer in answers {
            let mut put = |keys: &BTreeMap<String, String>, estimate: Estimate| {
                let mut coord = [TOTAL; AXES];
                let key = |d: Dim| keys.get(d.as_str());
                if let Some(r) = key(Dim::Round) {
                    coord[ROUND] = axes[ROUND].intern(1, r, TOTAL);
                }
                if let Some(c) = key(Dim::Country) {
                    let country = axes[GEO].intern(1, c, TOTAL);
                    coord[GEO] = match key(Dim::Adm1) {
                        Some(a) => axes[GEO].intern(2, a, country),
                        None => country,
                    };
                }
                if let Some(s) = key(Dim::Sex) {
                    coord[SEX] = axes[SEX].intern(1, s, TOTAL);
                }
                if let Some(a) = key(Dim::AgeGroup) {
                    coord[AGE] = axes[AGE].intern(1, a, TOTAL);
                }
                cells.insert(coord, Cell { estimate, size: size(&estimate), own: size(&estimate), suppressed: false });
            };
            for row in &answer.rows {
                put(&row.keys, row.estimate);
            }
            if answer.by.is_empty() || answer.rows.is_empty() {
                put(&BTreeMap::new(), answer.total);
            }
        }
        // Sizes from the finest cells alone, summed up every chain to the totals: the
        // breakdowns are read one after the other while submissions arrive, and the sizes
        // suppression works on must add up exactly.
        let finest: Vec<u8> = axes.iter().map(|a| a.levels.iter().copied().max().unwrap_or(0)).collect();
        let chain = |axis: usize, mut p: u32| {
            let mut out = vec![p];
            while p != TOTAL {
                p = axes[axis].parents[p as usize];
                out.push(p);
            }
            out
        };
        let mut sizes: HashMap<Coord, f64> = HashMap::new();
        for (coord, cell) in &cells {
            if (0..AXES).all(|i| axes[i].levels[coord[i] as usize] == finest[i]) && cell.size > 0.0 {
                let chains: Vec<Vec<(u32, i8)>> =
                    (0..AXES).map(|i| chain(i, coord[i]).into_iter().map(|p| (p, 1)).collect()).collect();
                for c in corners(&[&chains[0], &chains[1], &chains[2], &chains[3]]) {
                    *sizes.entry(c).or_default() += cell.size;
                }
            }
        }
        for (coord, cell) in &mut cells {
            cell.size = sizes.get(coord).copied().unwrap_or(0.0);
        }
        Protected {
            indicator: def.id.clone(),
            kind: def.kind,
            weighted: false,
            dims,
            threshold: def.suppression,
            axes,
            cells,
            sizes,
        }
    }

    fn size(&self, c: &Coord) -> f64 {
        self.sizes.get(c).copied().unwrap_or(0.0)
    }

    fn suppressed(&self, c: &Coord) -> bool {
        self.cells.get(c).is_some_and(|c| c.suppressed)
    }

    /// Primary, then secondary suppression.
    fn protect(&mut self) {
        let threshold = f64::from(self.threshold);
        let mut primary: Vec<(Coord, f64)> = Vec::new();
        for (coord, cell) in &mut self.cells {
            let small = |v: f64| v > 0.0 && v < threshold;
            if small(cell.size) || small(cell.own) {
                cell.suppressed = true;
                // (Small by its own breakdown only: empty in the finest cells, nothing to
                // protect it from.)
                if cell.size > 0.0 {
                    primary.push((*coord, cell.size));
                }
            }
        }
        // Finest cells first, then by size: fine small cells are the usual case, and the
        // hypercubes chosen for them often cover the totals that are small too.
        primary.sort_by(|a, b| {
            let depth =
                |c: &Coord| c.iter().enumerate().map(|(i, p)| usize::from(self.axes[i].level(*p))).sum::<usize>();
            depth(&b.0).cmp(&depth(&a.0)).then(a.1.total_cmp(&b.1)).then(a.0.cmp(&b.0))
        });
        let mut protected: HashSet<Coord> = HashSet::new();
        for (target, _) in primary {
            if protected.contains(&target) {
                continue;
            }
            let Some(corners) = self.best_hypercube(&target) else {
                // Nothing fits (it should not happen: the hypercube towards the totals
                // always does). Publish nothing rather than risk a cell.
                tracing::warn!(indicator = %self.indicator, "no hypercube protects a small cell: the whole table is withheld");
                for cell in self.cells.values_mut() {
                    cell.suppressed = true;
                }
                return;
            };
            for c in corners {
                if let Some(cell) = self.cells.get_mut(&c) {
                    cell.suppressed = true;
                }
                protected.insert(c);
            }
        }
    }

    /// The ways one axis can move away from `p` and back so that every total along it stays
    /// the same: lists of (position, sign), `p` first with `+1`.
    fn moves(&self, axis: usize, p: u32) -> Vec<Vec<(u32, i8)>> {
        let a = &self.axes[axis];
        let mut out = Vec::new();
        let deep = a.levels.contains(&2);
        match a.level(p) {
            0 => {
                for &c in &a.children[0] {
                    if deep {
                        for &leaf in &a.children[c as usize] {
                            out.push(vec![(p, 1), (c, 1), (leaf, 1)]);
                        }
                    } else {
                        out.push(vec![(p, 1), (c, 1)]);
                    }
                }
            }
            1 if deep => {
                for &leaf in &a.children[p as usize] {
                    out.push(vec![(p, 1), (leaf, 1), (TOTAL, 1)]);
                    for &other in a.children[0].iter().filter(|o| **o != p) {
                        for &leaf2 in &a.children[other as usize] {
                            out.push(vec![(p, 1), (leaf, 1), (other, -1), (leaf2, -1)]);
                        }
                    }
                }
            }
            1 => {
                out.push(vec![(p, 1), (TOTAL, 1)]);
                for &b in a.children[0].iter().filter(|b| **b != p) {
                    out.push(vec![(p, 1), (b, -1)]);
                }
            }
            _ => {
                let parent = a.parents[p as usize];
                for &b in a.children[parent as usize].iter().filter(|b| **b != p) {
                    out.push(vec![(p, 1), (b, -1)]);
                }
                out.push(vec![(p, 1), (parent, 1), (TOTAL, 1)]);
                for &other in a.children[0].iter().filter(|o| **o != parent) {
                    for &leaf2 in &a.children[other as usize] {
                        out.push(vec![(p, 1), (parent, 1), (other, -1), (leaf2, -1)]);
                    }
                }
            }
        }
        out
    }

    /// The corners of the hypercube through `target` that hides the least, among those
    /// whose every corner holds someone.
    fn best_hypercube(&self, target: &Coord) -> Option<Vec<Coord>> {
        // Each axis's moves, the cheapest first (judged on the line through the target).
        let mut per_axis: Vec<Vec<Vec<(u32, i8)>>> = Vec::with_capacity(AXES);
        for axis in 0..AXES {
            let mut moves = self.moves(axis, target[axis]);
            if moves.is_empty() {
                // An axis with nothing but the total (the indicator has no such breakdown).
                moves.push(vec![(target[axis], 1)]);
            }
            let line_cost = |m: &Vec<(u32, i8)>| {
                let mut cost = 0.0;
                for (p, _) in &m[1..] {
                    let mut c = *target;
                    c[axis] = *p;
                    let size = self.size(&c);
                    if size <= 0.0 {
                        return f64::INFINITY;
                    }
                    if !self.suppressed(&c) {
                        cost += size;
                    }
                }
                cost + m.len() as f64 * 1e-6
            };
            let mut scored: Vec<(f64, Vec<(u32, i8)>)> = moves.into_iter().map(|m| (line_cost(&m), m)).collect();
            scored.sort_by(|a, b| a.0.total_cmp(&b.0));
            per_axis.push(scored.into_iter().map(|(_, m)| m).collect());
        }
        // Try the best few moves per axis, then more.
        for keep in [3, 8, usize::MAX] {
            let choices: Vec<&[Vec<(u32, i8)>]> = per_axis.iter().map(|m| &m[..m.len().min(keep)]).collect();
            let combinations: usize = choices.iter().map(|c| c.len()).product();
            if combinations > 200_000 {
                continue;
            }
            let mut best: Option<(f64, Vec<Coord>)> = None;
            let mut pick = [0usize; AXES];
            'all: loop {
                let corners =
                    corners(&[&choices[0][pick[0]], &choices[1][pick[1]], &choices[2][pick[2]], &choices[3][pick[3]]]);
                let mut cost = 0.0;
                let mut fits = true;
                for c in &corners {
                    let size = self.size(c);
                    if size <= 0.0 {
                        fits = false;
                        break;
                    }
                    if !self.suppressed(c) {
                        cost += size + 1.0;
                    }
                }
                if fits && best.as_ref().is_none_or(|(b, _)| cost < *b) {
                    best = Some((cost, corners));
                }
                for axis in (0..AXES).rev() {
                    pick[axis] += 1;
                    if pick[axis] < choices[axis].len() {
                        continue 'all;
                    }
                    pick[axis] = 0;
                }
                break;
            }
            if let Some((_, corners)) = best {
                return Some(corners);
            }
            if keep == usize::MAX || per_axis.iter().all(|m| m.len() <= keep) {
                break;
            }
        }
        self.towards_the_totals(target)
    }

    /// The box that always fits: take the largest finest cell `x` under the target, and in
    /// every dimension the chain from `x`'s position up to the total (an area, its country,
    /// the region: all `+`). Every corner is a total of `x` and more, so it holds at least
    /// what `x` holds.
    fn towards_the_totals(&self, target: &Coord) -> Option<Vec<Coord>> {
        let finest: Vec<u8> = self.axes.iter().map(|a| a.levels.iter().copied().max().unwrap_or(0)).collect();
        let chain = |axis: usize, mut p: u32| {
            let mut out = vec![p];
            while p != TOTAL {
                p = self.axes[axis].parents[p as usize];
                out.push(p);
            }
            out
        };
        let under =
            |c: &Coord| (0..AXES).all(|i| self.axes[i].level(c[i]) == finest[i] && chain(i, c[i]).contains(&target[i]));
        let (x, _) = self
            .cells
            .iter()
            .filter(|(c, cell)| cell.size > 0.0 && under(c))
            .max_by(|a, b| a.1.size.total_cmp(&b.1.size).then(b.0.cmp(a.0)))?;
        let moves: Vec<Vec<(u32, i8)>> =
            (0..AXES).map(|i| chain(i, x[i]).into_iter().map(|p| (p, 1)).collect()).collect();
        let corners = corners(&[&moves[0], &moves[1], &moves[2], &moves[3]]);
        corners.iter().all(|c| self.size(c) > 0.0).then_some(corners)
    }

    /// How many cells are published and how many are not.
    pub fn counts(&self) -> (usize, usize) {
        let hidden = self.cells.values().filter(|c| c.suppressed).count();
        (self.cells.len() - hidden, hidden)
    }

    /// Answers a public question: a breakdown by some of [`Protected::dims`], each filtered
    /// to at most one value. Suppressed rows are left out (and counted).
    pub fn answer(&self, by: &[Dim], filters: &[(Dim, Vec<String>)]) -> Result<Answer, QueryError> {
        let mut problems = Vec::new();
        let allowed = self.dims.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ");
        for d in by {
            if !self.dims.contains(d) {
                problems.push(FieldError::new(
                    "by",
                    format!("public figures of {} can be broken down by {allowed}, not by {d}", self.indicator),
                ));
            }
        }
        let mut fixed: [Option<String>; 5] = Default::default();
        for (d, values) in filters.iter().filter(|(_, v)| !v.is_empty()) {
            match PUBLIC_DIMS.iter().position(|p| p == d) {
                Some(i) if self.dims.contains(d) && values.len() == 1 => fixed[i] = Some(values[0].clone()),
                Some(_) if self.dims.contains(d) => problems.push(FieldError::new(
                    d.as_str(),
                    "public figures take one value per filter: ask for each value in turn",
                )),
                _ => problems.push(FieldError::new(
                    d.as_str(),
                    format!("public figures of {} can be filtered by {allowed}, not by {d}", self.indicator),
                )),
            }
        }
        let [f_round, f_country, f_adm1, f_sex, f_age] = fixed;
        if by.contains(&Dim::Country) && !by.contains(&Dim::Adm1) && f_adm1.is_some() {
            problems.push(FieldError::new("adm1", "an admin 1 area cannot be broken down by country"));
        }
        if !problems.is_empty() {
            return Err(QueryError::Invalid(problems));
        }
        // What each axis may be: a value given by a filter, or any value of the breakdown.
        let flat = |axis: usize, dim: Dim, filter: &Option<String>| -> Option<Vec<u32>> {
            let a = &self.axes[axis];
            let fixed = match filter {
                Some(v) => Some(a.find(1, v)?),
                None => None,
            };
            Some(if by.contains(&dim) {
                a.children[0].iter().copied().filter(|p| fixed.is_none_or(|f| f == *p)).collect()
            } else {
                vec![fixed.unwrap_or(TOTAL)]
            })
        };
        let geo = || -> Option<Vec<u32>> {
            let a = &self.axes[GEO];
            let country = match &f_country {
                Some(c) => Some(a.find(1, c)?),
                None => None,
            };
            let area = match &f_adm1 {
                Some(code) => {
                    let p = a.find(2, code)?;
                    if country.is_some_and(|c| a.parents[p as usize] != c) {
                        return None;
                    }
                    Some(p)
                }
                None => None,
            };
            Some(if by.contains(&Dim::Adm1) {
                let countries: Vec<u32> = country.map_or_else(|| a.children[0].clone(), |c| vec![c]);
                countries
                    .iter()
                    .flat_map(|c| a.children[*c as usize].iter().copied())
                    .filter(|p| area.is_none_or(|x| x == *p))
                    .collect()
            } else if by.contains(&Dim::Country) {
                a.children[0].iter().copied().filter(|p| country.is_none_or(|c| c == *p)).collect()
            } else {
                vec![area.or(country).unwrap_or(TOTAL)]
            })
        };
        let (Some(rounds), Some(places), Some(sexes), Some(ages)) =
            (flat(ROUND, Dim::Round, &f_round), geo(), flat(SEX, Dim::Sex, &f_sex), flat(AGE, Dim::AgeGroup, &f_age))
        else {
            // A value nobody has: nothing to say.
            return Ok(self.empty(by));
        };
        let mut rows = Vec::new();
        let mut suppressed_rows = 0;
        for &r in &rounds {
            for &g in &places {
                for &s in &sexes {
                    for &a in &ages {
                        let coord = [r, g, s, a];
                        let Some(cell) = self.cells.get(&coord) else { continue };
                        if cell.suppressed {
                            suppressed_rows += 1;
                            continue;
                        }
                        if by.is_empty() {
                            continue;
                        }
                        rows.push(Row { keys: self.keys(by, &coord), estimate: cell.estimate });
                    }
                }
            }
        }
        // The total: the same cell with the breakdowns at their totals (or their filters).
        let mut total_coord = [TOTAL; AXES];
        total_coord[ROUND] = f_round.as_ref().and_then(|r| self.axes[ROUND].find(1, r)).unwrap_or(TOTAL);
        let g = &self.axes[GEO];
        total_coord[GEO] = f_adm1
            .as_ref()
            .and_then(|a| g.find(2, a))
            .or_else(|| f_country.as_ref().and_then(|c| g.find(1, c)))
            .unwrap_or(TOTAL);
        total_coord[SEX] = f_sex.as_ref().and_then(|v| self.axes[SEX].find(1, v)).unwrap_or(TOTAL);
        total_coord[AGE] = f_age.as_ref().and_then(|v| self.axes[AGE].find(1, v)).unwrap_or(TOTAL);
        let total = match self.cells.get(&total_coord) {
            Some(c) if c.suppressed => Estimate { suppressed: true, ..Estimate::default() },
            Some(c) => c.estimate,
            None => Estimate::default(),
        };
        if by.is_empty() {
            suppressed_rows = 0;
        }
        rows.sort_by(|a, b| a.keys.values().cmp(b.keys.values()));
        Ok(Answer {
            indicator: self.indicator.clone(),
            kind: self.kind,
            by: by.to_vec(),
            weighted: self.weighted,
            cube: "public".to_owned(),
            rows,
            suppressed_rows,
            total,
        })
    }

    fn empty(&self, by: &[Dim]) -> Answer {
        Answer {
            indicator: self.indicator.clone(),
            kind: self.kind,
            by: by.to_vec(),
            weighted: self.weighted,
            cube: "public".to_owned(),
            rows: Vec::new(),
            suppressed_rows: 0,
            total: Estimate::default(),
        }
    }

    fn keys(&self, by: &[Dim], coord: &Coord) -> BTreeMap<String, String> {
        let mut keys = BTreeMap::new();
        // An admin-1 row says its country too: areas without a p-code are one per country.
        let with_country = by.contains(&Dim::Adm1) && !by.contains(&Dim::Country);
        for d in by.iter().chain(with_country.then_some(&Dim::Country)) {
            let code = match d {
                Dim::Country => {
                    let g = &self.axes[GEO];
                    let p = coord[GEO];
                    if g.level(p) == 2 {
                        g.codes[g.parents[p as usize] as usize].clone()
                    } else {
                        g.codes[p as usize].clone()
                    }
                }
                Dim::Adm1 => self.axes[GEO].codes[coord[GEO] as usize].clone(),
                Dim::Round => self.axes[ROUND].codes[coord[ROUND] as usize].clone(),
                Dim::Sex => self.axes[SEX].codes[coord[SEX] as usize].clone(),
                Dim::AgeGroup => self.axes[AGE].codes[coord[AGE] as usize].clone(),
                _ => continue,
            };
            keys.insert(d.as_str().to_owned(), code);
        }
        keys
    }
}

/// The corners of a hypercube: one move per axis.
fn corners(moves: &[&Vec<(u32, i8)>; AXES]) -> Vec<Coord> {
    let mut out = vec![[TOTAL; AXES]];
    for (axis, m) in moves.iter().enumerate() {
        let mut next = Vec::with_capacity(out.len() * m.len());
        for c in &out {
            for (p, _) in *m {
                let mut c = *c;
                c[axis] = *p;
                next.push(c);
            }
        }
        out = next;
    }
    out
}

/// The attacker's side. `published` are sums over sets of unknowns (each a list of
/// unknown indexes and the sum); returns, for each of `targets` (also lists of unknown
/// indexes), whether the published sums determine it exactly — whether it is a linear
/// combination of them. Gaussian elimination with partial pivoting; meant for tables of a
/// few thousand unknowns.
pub fn recoverable(unknowns: usize, published: &[Vec<usize>], targets: &[Vec<usize>]) -> Vec<bool> {
    // Row-reduce the published rows.
    let mut basis: Vec<(usize, Vec<f64>)> = Vec::new();
    let reduce = |row: &mut Vec<f64>, basis: &[(usize, Vec<f64>)]| {
        for (pivot, b) in basis {
            let f = row[*pivot];
            if f.abs() > 1e-9 {
                for (x, y) in row.iter_mut().zip(b) {
                    *x -= f * y;
                }
            }
        }
    };
    for set in published {
        let mut row = vec![0.0; unknowns];
        for &i in set {
            row[i] += 1.0;
        }
        reduce(&mut row, &basis);
        let Some((pivot, &value)) = row.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())) else {
            continue;
        };
        if value.abs() < 1e-9 {
            continue;
        }
        for x in &mut row {
            *x /= value;
        }
        // Keep the basis fully reduced: clear the new pivot from the rows already in it.
        for (_, b) in &mut basis {
            let f = b[pivot];
            if f.abs() > 1e-9 {
                for (x, y) in b.iter_mut().zip(&row) {
                    *x -= f * y;
                }
            }
        }
        basis.push((pivot, row));
    }
    targets
        .iter()
        .map(|set| {
            let mut row = vec![0.0; unknowns];
            for &i in set {
                row[i] += 1.0;
            }
            reduce(&mut row, &basis);
            row.iter().all(|x| x.abs() < 1e-7)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic random generator (xorshift), so the tests need no crate.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn def(kind: &str, dims: &str) -> IndicatorDef {
        toml::from_str(&format!(
            r#"
id = "people"
form = "f"
kind = "{kind}"
name = {{ en = "People" }}
value = "1"
disaggregations = [{dims}]
"#
        ))
        .unwrap()
    }

    /// The finest cells of a random table: round × (country, adm1) × sex × age → count.
    type Finest = Vec<([String; 5], f64)>;

    fn random_finest(seed: u64) -> Finest {
        random_table(seed, false)
    }

    /// `sparse`: mostly empty cells and ones, as a survey's finest cells are.
    fn random_table(seed: u64, sparse: bool) -> Finest {
        let mut rng = Random(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut out = Vec::new();
        // Points without an admin-1 area count under "" in their country.
        let all = [
            ("COL", "CO05"),
            ("COL", "CO08"),
            ("COL", ""),
            ("PER", "PE15"),
            ("PER", "PE20"),
            ("PER", ""),
            ("ECU", "EC01"),
        ];
        // Tables of different shapes: a country with one area, or two, or three.
        let areas: Vec<(&str, &str)> = all.iter().copied().filter(|_| rng.below(6) != 0).collect();
        for round in ["1", "2"] {
            for &(country, adm1) in &areas {
                for sex in ["female", "male"] {
                    for age in ["0-4", "18-59", "60+"] {
                        // Mostly small numbers, some zeros, some large.
                        let v = match rng.below(10) {
                            0..=6 if sparse => 0,
                            7..=8 if sparse => 1 + rng.below(2),
                            0..=1 => 0,
                            2..=5 => 1 + rng.below(6),
                            _ => 5 + rng.below(40),
                        };
                        out.push(([round, country, adm1, sex, age].map(str::to_owned), v as f64));
                    }
                }
            }
        }
        out
    }

    /// Every breakdown of the finest cells, as the query engine would answer them.
    fn answers(finest: &Finest) -> Vec<Answer> {
        let dims = [Dim::Round, Dim::Country, Dim::Adm1, Dim::Sex, Dim::AgeGroup];
        let mut out = Vec::new();
        for mask in 0u32..32 {
            let by: Vec<Dim> = dims.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, d)| *d).collect();
            // Admin 1 always comes with its country.
            if by.contains(&Dim::Adm1) && !by.contains(&Dim::Country) {
                continue;
            }
            let mut sums: BTreeMap<Vec<String>, f64> = BTreeMap::new();
            let mut total = 0.0;
            for (key, v) in finest {
                let k: Vec<String> = dims
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(i, _)| key[i].clone())
                    .collect();
                *sums.entry(k).or_default() += v;
                total += v;
            }
            let rows = sums
                .into_iter()
                .filter(|(_, v)| *v > 0.0)
                .map(|(k, v)| Row {
                    keys: by.iter().map(|d| d.as_str().to_owned()).zip(k).collect(),
                    estimate: Estimate { value: Some(v), n: v as i64, ..Estimate::default() },
                })
                .collect();
            out.push(Answer {
                indicator: "people".into(),
                kind: Kind::Count,
                by,
                weighted: false,
                cube: "strata".into(),
                rows,
                suppressed_rows: 0,
                total: Estimate { value: Some(total), n: total as i64, ..Estimate::default() },
            });
        }
        out
    }

    /// Everything a reader can get, then an attack on every hidden cell.
    fn attack(table: &Protected, finest: &Finest) -> (usize, usize) {
        let dims = [Dim::Round, Dim::Country, Dim::Adm1, Dim::Sex, Dim::AgeGroup];
        let index: HashMap<[String; 5], usize> = finest.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect();
        // The finest cells a published figure is the sum of.
        let members = |keys: &BTreeMap<String, String>, filters: &[(Dim, Vec<String>)]| -> Vec<usize> {
            finest
                .iter()
                .filter(|(k, _)| {
                    dims.iter().enumerate().all(|(i, d)| {
                        let want = keys
                            .get(d.as_str())
                            .or_else(|| filters.iter().find(|(f, _)| f == d).and_then(|(_, v)| v.first()));
                        want.is_none_or(|w| *w == k[i])
                    })
                })
                .map(|(k, _)| index[k])
                .collect()
        };
        let mut published: Vec<Vec<usize>> = Vec::new();
        let mut values: Vec<f64> = Vec::new();
        // Every breakdown, with single-value filters on the other dimensions.
        let mut filter_sets: Vec<Vec<(Dim, Vec<String>)>> = vec![vec![]];
        for (i, d) in dims.iter().enumerate() {
            // (An area without a p-code cannot be asked for by name.)
            let mut seen: Vec<String> = finest.iter().map(|(k, _)| k[i].clone()).filter(|v| !v.is_empty()).collect();
            seen.sort();
            seen.dedup();
            let mut more = Vec::new();
            // Up to two filters: every cell of the table is reached with fewer.
            for set in filter_sets.iter().filter(|s| s.len() < 2) {
                for v in &seen {
                    let mut s = set.clone();
                    s.push((*d, vec![v.clone()]));
                    more.push(s);
                }
            }
            filter_sets.extend(more);
        }
        for mask in 0u32..32 {
            let by: Vec<Dim> = dims.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, d)| *d).collect();
            for filters in &filter_sets {
                let filters: Vec<(Dim, Vec<String>)> =
                    filters.iter().filter(|(d, _)| !by.contains(d)).cloned().collect();
                let Ok(answer) = table.answer(&by, &filters) else { continue };
                for row in &answer.rows {
                    published.push(members(&row.keys, &filters));
                    values.push(row.estimate.value.unwrap());
                }
                if let Some(v) = answer.total.value {
                    published.push(members(&BTreeMap::new(), &filters));
                    values.push(v);
                }
            }
        }
        // Published values are the true sums, and none is small.
        for (set, v) in published.iter().zip(&values) {
            let truth: f64 = set.iter().map(|&i| finest[i].1).sum();
            assert!((truth - v).abs() < 1e-9, "published {v}, true {truth}");
            assert!(*v == 0.0 || *v >= f64::from(table.threshold), "a small figure was published: {v}");
        }
        // The hidden cells: every cell of the table that is suppressed.
        let mut targets = Vec::new();
        for (coord, cell) in &table.cells {
            if cell.suppressed {
                // The dimensions of the cell that are not at their total.
                let mut by = Vec::new();
                for (axis, dim) in [(ROUND, Dim::Round), (SEX, Dim::Sex), (AGE, Dim::AgeGroup)] {
                    if coord[axis] != TOTAL {
                        by.push(dim);
                    }
                }
                match table.axes[GEO].level(coord[GEO]) {
                    0 => {}
                    1 => by.push(Dim::Country),
                    _ => by.extend([Dim::Country, Dim::Adm1]),
                }
                let keys = table.keys(&by, coord);
                targets.push(members(&keys, &[]));
            }
        }
        published.sort();
        published.dedup();
        let found = recoverable(finest.len(), &published, &targets);
        (targets.len(), found.iter().filter(|f| **f).count())
    }

    #[test]
    fn nothing_hidden_can_be_recomputed_from_everything_published() {
        let mut hidden_total = 0;
        for seed in 1..=8 {
            let finest = random_finest(seed);
            let mut d = def("count", r#""round", "country", "adm1", "sex", "age_group""#);
            // Thresholds of 3, 5, 10.
            d.suppression = [3, 5, 10][(seed % 3) as usize];
            let mut table = Protected::from_answers(&d, public_dims(&d), &answers(&finest));
            table.protect();
            let (hidden, recovered) = attack(&table, &finest);
            hidden_total += hidden;
            assert_eq!(recovered, 0, "seed {seed}: {recovered} of {hidden} hidden cells recomputed");
        }
        assert!(hidden_total > 50, "the random tables should have small cells to hide ({hidden_total})");
    }

    #[test]
    fn sparse_tables_are_protected_without_being_withheld() {
        for seed in 20..=27 {
            let finest = random_table(seed, true);
            let d = def("count", r#""round", "country", "adm1", "sex", "age_group""#);
            let mut table = Protected::from_answers(&d, public_dims(&d), &answers(&finest));
            table.protect();
            let (shown, hidden) = table.counts();
            assert!(shown > 0, "seed {seed}: the whole table was withheld ({hidden} hidden)");
            let (_, recovered) = attack(&table, &finest);
            assert_eq!(recovered, 0, "seed {seed}");
        }
    }

    #[test]
    fn the_attack_finds_what_one_table_suppression_leaves_open() {
        // Hiding the small cells alone (no hypercubes) lets most of them be recomputed:
        // the attack is not toothless.
        let finest = random_finest(3);
        let d = def("count", r#""round", "country", "adm1", "sex", "age_group""#);
        let mut table = Protected::from_answers(&d, public_dims(&d), &answers(&finest));
        for cell in table.cells.values_mut() {
            cell.suppressed = cell.size > 0.0 && cell.size < 5.0;
        }
        let (hidden, recovered) = attack(&table, &finest);
        assert!(hidden > 0 && recovered > 0, "{recovered} of {hidden}");
    }

    #[test]
    fn a_sensitive_topic_has_no_admin_1_in_public() {
        let mut d = def("count", r#""round", "country", "adm1", "sex""#);
        assert!(public_dims(&d).contains(&Dim::Adm1));
        d.sensitive_topic = true;
        assert_eq!(public_dims(&d), [Dim::Round, Dim::Country, Dim::Sex]);
        let finest = random_finest(5);
        let answers: Vec<Answer> = answers(&finest)
            .into_iter()
            .filter(|a| !a.by.contains(&Dim::Adm1) && !a.by.contains(&Dim::AgeGroup))
            .collect();
        let mut table = Protected::from_answers(&d, public_dims(&d), &answers);
        table.protect();
        let e = table.answer(&[Dim::Adm1], &[]).unwrap_err();
        assert!(e.to_string().contains("not by adm1"), "{e}");
        assert!(table.answer(&[], &[(Dim::Adm1, vec!["CO05".into()])]).is_err());
        assert!(table.answer(&[Dim::Country, Dim::Sex], &[]).is_ok());
    }

    #[test]
    fn public_questions_are_checked() {
        let finest = random_finest(7);
        let d = def("count", r#""round", "country", "adm1", "sex", "age_group""#);
        let mut table = Protected::from_answers(&d, public_dims(&d), &answers(&finest));
        table.protect();
        let two = table.answer(&[Dim::Sex], &[(Dim::Country, vec!["COL".into(), "PER".into()])]).unwrap_err();
        assert!(two.to_string().contains("one value per filter"), "{two}");
        let site = table.answer(&[Dim::Site], &[]).unwrap_err();
        assert!(site.to_string().contains("not by site"), "{site}");
        // A country's admin 1 areas, and their total is the country's.
        let a = table.answer(&[Dim::Adm1], &[(Dim::Country, vec!["PER".into()])]).unwrap();
        assert!(
            a.rows
                .iter()
                .all(|r| r.keys["country"] == "PER" && (r.keys["adm1"].starts_with("PE") || r.keys["adm1"].is_empty()))
        );
        let country: f64 = finest.iter().filter(|(k, _)| k[1] == "PER").map(|(_, v)| v).sum();
        if !a.total.suppressed {
            assert_eq!(a.total.value, Some(country));
        }
        // An unknown value is an empty answer, not an error.
        assert!(table.answer(&[Dim::Sex], &[(Dim::Country, vec!["XXX".into()])]).unwrap().rows.is_empty());
    }

    #[test]
    fn recoverable_solves_what_is_determined() {
        // x0 + x1 = a, x0 = b  ⇒ x1 determined; x2 + x3 = c alone determines neither.
        let found = recoverable(4, &[vec![0, 1], vec![0], vec![2, 3]], &[vec![1], vec![2], vec![2, 3], vec![3]]);
        assert_eq!(found, [true, false, true, false]);
    }
}
