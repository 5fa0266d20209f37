//! How numbers are written, and the few words a chart says, in each UI language.

/// What a number is, which decides how it is written and how the axis steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// People, households, submissions: no decimals; axis steps are whole numbers.
    Count,
    /// A share between 0 and 1, written as a percentage with one decimal (0.234 → "23,4 %").
    Percent,
    /// Any other quantity (an average household size, a score), with this many decimals.
    Decimal(usize),
}

/// The words a chart says by itself. Everything else (labels, titles) comes from the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartText {
    /// Shown when there is nothing to draw, and in the tooltip of an area without a value.
    pub no_data: String,
    /// Tooltip of a suppressed value (a cell too small to publish).
    pub suppressed: String,
    /// Names a confidence interval: "IC 95 %", "95% CI".
    pub ci: String,
    /// Opens the summary of the largest value in a chart's `<desc>`.
    pub highest: String,
    /// Opens the summary of the last value of each line in a chart's `<desc>`.
    pub latest: String,
}

/// Number formatting and chart words for one language (and, optionally, region).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locale {
    /// Groups thousands: '.' in es and pt, ',' in en.
    pub thousands: char,
    /// Separates decimals: ',' in es and pt, '.' in en.
    pub decimal: char,
    /// Grouping starts when the leading group would have at least this many digits (CLDR's
    /// `minimumGroupingDigits`): 2 in Spanish, where 1234 is written without a separator
    /// but 12.345 with one; 1 elsewhere.
    pub min_grouping: usize,
    /// A no-break space before '%' ("23,4 %" in Spanish; "23,4%" in Portuguese and English).
    pub percent_space: bool,
    /// The words charts say by themselves.
    pub text: ChartText,
}

/// Spanish-speaking regions that write 1,234.5 (CLDR: es-419 and those that follow it).
const ES_POINT_DECIMAL: &[&str] =
    &["419", "mx", "us", "pe", "gt", "hn", "ni", "sv", "pa", "do", "pr", "cu", "bz", "ph"];

