//! Dates, dateTimes and times as ODK writes them, and their day numbers.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeDelta, Timelike};

const MILLIS_PER_DAY: f64 = 86_400_000.0;

/// A date or dateTime read from an answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Temporal {
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
}

impl Temporal {
    /// Days since 1970-01-01 (fractional for a dateTime, from its UTC instant).
    pub(crate) fn days(self) -> f64 {
        match self {
            Temporal::Date(d) => date_days(d),
            Temporal::DateTime(dt) => date_time_days(dt),
        }
    }

    /// The calendar date (a dateTime's date in its own offset).
    pub(crate) fn date(self) -> NaiveDate {
        match self {
            Temporal::Date(d) => d,
            Temporal::DateTime(dt) => dt.date_naive(),
        }
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a date")
}

pub(crate) fn date_days(d: NaiveDate) -> f64 {
    (d - epoch()).num_days() as f64
}

pub(crate) fn date_time_days(dt: DateTime<FixedOffset>) -> f64 {
    dt.timestamp_millis() as f64 / MILLIS_PER_DAY
}

/// The date `days` (rounded down) after 1970-01-01, if it is within range.
pub(crate) fn date_from_days(days: f64) -> Option<NaiveDate> {
    if !days.is_finite() || days.abs() > 100_000_000.0 {
        return None;
    }
    epoch().checked_add_signed(TimeDelta::try_days(days.floor() as i64)?)
}

/// The UTC instant `days` after 1970-01-01T00:00:00Z.
pub(crate) fn date_time_from_days(days: f64) -> Option<DateTime<FixedOffset>> {
    if !days.is_finite() || days.abs() > 100_000_000.0 {
        return None;
    }
    let utc = DateTime::from_timestamp_millis((days * MILLIS_PER_DAY).round() as i64)?;
    Some(utc.fixed_offset())
}

pub(crate) fn date_to_string(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn date_time_to_string(dt: DateTime<FixedOffset>) -> String {
    dt.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// Reads exactly `n` ASCII digits from the start of `s`.
fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

fn date_prefix(s: &str) -> Option<(NaiveDate, &str)> {
    let (year, rest) = digits(s, 4)?;
    let rest = rest.strip_prefix('-')?;
    let (month, rest) = digits(rest, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (day, rest) = digits(rest, 2)?;
    Some((NaiveDate::from_ymd_opt(year as i32, month, day)?, rest))
}

/// `hh:mm[:ss[.fff]]`, the remainder of the text after it.
fn time_prefix(s: &str) -> Option<(NaiveTime, &str)> {
    let (hour, rest) = digits(s, 2)?;
    let rest = rest.strip_prefix(':')?;
    let (minute, mut rest) = digits(rest, 2)?;
    let mut second = 0;
    let mut nanos = 0;
    if let Some(r) = rest.strip_prefix(':') {
        (second, rest) = digits(r, 2)?;
        if let Some(r) = rest.strip_prefix('.') {
            let len = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            if len == 0 {
                return None;
            }
            let fraction = &r[..len.min(9)];
            nanos = fraction.parse::<u32>().ok()? * 10u32.pow(9 - fraction.len() as u32);
            rest = &r[len..];
        }
    }
    Some((NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?, rest))
}

/// `Z`, `±hh:mm`, `±hhmm` or `±hh`; `None` if the text is not exactly one of those.
fn offset(s: &str) -> Option<FixedOffset> {
    if s == "Z" {
        return FixedOffset::east_opt(0);
    }
    let sign = match s.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let (hours, rest) = digits(&s[1..], 2)?;
    let minutes = if rest.is_empty() {
        0
    } else {
        let (m, tail) = digits(rest.strip_prefix(':').unwrap_or(rest), 2)?;
        if !tail.is_empty() {
            return None;
        }
        m
    };
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60) as i32)
}

/// A date (`2024-05-31`) or dateTime (`2024-05-31T14:03:00.000+02:00`; no
/// offset means UTC). Surrounding whitespace is ignored.
pub(crate) fn parse_temporal(s: &str) -> Option<Temporal> {
    let s = s.trim();
    if s.len() < 10 || !s.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let (date, rest) = date_prefix(s)?;
    if rest.is_empty() {
        return Some(Temporal::Date(date));
    }
    let (time, rest) = time_prefix(rest.strip_prefix('T')?)?;
    let offset = if rest.is_empty() { FixedOffset::east_opt(0)? } else { offset(rest)? };
    let dt = date.and_time(time).and_local_timezone(offset).single()?;
    Some(Temporal::DateTime(dt))
}

/// A time of day (`14:03:00.000+02:00`) and its offset, if it has one.
pub(crate) fn parse_time(s: &str) -> Option<(NaiveTime, Option<FixedOffset>)> {
    let s = s.trim();
    let (time, rest) = time_prefix(s)?;
    if rest.is_empty() {
        return Some((time, None));
    }
    Some((time, Some(offset(rest)?)))
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// ODK's `format-date`/`format-date-time` codes; unknown codes are copied as written.
pub(crate) fn format(value: Temporal, pattern: &str) -> String {
    let (date, time) = match value {
        Temporal::Date(d) => (d, NaiveTime::MIN),
        Temporal::DateTime(dt) => (dt.date_naive(), dt.time()),
    };
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(code) = chars.next() else {
            out.push('%');
            break;
        };
        let text = match code {
            'Y' => format!("{:04}", date.year()),
            'y' => format!("{:02}", date.year().rem_euclid(100)),
            'm' => format!("{:02}", date.month()),
            'n' => date.month().to_string(),
            'b' => MONTHS[date.month0() as usize].to_owned(),
            'd' => format!("{:02}", date.day()),
            'e' => date.day().to_string(),
            'a' => WEEKDAYS[date.weekday().num_days_from_sunday() as usize].to_owned(),
            'H' => format!("{:02}", time.hour()),
            'h' => time.hour().to_string(),
            'M' => format!("{:02}", time.minute()),
            'S' => format!("{:02}", time.second()),
            '3' => format!("{:03}", (time.nanosecond() / 1_000_000).min(999)),
            other => format!("%{other}"),
        };
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn reads_dates_and_date_times() {
        let d = parse_temporal("2020-01-02").unwrap();
        assert_eq!(d.days(), 18263.0);
        let dt = parse_temporal("2020-01-01T12:00:00Z").unwrap();
        assert_eq!(dt.days(), 18262.5);
        let dt = parse_temporal("2020-01-01T14:00:00.000+02:00").unwrap();
        assert_eq!(dt.days(), 18262.5);
        assert_eq!(parse_temporal(" 2020-01-01T12:00 ").unwrap().days(), 18262.5);
        for bad in ["2020-02-30", "2020-1-01", "20200101", "2020-01-01T25:00", "2020-01-01T12:00:00+5", "x", ""] {
            assert_eq!(parse_temporal(bad), None, "{bad}");
        }
        assert_eq!(date_to_string(date_from_days(18263.7).unwrap()), "2020-01-02");
        assert_eq!(date_from_days(f64::NAN), None);
        assert_eq!(date_from_days(1e300), None);
        let (time, offset) = parse_time("18:00:00.000-05:00").unwrap();
        assert_eq!(time.hour(), 18);
        assert_eq!(offset.unwrap().local_minus_utc(), -5 * 3600);
        assert_eq!(date_time_to_string(dt_of("2020-01-01T14:00:00.5+02:00")), "2020-01-01T14:00:00.500+02:00");
    }

    fn dt_of(s: &str) -> DateTime<FixedOffset> {
        match parse_temporal(s).unwrap() {
            Temporal::DateTime(dt) => dt,
            Temporal::Date(_) => panic!("not a dateTime"),
        }
    }

    #[test]
    fn formats_with_odk_codes() {
        let dt = Temporal::DateTime(dt_of("2024-03-05T07:08:09.123+01:00"));
        assert_eq!(
            format(dt, "%Y %y %m %n %b %d %e %a %H %h %M %S %3 %q"),
            "2024 24 03 3 Mar 05 5 Tue 07 7 08 09 123 %q"
        );
        assert_eq!(format(Temporal::Date(dt.date()), "%d/%m/%Y %H"), "05/03/2024 00");
    }
}
