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
    let Ok(year) = u32::try_from(local.year()) else { return String::new() };
    // Written digit by digit rather than with format!: a slot list writes
    // two of these per slot, and the formatting machinery was the largest
    // part of the list's CPU (perf under `askpro bench`).
    let mut out = String::with_capacity(25);
    push_digits(&mut out, year, 4);
    out.push('-');
    push_digits(&mut out, local.month().unsigned_abs().into(), 2);
    out.push('-');
    push_digits(&mut out, local.day().unsigned_abs().into(), 2);
    out.push('T');
    push_digits(&mut out, local.hour().unsigned_abs().into(), 2);
    out.push(':');
    push_digits(&mut out, local.minute().unsigned_abs().into(), 2);
    out.push(':');
    push_digits(&mut out, local.second().unsigned_abs().into(), 2);
    out.push(if seconds < 0 { '-' } else { '+' });
    let offset = seconds.unsigned_abs();
    push_digits(&mut out, offset / 3600, 2);
    out.push(':');
    push_digits(&mut out, offset % 3600 / 60, 2);
    out
}

/// The last `width` decimal digits of `value`, zero-padded.
fn push_digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
    }
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
