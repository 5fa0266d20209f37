//! Value axes with round steps.

use crate::locale::{Format, Locale};

/// A value axis: its extent (always including zero), its ticks, and how many decimals the
/// tick labels need.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
    decimals: usize,
    format: Format,
}

impl Axis {
    /// An axis covering `min..=max` and zero, in steps of 1, 2 or 5 × 10ⁿ: the smallest step
    /// giving at most `max_ticks` intervals, or the next smaller one when that wastes less
    /// room past the largest value and still gives at most `max_ticks + 2`.
    /// `min` and `max` must be finite (callers pass 0 when they have no value).
    pub fn new(min: f64, max: f64, max_ticks: usize, format: Format) -> Axis {
        // Beyond ±1e200 the steps themselves would overflow; no count comes near.
        let lo = if min.is_finite() { min.clamp(-1e200, 0.0) } else { 0.0 };
        let mut hi = if max.is_finite() { max.clamp(0.0, 1e200) } else { 0.0 };
        let smallest = match format {
            Format::Count => 1.0,
            Format::Percent => 0.001,
            Format::Decimal(d) => 10f64.powi(-(d.min(6) as i32)),
        };
        if hi - lo <= 0.0 {
            hi = if matches!(format, Format::Percent) { 0.1 } else { smallest.max(1.0) };
        }
        let parts = max_ticks.max(1) as f64;
        let span = |step: f64| ((lo / step + 1e-9).floor() as i64, (hi / step - 1e-9).ceil() as i64);
        let mut step = nice_step(hi / parts - lo / parts).max(smallest);
        let finer = smaller_step(step);
        if finer >= smallest {
            let (coarse, fine) = (span(step), span(finer));
            let waste = |(first, last): (i64, i64), step: f64| (last as f64 * step - hi) + (lo - first as f64 * step);
            if fine.1 - fine.0 <= max_ticks as i64 + 2 && waste(fine, finer) < waste(coarse, step) - 1e-12 {
                step = finer;
            }
        }
        let (first, last) = span(step);
        // A range far smaller than the smallest step still gets two ticks.
        let last = last.max(first + 1);
        let ticks: Vec<f64> = (first..=last).map(|i| i as f64 * step).collect();
        let decimals = match format {
            Format::Count => 0,
            Format::Percent => decimals_for(step * 100.0),
            Format::Decimal(_) => decimals_for(step),
        };
        Axis { lo: ticks[0], hi: ticks[ticks.len() - 1], ticks, decimals, format }
    }

    /// Where `v` falls between `from` (at `lo`) and `to` (at `hi`).
    pub fn at(&self, v: f64, from: f64, to: f64) -> f64 {
        from + (v - self.lo) / (self.hi - self.lo) * (to - from)
    }

    /// A tick's label, with only the decimals the step needs.
    pub fn label(&self, v: f64, locale: &Locale) -> String {
        match self.format {
            Format::Percent => locale.percent_with(v, self.decimals),
            Format::Count | Format::Decimal(_) => locale.number(v, self.decimals),
        }
    }
}

/// The round step (1, 2 or 5 × 10ⁿ) at least as large as `raw`.
pub(crate) fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 + 1e-9 {
        1.0
    } else if fraction <= 2.0 + 1e-9 {
        2.0
    } else if fraction <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// The round step just below `step` (5 → 2, 2 → 1, 1 → 0.5).
fn smaller_step(step: f64) -> f64 {
    let magnitude = 10f64.powf(step.log10().floor());
    let fraction = (step / magnitude).round();
    if fraction >= 5.0 {
        2.0 * magnitude
    } else if fraction >= 2.0 {
        magnitude
    } else {
        0.5 * magnitude
    }
}

/// Decimals needed to write multiples of `step` exactly (0.25 → 2, 5 → 0).
fn decimals_for(step: f64) -> usize {
    (0..6)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_five() {
        assert!((nice_step(0.7) - 1.0).abs() < 1e-12);
        assert!((nice_step(1.3) - 2.0).abs() < 1e-12);
        assert!((nice_step(3.0) - 5.0).abs() < 1e-12);
        assert!((nice_step(7.0) - 10.0).abs() < 1e-12);
        assert!((nice_step(2300.0) - 5000.0).abs() < 1e-9);
        assert!((nice_step(0.013) - 0.02).abs() < 1e-12);
        assert!((nice_step(f64::NAN) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn counts() {
        let axis = Axis::new(0.0, 12345.0, 5, Format::Count);
        assert_eq!(axis.ticks, (0..=7).map(|i| f64::from(i) * 2000.0).collect::<Vec<_>>());
        let es = Locale::for_lang("es");
        let labels: Vec<String> = axis.ticks.iter().map(|&t| axis.label(t, &es)).collect();
        assert_eq!(labels, ["0", "2000", "4000", "6000", "8000", "10.000", "12.000", "14.000"]);
        // 0–10.000 in fives wastes nothing; 0–9000 in twos would not.
        assert_eq!(Axis::new(0.0, 8412.0, 5, Format::Count).ticks.last(), Some(&10000.0));
        // A count axis never steps by fractions of a person.
        assert_eq!(Axis::new(0.0, 3.0, 10, Format::Count).ticks, vec![0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn percentages() {
        let axis = Axis::new(0.0, 0.234, 5, Format::Percent);
        let en = Locale::for_lang("en");
        let labels: Vec<String> = axis.ticks.iter().map(|&t| axis.label(t, &en)).collect();
        assert_eq!(labels, ["0%", "5%", "10%", "15%", "20%", "25%"]);
        assert!((Axis::new(0.0, 0.66, 5, Format::Percent).hi - 0.7).abs() < 1e-9);
        let fine = Axis::new(0.0, 0.012, 4, Format::Percent);
        assert_eq!(fine.label(fine.ticks[1], &en), "0.2%");
    }

    #[test]
    fn negative_empty_and_huge() {
        let axis = Axis::new(-3.0, 8.0, 5, Format::Decimal(1));
        assert_eq!(axis.ticks, vec![-4.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0]);
        let empty = Axis::new(0.0, 0.0, 5, Format::Count);
        assert_eq!(empty.ticks, vec![0.0, 1.0]);
        assert_eq!(Axis::new(0.0, 1e-12, 5, Format::Percent).ticks.len(), 2);
        let huge = Axis::new(-f64::MAX, f64::MAX, 5, Format::Count);
        assert!(huge.ticks.len() <= 12 && huge.ticks.iter().all(|t| t.is_finite()));
        assert!((Axis::new(0.0, 0.3, 3, Format::Decimal(2)).hi - 0.3).abs() < 1e-9);
    }
}
