//! Conversions between Cal.com connection and sync rows and protobuf
//! messages. The API key is never copied into a message: only a hint.
use crate::calcom::breaker::State;
use crate::convert::timestamp;
use crate::proto::integration::v1 as pb;
use crate::store::calcom::SyncState;
use crate::store::entities::{calcom_connection, calcom_staff_link, calcom_sync};

/// The key's last four characters after an ellipsis, e.g. "…a1b2"; keys
/// too short to spare four show nothing.
pub fn key_hint(api_key: &str) -> String {
    let chars: Vec<char> = api_key.chars().collect();
    if chars.len() < 12 {
        return "…".into();
    }
    format!("…{}", chars[chars.len() - 4..].iter().collect::<String>())
}

pub fn breaker_state(state: State) -> pb::BreakerState {
    match state {
        State::Closed => pb::BreakerState::Closed,
        State::Open => pb::BreakerState::Open,
        State::HalfOpen => pb::BreakerState::HalfOpen,
    }
}

/// The connection as the API shows it (`api_key_hint` from `key_hint` of
/// the opened key; the row holds it sealed); `counts` are (pending,
/// dead-lettered).
pub fn connection(
    row: calcom_connection::Model,
    api_key_hint: String,
    links: Vec<calcom_staff_link::Model>,
    breaker: State,
    counts: (u64, u64),
) -> pb::CalcomConnection {
    pb::CalcomConnection {
        api_key_hint,
        base_url: row.base_url,
        account: Some(pb::CalcomAccount {
            user_id: row.account_user_id,
            username: row.account_username,
            email: row.account_email,
            time_zone: row.account_time_zone,
        }),
        staff_links: links.into_iter().map(staff_link).collect(),
        breaker_state: breaker_state(breaker) as i32,
        pending_syncs: i64::try_from(counts.0).unwrap_or(i64::MAX),
        dead_lettered_syncs: i64::try_from(counts.1).unwrap_or(i64::MAX),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

pub fn staff_link(row: calcom_staff_link::Model) -> pb::CalcomStaffLink {
    pb::CalcomStaffLink {
        staff_id: row.staff_id.to_string(),
        event_type_id: row.event_type_id,
        calcom_user_id: row.calcom_user_id,
        calcom_email: row.calcom_email,
    }
}

pub fn sync_state(state: SyncState) -> pb::SyncState {
    match state {
        SyncState::Pending => pb::SyncState::Pending,
        SyncState::Synced => pb::SyncState::Synced,
        SyncState::DeadLettered => pb::SyncState::DeadLettered,
    }
}

pub fn sync_state_from(value: i32) -> Option<SyncState> {
    match pb::SyncState::try_from(value).ok()? {
        pb::SyncState::Pending => Some(SyncState::Pending),
        pb::SyncState::Synced => Some(SyncState::Synced),
        pb::SyncState::DeadLettered => Some(SyncState::DeadLettered),
        pb::SyncState::Unspecified => None,
    }
}

pub fn sync(row: calcom_sync::Model) -> pb::CalcomSync {
    let state = SyncState::from_stored(&row.state);
    pb::CalcomSync {
        appointment_id: row.appointment_id.to_string(),
        state: sync_state(state) as i32,
        calcom_booking_uid: row.calcom_uid,
        attempt_count: row.attempt_count,
        last_error: row.last_error,
        next_attempt_time: row.next_attempt_time.filter(|_| state == SyncState::Pending).map(timestamp),
        update_time: Some(timestamp(row.update_time)),
    }
}
