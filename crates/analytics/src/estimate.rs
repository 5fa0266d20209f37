//! The estimators: from cell sums to a figure with its 95% confidence interval.
//! The formulas are written out in `docs/methodology.md`; the tests below check them
//! against examples computed by hand.
//!
//! Notation for one group of units (a row of the answer): `Y` = sum of the values (or of
//! the numerator), `Y2` = sum of their squares, `D` = sum of the denominator, `n` = units.
//! Values are 0/1 for a proportion, and a unit outside the denominator brings 0 to the
//! numerator, so `y·d = y` and `d² = d` for every unit.

use rumbo_store::analytics::CellValues;
use serde::Serialize;
use utoipa::ToSchema;

use crate::definition::Kind;

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A figure with what is needed to read it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct Estimate {
    /// The figure: a count, a sum, a share between 0 and 1, or a mean. `None` when there
    /// is nothing to compute it from, or when it is suppressed.
    pub value: Option<f64>,
    /// 95% confidence interval (proportions and means).
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// Unweighted units the figure is computed from (for a proportion, the units in its
    /// denominator; for a mean, the units with a value).
    pub n: i64,
    /// Weighted: the estimated number of people the denominator stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted_base: Option<f64>,
    /// Hidden because the cell is smaller than the indicator's threshold.
    pub suppressed: bool,
}

/// One stratum's share of a group, for weighted estimates.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stratum {
    /// Sums over the group's units in this stratum.
    pub values: CellValues,
    /// Every survey unit in the stratum, in the group or not (`n_h`).
    pub units: i64,
    /// The registry count of the stratum (`N_h`).
    pub population: f64,
}

/// The unweighted estimate of one group.
pub fn unweighted(kind: Kind, v: &CellValues) -> Estimate {
    match kind {
        Kind::Count | Kind::Sum => Estimate { value: Some(v.num), n: v.n, ..Estimate::default() },
        Kind::Proportion => {
            let n = v.den.round() as i64;
            if v.den <= 0.0 {
                return Estimate { n, ..Estimate::default() };
            }
            let p = v.num / v.den;
            let (low, high) = wilson(p, v.den);
            Estimate { value: Some(p), low: Some(low), high: Some(high), n, ..Estimate::default() }
        }
        Kind::Mean => {
            let n = v.den.round() as i64;
            if v.den <= 0.0 {
                return Estimate { n, ..Estimate::default() };
            }
            let mean = v.num / v.den;
            if v.den < 2.0 {
                return Estimate { value: Some(mean), n, ..Estimate::default() };
            }
            // Sample variance s² = (Σy² − (Σy)²/m) / (m − 1); standard error s / √m.
            let variance = ((v.num2 - v.num * v.num / v.den) / (v.den - 1.0)).max(0.0);
            let se = (variance / v.den).sqrt();
            Estimate {
                value: Some(mean),
                low: Some(mean - Z95 * se),
                high: Some(mean + Z95 * se),
                n,
                ..Estimate::default()
            }
        }
    }
}