impl Locale {
    /// The locale for a UI language tag: "es", "pt", "en", or one with a region ("es-MX",
    /// "pt_BR"). Plain "es" writes 12.345,6 (as in Colombia, Venezuela, Ecuador, Chile,
    /// Argentina); Spanish of Mexico, Central America, Peru and "es-419" writes 12,345.6.
    /// Anything unknown falls back to English.
    pub fn for_lang(tag: &str) -> Locale {
        let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
        let mut parts = tag.split('-');
        let lang = parts.next().unwrap_or_default();
        let region = parts.find(|p| p.len() == 2 || (p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit())));
        match lang {
            "es" => {
                let point = region.is_some_and(|r| ES_POINT_DECIMAL.contains(&r));
                Locale {
                    thousands: if point { ',' } else { '.' },
                    decimal: if point { '.' } else { ',' },
                    min_grouping: 2,
                    percent_space: true,
                    text: ChartText {
                        no_data: "Sin datos".into(),
                        suppressed: "dato suprimido: muy pocas respuestas para publicarlo".into(),
                        ci: "IC 95 %".into(),
                        highest: "Valor más alto".into(),
                        latest: "Último valor".into(),
                    },
                }
            }
            "pt" => Locale {
                thousands: '.',
                decimal: ',',
                min_grouping: 1,
                percent_space: false,
                text: ChartText {
                    no_data: "Sem dados".into(),
                    suppressed: "dado suprimido: poucas respostas para publicá-lo".into(),
                    ci: "IC 95%".into(),
                    highest: "Valor mais alto".into(),
                    latest: "Último valor".into(),
                },
            },
            _ => Locale {
                thousands: ',',
                decimal: '.',
                min_grouping: 1,
                percent_space: false,
                text: ChartText {
                    no_data: "No data".into(),
                    suppressed: "suppressed: too few responses to publish".into(),
                    ci: "95% CI".into(),
                    highest: "Highest value".into(),
                    latest: "Latest value".into(),
                },
            },
        }
    }

    /// `v` with `decimals` decimals and grouped thousands: 12345.6 → "12.345,6" (es).
    /// A value that is not finite is written "—".
    pub fn number(&self, v: f64, decimals: usize) -> String {
        if !v.is_finite() {
            return "—".into();
        }
        let digits = format!("{:.*}", decimals.min(12), v.abs());
        let (int, frac) = digits.split_once('.').unwrap_or((&digits, ""));
        let mut out = String::with_capacity(digits.len() + 6);
        // "-0,0" is not a number anyone writes: the sign only when something non-zero is left.
        if v < 0.0 && digits.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
            out.push('-');
        }
        let group = int.len() >= 3 + self.min_grouping.max(1);
        for (i, c) in int.chars().enumerate() {
            if group && i > 0 && (int.len() - i) % 3 == 0 {
                out.push(self.thousands);
            }
            out.push(c);
        }
        if !frac.is_empty() {
            out.push(self.decimal);
            out.push_str(frac);
        }
        out
    }

    /// A share as a percentage with one decimal: 0.234 → "23,4 %" (es), "23.4%" (en).
    pub fn percent(&self, share: f64) -> String {
        self.percent_with(share, 1)
    }

    /// A share as a percentage with `decimals` decimals.
    pub fn percent_with(&self, share: f64, decimals: usize) -> String {
        let mut out = self.number(share * 100.0, decimals);
        if share.is_finite() {
            if self.percent_space {
                out.push('\u{a0}');
            }
            out.push('%');
        }
        out
    }

    /// A value written as its format says: what tooltips and value labels show.
    pub fn format(&self, v: f64, format: Format) -> String {
        match format {
            Format::Count => self.number(v, 0),
            Format::Percent => self.percent(v),
            Format::Decimal(d) => self.number(v, d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_per_language() {
        let es = Locale::for_lang("es");
        let en = Locale::for_lang("en");
        let pt = Locale::for_lang("pt-BR");
        assert_eq!(es.number(12345.0, 0), "12.345");
        assert_eq!(en.number(12345.0, 0), "12,345");
        assert_eq!(pt.number(12345.0, 0), "12.345");
        assert_eq!(es.number(1234.0, 0), "1234", "Spanish groups from five digits");
        assert_eq!(pt.number(1234.0, 0), "1.234");
        assert_eq!(en.number(1_234_567.891, 2), "1,234,567.89");
        assert_eq!(es.number(1_234_567.891, 2), "1.234.567,89");
        assert_eq!(es.number(-0.04, 1), "0,0");
        assert_eq!(en.number(-1500.0, 0), "-1,500");
        assert_eq!(en.number(999.5, 0), "1,000");
        assert_eq!(en.number(f64::NAN, 0), "—");
        assert_eq!(en.number(f64::INFINITY, 0), "—");
    }

    #[test]
    fn percentages_per_language() {
        assert_eq!(Locale::for_lang("es").percent(0.234), "23,4\u{a0}%");
        assert_eq!(Locale::for_lang("pt").percent(0.234), "23,4%");
        assert_eq!(Locale::for_lang("en").percent(0.234), "23.4%");
        assert_eq!(Locale::for_lang("en").percent_with(0.5, 0), "50%");
        assert_eq!(Locale::for_lang("en").percent(f64::NAN), "—");
    }

    #[test]
    fn regions_and_fallback() {
        assert_eq!(Locale::for_lang("es-MX").number(12345.5, 1), "12,345.5");
        assert_eq!(Locale::for_lang("es_419").decimal, '.');
        assert_eq!(Locale::for_lang("es-CO").number(12345.5, 1), "12.345,5");
        assert_eq!(Locale::for_lang("es-Latn-PE").decimal, '.');
        assert_eq!(Locale::for_lang("fr"), Locale::for_lang("en"));
        assert_eq!(Locale::for_lang(" PT ").text.no_data, "Sem dados");
    }

    #[test]
    fn format_by_kind() {
        let en = Locale::for_lang("en");
        assert_eq!(en.format(1234.4, Format::Count), "1,234");
        assert_eq!(en.format(0.5, Format::Percent), "50.0%");
        assert_eq!(en.format(3.456, Format::Decimal(2)), "3.46");
    }
}
