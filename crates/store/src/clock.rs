//! Timestamps as the schema stores them: RFC 3339 in UTC, second precision, so that
//! text order is time order on every backend.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn format(at: OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

pub fn now() -> String {
    format(OffsetDateTime::now_utc())
}

pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// The timestamp `ago` before now.
pub fn before(ago: std::time::Duration) -> String {
    format(OffsetDateTime::now_utc() - ago)
}