/// Wilson score interval of a share `p` out of `m` units.
pub fn wilson(p: f64, m: f64) -> (f64, f64) {
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * m)) / (1.0 + z2 / m);
    let half = Z95 / (1.0 + z2 / m) * (p * (1.0 - p) / m + z2 / (4.0 * m * m)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The post-stratified estimate of one group: each unit of stratum `h` weighs
/// `w_h = N_h / n_h`. `R = Σ w_h Y_hg / Σ w_h D_hg`, and its variance by linearisation
/// (Taylor series) for a stratified sample, the group treated as a domain:
/// `V(R) = Σ_h w_h² · n_h/(n_h − 1) · (Q_hg − S_hg²/n_h) / D²`, with
/// `S_hg = Y_hg − R·D_hg` and `Q_hg = Y2_hg − 2R·Y_hg + R²·D_hg`.
/// Strata without a registry count (or without units) weigh nothing.
#[allow(clippy::many_single_char_names)] // the formula's own names
pub fn weighted(kind: Kind, strata: &[Stratum]) -> Estimate {
    let weight = |s: &Stratum| if s.units > 0 && s.population > 0.0 { s.population / s.units as f64 } else { 0.0 };
    let n: f64 = strata.iter().map(|s| if weight(s) > 0.0 { s.values.den } else { 0.0 }).sum();
    let n = n.round() as i64;
    let y: f64 = strata.iter().map(|s| weight(s) * s.values.num).sum();
    let d: f64 = strata.iter().map(|s| weight(s) * s.values.den).sum();
    if d <= 0.0 || !matches!(kind, Kind::Proportion | Kind::Mean) {
        return Estimate { n, weighted_base: Some(d), ..Estimate::default() };
    }
    let r = y / d;
    let mut variance = 0.0;
    for s in strata {
        let w = weight(s);
        if w == 0.0 || s.units < 2 {
            continue;
        }
        let units = s.units as f64;
        let sum = s.values.num - r * s.values.den;
        let squares = s.values.num2 - 2.0 * r * s.values.num + r * r * s.values.den;
        variance += w * w * units / (units - 1.0) * (squares - sum * sum / units).max(0.0);
    }
    let se = (variance / (d * d)).sqrt();
    let (mut low, mut high) = (r - Z95 * se, r + Z95 * se);
    if kind == Kind::Proportion {
        low = low.max(0.0);
        high = high.min(1.0);
    }
    Estimate { value: Some(r), low: Some(low), high: Some(high), n, weighted_base: Some(d), suppressed: false }
}

/// Hides an estimate computed from fewer units (counts and sums: a smaller value) than
/// `threshold`. Zero is not hidden: it reveals nobody.
pub fn suppress(kind: Kind, e: &mut Estimate, threshold: u32) {
    let small = match kind {
        Kind::Count | Kind::Sum => e.value.is_some_and(|v| v > 0.0 && v < f64::from(threshold)),
        Kind::Proportion | Kind::Mean => e.n > 0 && e.n < i64::from(threshold),
    };
    if small {
        *e = Estimate { n: 0, suppressed: true, ..Estimate::default() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-4
    }

    fn cell(n: i64, num: f64, num2: f64, den: f64) -> CellValues {
        CellValues { n, num, num2, den }
    }

    #[test]
    fn a_proportion_has_its_wilson_interval() {
        // 30 of 100: p = 0.3. Wilson, z = 1.96: centre = (0.3 + 0.019208) / 1.038415 = 0.307400,
        // half = 1.96 / 1.038415 · √(0.0021 + 0.00009604) = 0.088458 → 0.2189 – 0.3959.
        let e = unweighted(Kind::Proportion, &cell(120, 30.0, 30.0, 100.0));
        assert_eq!(e.n, 100);
        assert!(close(e.value.unwrap(), 0.3));
        assert!(close(e.low.unwrap(), 0.218_942), "{e:?}");
        assert!(close(e.high.unwrap(), 0.395_858), "{e:?}");
        // Nothing in the denominator: no figure.
        assert_eq!(unweighted(Kind::Proportion, &cell(3, 0.0, 0.0, 0.0)).value, None);
    }

    #[test]
    fn a_mean_has_a_normal_interval() {
        // Values 2, 4, 6, 8: mean 5, s² = (120 − 400/4)/3 = 6.6667, se = √(6.6667/4) = 1.2910,
        // interval 5 ± 1.96 · 1.2910 = 2.4697 – 7.5303.
        let e = unweighted(Kind::Mean, &cell(5, 20.0, 120.0, 4.0));
        assert!(close(e.value.unwrap(), 5.0));
        assert!(close(e.low.unwrap(), 2.469_658), "{e:?}");
        assert!(close(e.high.unwrap(), 7.530_342), "{e:?}");
        assert_eq!(e.n, 4);
    }

    #[test]
    fn post_stratification_weighs_each_stratum_by_its_registry_count() {
        // Two strata. A: 10 interviews, 2 with the need, registry 900 people (w = 90).
        // B: 10 interviews, 8 with the need, registry 100 people (w = 10).
        // R = (90·2 + 10·8) / (90·10 + 10·10) = 260 / 1000 = 0.26 (unweighted: 0.5).
        // Variance: A: S = 2 − 0.26·10 = −0.6, Q = 2 − 2·0.26·2 + 0.0676·10 = 1.636,
        //   Q − S²/10 = 1.6; 90² · 10/9 · 1.6 = 14 400.
        // B: S = 8 − 2.6 = 5.4, Q = 8 − 4.16 + 0.676 = 4.516, Q − 2.916 = 1.6; 10² · 10/9 · 1.6 = 177.78.
        // V = 14 577.78 / 1000² = 0.014 578, se = 0.120 738; 0.26 ± 0.236 640.
        let strata = [
            Stratum { values: cell(10, 2.0, 2.0, 10.0), units: 10, population: 900.0 },
            Stratum { values: cell(10, 8.0, 8.0, 10.0), units: 10, population: 100.0 },
        ];
        let e = weighted(Kind::Proportion, &strata);
        assert!(close(e.value.unwrap(), 0.26));
        assert!(close(e.low.unwrap(), 0.26 - 0.236_640), "{e:?}");
        assert!(close(e.high.unwrap(), 0.26 + 0.236_640), "{e:?}");
        assert_eq!(e.n, 20);
        assert!(close(e.weighted_base.unwrap(), 1000.0));
    }

    #[test]
    fn a_group_is_a_domain_of_its_strata() {
        // One stratum of 10 interviews (registry 500, w = 50); the group holds 4 of them,
        // 1 with the need. R = 50·1 / 50·4 = 0.25.
        // S = 1 − 0.25·4 = 0, Q = 1 − 0.5 + 0.0625·4 = 0.75; V = 50² · 10/9 · 0.75 / 200² = 0.052 083,
        // se = 0.228 218.
        let e = weighted(Kind::Proportion, &[Stratum { values: cell(4, 1.0, 1.0, 4.0), units: 10, population: 500.0 }]);
        assert!(close(e.value.unwrap(), 0.25));
        assert!(close(e.high.unwrap(), 0.25 + Z95 * 0.228_218), "{e:?}");
        assert!(close(e.low.unwrap(), 0.0), "clipped at 0: {e:?}");
    }

    #[test]
    fn strata_without_registry_counts_weigh_nothing() {
        let strata = [
            Stratum { values: cell(10, 5.0, 5.0, 10.0), units: 10, population: 200.0 },
            Stratum { values: cell(10, 10.0, 10.0, 10.0), units: 10, population: 0.0 },
        ];
        let e = weighted(Kind::Proportion, &strata);
        assert!(close(e.value.unwrap(), 0.5));
        assert_eq!(e.n, 10);
        assert_eq!(weighted(Kind::Proportion, &[]).value, None);
    }

    #[test]
    fn small_cells_are_suppressed_but_zeros_are_not() {
        let mut e = unweighted(Kind::Proportion, &cell(4, 1.0, 1.0, 4.0));
        suppress(Kind::Proportion, &mut e, 5);
        assert!(e.suppressed && e.value.is_none() && e.low.is_none() && e.n == 0);
        let mut e = unweighted(Kind::Sum, &cell(1, 3.0, 9.0, 1.0));
        suppress(Kind::Sum, &mut e, 5);
        assert!(e.suppressed);
        let mut e = unweighted(Kind::Sum, &cell(1, 0.0, 0.0, 1.0));
        suppress(Kind::Sum, &mut e, 5);
        assert!(!e.suppressed && e.value == Some(0.0));
        let mut e = unweighted(Kind::Count, &cell(7, 7.0, 7.0, 7.0));
        suppress(Kind::Count, &mut e, 5);
        assert_eq!(e.value, Some(7.0));
    }
}
