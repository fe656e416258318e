//! Days and wall-clock times in a branch's zone, computed from today so that
//! every date lies inside the booking horizon, and the protobuf timestamps
//! the API speaks.
use std::fmt;

use askpro::proto::r#type::v1::{LocalTime, TimeRange};
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

/// The zone of the harness tenant and its branch.
pub const BERLIN: &str = "Europe/Berlin";

pub const MIN: i64 = 60;
pub const HOUR: i64 = 3600;

/// A zone of the bundled tzdb.
pub fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or_else(|e| panic!("{name} is in the bundled tzdb: {e}"))
}

/// Today's date in `zone`.
pub fn today_in(zone_name: &str) -> Date {
    zone(zone_name).to_datetime(jiff::Timestamp::now()).date()
}

/// One local day in a time zone.
#[derive(Clone, Debug)]
pub struct BookingDay {
    pub zone: TimeZone,
    pub date: Date,
}

impl BookingDay {
    /// The Monday after next in `zone`: safely inside the default 60-day
    /// horizon and outside any notice.
    pub fn in_zone(zone_name: &str) -> Self {
        let mut date = today_in(zone_name).tomorrow().unwrap();
        while date.weekday() != Weekday::Monday {
            date = date.tomorrow().unwrap();
        }
        Self::on(zone_name, date.checked_add(7.days()).unwrap())
    }

    /// The Monday after next in Berlin, the harness branch's zone.
    pub fn berlin() -> Self {
        Self::in_zone(BERLIN)
    }

    /// `date` in `zone`.
    pub fn on(zone_name: &str, date: Date) -> Self {
        Self { zone: zone(zone_name), date }
    }

    /// The day `days` after today in `zone`.
    pub fn days_from_today(zone_name: &str, days: i64) -> Self {
        Self::on(zone_name, today_in(zone_name).checked_add(days.days()).unwrap())
    }

    /// The next `month`/`day` in `zone` at least a week away (within 730 days).
    pub fn next_date(zone_name: &str, month: i8, day: i8) -> Self {
        let today = today_in(zone_name);
        let soon = today.checked_add(7.days()).unwrap();
        let mut candidate = Date::new(today.year(), month, day).unwrap();
        if candidate <= soon {
            candidate = Date::new(today.year() + 1, month, day).unwrap();
        }
        Self::on(zone_name, candidate)
    }

    /// The next day after today in `zone` whose real length is `seconds`
    /// (23 h or 25 h on daylight-saving changes).
    pub fn next_lasting(zone_name: &str, seconds: i64) -> Self {
        let mut day = Self::on(zone_name, today_in(zone_name)).next();
        for _ in 0..800 {
            if day.length() == seconds {
                return day;
            }
            day = day.next();
        }
        panic!("no {zone_name} day of {seconds} s within 800 days");
    }

    /// The following day in the same zone.
    pub fn next(&self) -> Self {
        Self { zone: self.zone.clone(), date: self.date.tomorrow().unwrap() }
    }

    /// Unix seconds of a wall-clock time that day ("compatible" resolution).
    pub fn at(&self, hour: i8, minute: i8) -> i64 {
        self.zone.to_ambiguous_timestamp(self.date.at(hour, minute, 0, 0)).compatible().unwrap().as_second()
    }

    /// `at` as a protobuf timestamp.
    pub fn timestamp(&self, hour: i8, minute: i8) -> prost_types::Timestamp {
        pts(self.at(hour, minute))
    }

    /// Unix seconds of the day's first instant (local midnight).
    pub fn start(&self) -> i64 {
        self.at(0, 0)
    }

    /// Unix seconds of the next day's local midnight.
    pub fn end(&self) -> i64 {
        self.next().start()
    }

    /// The real length of the day in seconds.
    pub fn length(&self) -> i64 {
        self.end() - self.start()
    }
}

/// The day as `YYYY-MM-DD`.
impl fmt::Display for BookingDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.date.fmt(f)
    }
}

pub fn pts(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

/// The seconds of a timestamp the server set.
pub fn seconds_of(ts: &Option<prost_types::Timestamp>) -> i64 {
    ts.as_ref().expect("timestamp").seconds
}

/// The seconds of a timestamp that must be whole.
pub fn secs(ts: &Option<prost_types::Timestamp>) -> i64 {
    let ts = ts.as_ref().expect("timestamp set");
    assert_eq!(ts.nanos, 0, "whole seconds");
    ts.seconds
}

/// `[from, to)` as the API's time range.
pub fn time_range(from: i64, to: i64) -> Option<TimeRange> {
    Some(TimeRange { start_time: Some(pts(from)), end_time: Some(pts(to)) })
}

/// A wall-clock time of day as the API's LocalTime.
pub fn local_time(hours: i32, minutes: i32) -> Option<LocalTime> {
    Some(LocalTime { hours, minutes })
}
