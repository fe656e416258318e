//! Hold rows as protobuf messages.
use chrono::{DateTime, Utc};

use super::timestamp;
use crate::proto::availability::v1 as pb;
use crate::store::entities::hold;
use crate::store::holds;

/// A hold as of `now`: an active hold past its expiry reads EXPIRED.
pub fn hold(row: hold::Model, now: DateTime<Utc>) -> pb::Hold {
    let state = match row.state.as_str() {
        holds::RELEASED => pb::HoldState::Released,
        holds::CONVERTED => pb::HoldState::Converted,
        _ if row.expire_time <= now => pb::HoldState::Expired,
        _ => pb::HoldState::Active,
    };
    pb::Hold {
        id: row.id.to_string(),
        service_id: row.service_id.to_string(),
        staff_id: row.staff_id.to_string(),
        branch_id: row.branch_id.to_string(),
        start_time: Some(timestamp(row.start_time)),
        end_time: Some(timestamp(row.end_time)),
        hold_key: row.hold_key,
        expire_time: Some(timestamp(row.expire_time)),
        create_time: Some(timestamp(row.create_time)),
        state: state as i32,
        appointment_id: row.appointment_id.map(|id| id.to_string()).unwrap_or_default(),
    }
}
