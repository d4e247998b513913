//! RFC 3339 text of instants and dates, for what compares them as text: stamps kept
//! in SQLite, values sent to QuickBooks, what tests assert.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// An instant in UTC, RFC 3339, with a fraction only when there is one and then only
/// the digits it has (`…:05Z`, `…:05.25Z`, `…:05.000007Z`). chrono's own forms pad a
/// fraction to 3, 6 or 9 digits, which would change every stamp already stored.
pub fn format(utc: DateTime<Utc>) -> String {
    let padded = utc.to_rfc3339_opts(SecondsFormat::Nanos, true);
    let kept = padded.trim_end_matches('Z').trim_end_matches('0').trim_end_matches('.');
    format!("{kept}Z")
}

/// An RFC 3339 timestamp in any offset, as the instant it names.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|time| time.to_utc())
}

/// A calendar date, `2026-03-01`. chrono would also read `2026-3-1`; QuickBooks
/// refuses it, so only the zero-padded form is a date.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    const DATE: &str = "%Y-%m-%d";
    NaiveDate::parse_from_str(text, DATE).ok().filter(|date| date.format(DATE).to_string() == text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    #[test]
    fn a_stamp_shows_whole_seconds_and_every_fraction_without_padding() {
        let whole = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let cases = [
            (TimeDelta::zero(), "2026-01-02T03:04:05Z"),
            (TimeDelta::milliseconds(120), "2026-01-02T03:04:05.12Z"),
            (TimeDelta::microseconds(123_456), "2026-01-02T03:04:05.123456Z"),
            (TimeDelta::nanoseconds(1), "2026-01-02T03:04:05.000000001Z"),
            (TimeDelta::nanoseconds(987_654_321), "2026-01-02T03:04:05.987654321Z"),
        ];
        for (fraction, text) in cases {
            assert_eq!(format(whole + fraction), text);
            assert_eq!(parse(text), Some(whole + fraction));
        }
        assert_eq!(parse("2026-01-01T19:04:05-08:00"), Some(whole));
    }

    #[test]
    fn a_date_is_only_the_zero_padded_form() {
        assert_eq!(parse_date("2026-01-02"), NaiveDate::from_ymd_opt(2026, 1, 2));
        for text in ["2026-1-2", "2026-02-30", "2026-01-02T00:00:00Z", ""] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }
}
