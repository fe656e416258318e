//! Tenant, branch, staff, service and API-key rows as protobuf messages.
use super::{minutes, timestamp};

use crate::domain::api_key::key_prefix;
use crate::domain::disclosure::CallerDisclosure;
use crate::domain::ids::ApiKeyId;
use crate::proto::tenant::v1 as pb;
use crate::store::branches::Branch;
use crate::store::entities::{api_key, service, tenant};
use crate::store::etag;
use crate::store::staff::StaffMember;

pub fn tenant(row: tenant::Model) -> pb::Tenant {
    pb::Tenant {
        id: row.id.to_string(),
        display_name: row.display_name,
        time_zone: row.time_zone,
        region_code: row.region_code,
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: etag(row.revision),
        allow_overlapping_customer_appointments: row.allow_overlapping_customer_appointments,
        caller_disclosure: caller_disclosure(CallerDisclosure::from_stored(&row.caller_disclosure)) as i32,
    }
}

pub fn caller_disclosure(disclosure: CallerDisclosure) -> pb::CallerDisclosure {
    match disclosure {
        CallerDisclosure::Full => pb::CallerDisclosure::Full,
        CallerDisclosure::FirstNameAndDay => pb::CallerDisclosure::FirstNameAndDay,
        CallerDisclosure::Nothing => pb::CallerDisclosure::None,
    }
}

/// The setting a request asks for; None for UNSPECIFIED or an unknown value.
pub fn caller_disclosure_from(value: i32) -> Option<CallerDisclosure> {
    match pb::CallerDisclosure::try_from(value).ok()? {
        pb::CallerDisclosure::Full => Some(CallerDisclosure::Full),
        pb::CallerDisclosure::FirstNameAndDay => Some(CallerDisclosure::FirstNameAndDay),
        pb::CallerDisclosure::None => Some(CallerDisclosure::Nothing),
        pb::CallerDisclosure::Unspecified => None,
    }
}

pub fn branch(branch: Branch) -> pb::Branch {
    let row = branch.row;
    pb::Branch {
        id: row.id.to_string(),
        display_name: row.display_name,
        time_zone: row.time_zone,
        region_code: row.region_code,
        phone_numbers: branch.phone_numbers,
        address: row.address,
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: etag(row.revision),
    }
}

pub fn staff(member: StaffMember) -> pb::Staff {
    let row = member.row;
    pb::Staff {
        id: row.id.to_string(),
        branch_id: row.branch_id.to_string(),
        display_name: row.display_name,
        email: row.email,
        service_ids: member.service_ids.iter().map(ToString::to_string).collect(),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: etag(row.revision),
    }
}

pub fn service(row: service::Model) -> pb::Service {
    pb::Service {
        id: row.id.to_string(),
        display_name: row.display_name,
        description: row.description,
        duration: Some(minutes(row.duration_minutes)),
        buffer_before: Some(minutes(row.buffer_before_minutes)),
        buffer_after: Some(minutes(row.buffer_after_minutes)),
        minimum_notice: Some(minutes(row.minimum_notice_minutes)),
        booking_horizon: Some(minutes(row.booking_horizon_minutes)),
        slot_step: Some(minutes(row.slot_step_minutes)),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: etag(row.revision),
    }
}

pub fn api_key(row: api_key::Model) -> pb::ApiKey {
    let scope = match row.scope.parse() {
        Ok(crate::domain::scope::Scope::PlatformAdmin) => pb::ApiKeyScope::PlatformAdmin,
        Ok(crate::domain::scope::Scope::TenantAdmin) => pb::ApiKeyScope::TenantAdmin,
        Ok(crate::domain::scope::Scope::Agent) => pb::ApiKeyScope::Agent,
        Ok(crate::domain::scope::Scope::ReadOnly) => pb::ApiKeyScope::ReadOnly,
        Ok(crate::domain::scope::Scope::Call) => pb::ApiKeyScope::Call,
        Err(_) => pb::ApiKeyScope::Unspecified,
    };
    pb::ApiKey {
        id: row.id.to_string(),
        display_name: row.display_name,
        scope: scope as i32,
        key_prefix: key_prefix(ApiKeyId(row.id)),
        expire_time: row.expire_time.map(timestamp),
        revoke_time: row.revoke_time.map(timestamp),
        create_time: Some(timestamp(row.create_time)),
        last_use_time: row.last_use_time.map(timestamp),
    }
}
