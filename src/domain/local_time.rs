//! Instants shown as local wall-clock time, for people and voice agents.
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// RFC 3339 with the zone's offset at that instant, e.g.
/// "2026-03-29T10:00:00+02:00".
pub fn rfc3339_local(time_zone: &TimeZone, unix_seconds: i64) -> String {
    let Ok(timestamp) = Timestamp::from_second(unix_seconds) else { return String::new() };
    let offset = time_zone.to_offset(timestamp);
    let local = offset.to_datetime(timestamp);
    let seconds = offset.seconds();
    let sign = if seconds < 0 { '-' } else { '+' };
    let (hours, minutes) = (seconds.abs() / 3600, (seconds.abs() % 3600) / 60);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{hours:02}:{minutes:02}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_carry_the_offset_of_their_instant() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // 2026-03-29 08:00Z is after the spring change: CEST, +02:00.
        assert_eq!(rfc3339_local(&berlin, 1_774_771_200), "2026-03-29T10:00:00+02:00");
        // 2026-03-28 09:00Z is before it: CET, +01:00.
        assert_eq!(rfc3339_local(&berlin, 1_774_688_400), "2026-03-28T10:00:00+01:00");
        let new_york = TimeZone::get("America/New_York").unwrap();
        assert_eq!(rfc3339_local(&new_york, 1_774_771_200), "2026-03-29T04:00:00-04:00");
    }
}
