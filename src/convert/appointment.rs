//! Appointment and customer rows as protobuf messages.
use crate::convert::timestamp;
use crate::domain::appointment::{Source, Status};
use crate::proto::appointment::v1 as pb;
use crate::store::entities::{appointment, customer};
use crate::store::etag;

pub fn status(status: Status) -> pb::AppointmentStatus {
    match status {
        Status::Pending => pb::AppointmentStatus::Pending,
        Status::Confirmed => pb::AppointmentStatus::Confirmed,
        Status::Cancelled => pb::AppointmentStatus::Cancelled,
        Status::Completed => pb::AppointmentStatus::Completed,
        Status::NoShow => pb::AppointmentStatus::NoShow,
    }
}

/// The domain status of a protobuf one; `None` for UNSPECIFIED or unknown values.
pub fn status_from(value: i32) -> Option<Status> {
    match pb::AppointmentStatus::try_from(value).ok()? {
        pb::AppointmentStatus::Pending => Some(Status::Pending),
        pb::AppointmentStatus::Confirmed => Some(Status::Confirmed),
        pb::AppointmentStatus::Cancelled => Some(Status::Cancelled),
        pb::AppointmentStatus::Completed => Some(Status::Completed),
        pb::AppointmentStatus::NoShow => Some(Status::NoShow),
        pb::AppointmentStatus::Unspecified => None,
    }
}

pub fn source(source: Source) -> pb::AppointmentSource {
    match source {
        Source::PhoneAgent => pb::AppointmentSource::PhoneAgent,
        Source::Frontend => pb::AppointmentSource::Frontend,
        Source::PartnerApi => pb::AppointmentSource::PartnerApi,
        Source::Calcom => pb::AppointmentSource::Calcom,
    }
}

pub fn appointment(row: appointment::Model) -> pb::Appointment {
    let status = row.status.parse().map(status).unwrap_or(pb::AppointmentStatus::Unspecified);
    let source = row.source.parse().map(source).unwrap_or(pb::AppointmentSource::Unspecified);
    pb::Appointment {
        id: row.id.to_string(),
        branch_id: row.branch_id.to_string(),
        service_id: row.service_id.to_string(),
        staff_id: row.staff_id.to_string(),
        customer_id: row.customer_id.to_string(),
        start_time: Some(timestamp(row.start_time)),
        end_time: Some(timestamp(row.end_time)),
        status: status as i32,
        source: source as i32,
        notes: row.notes,
        cancel_reason: row.cancel_reason,
        call_id: row.call_id,
        external_booking_uid: row.external_booking_uid,
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: etag(row.revision),
    }
}

pub fn customer(row: customer::Model) -> pb::Customer {
    pb::Customer {
        id: row.id.to_string(),
        phone_number: row.phone_number,
        display_name: row.display_name,
        email: row.email,
        notes: row.notes,
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: etag(row.revision),
    }
}
