//! Webhook events of appointment, customer and call changes, written to the
//! outbox inside the change's own transaction: the event exists exactly when
//! the change does.
//!
//! The body is `{"type", "timestamp", "data"}` (see the WebhookService
//! comment). `data` is the resource in proto3 JSON: lowerCamelCase field
//! names, enums by name, timestamps in RFC 3339 UTC. Unlike the canonical
//! form it also carries fields with default values, so receivers need no
//! knowledge of proto defaults. It is written here rather than generated
//! (pbjson would swap every well-known type in the generated code); a test
//! holds the field names to the contract's.
use chrono::{DateTime, SecondsFormat, Utc};
use prost_types::Timestamp;
use serde_json::{Value, json};

use crate::domain::webhook::EventType;
use crate::error::Result;
use crate::proto::appointment::v1 as pb;
use crate::store::{TenantTx, outbox};

/// Records an appointment event.
pub async fn appointment(tx: &TenantTx, event: EventType, appointment: &pb::Appointment) -> Result<()> {
    record(tx, event, appointment_json(appointment)).await
}

/// Records a customer event.
pub async fn customer(tx: &TenantTx, event: EventType, customer: &pb::Customer) -> Result<()> {
    record(tx, event, customer_json(customer)).await
}

/// Records a call event; `data` is the call as the contract describes it.
pub async fn call(tx: &TenantTx, event: EventType, data: Value) -> Result<()> {
    record(tx, event, data).await
}

async fn record(tx: &TenantTx, event: EventType, data: Value) -> Result<()> {
    let request_id = crate::correlation::current().map(|id| id.to_string()).unwrap_or_default();
    let body = json!({
        "type": event.as_str(),
        "timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        "data": data,
    });
    outbox::record(tx, event, &body.to_string(), &request_id).await?;
    Ok(())
}

/// The appointment in proto3 JSON.
pub fn appointment_json(a: &pb::Appointment) -> Value {
    let status = pb::AppointmentStatus::try_from(a.status).unwrap_or_default().as_str_name();
    let source = pb::AppointmentSource::try_from(a.source).unwrap_or_default().as_str_name();
    json!({
        "id": a.id,
        "branchId": a.branch_id,
        "serviceId": a.service_id,
        "staffId": a.staff_id,
        "customerId": a.customer_id,
        "startTime": timestamp_json(a.start_time),
        "endTime": timestamp_json(a.end_time),
        "status": status,
        "source": source,
        "notes": a.notes,
        "cancelReason": a.cancel_reason,
        "callId": a.call_id,
        "externalBookingUid": a.external_booking_uid,
        "createTime": timestamp_json(a.create_time),
        "updateTime": timestamp_json(a.update_time),
        "etag": a.etag,
    })
}

/// The customer in proto3 JSON.
pub fn customer_json(c: &pb::Customer) -> Value {
    json!({
        "id": c.id,
        "phoneNumber": c.phone_number,
        "displayName": c.display_name,
        "email": c.email,
        "notes": c.notes,
        "createTime": timestamp_json(c.create_time),
        "updateTime": timestamp_json(c.update_time),
        "etag": c.etag,
    })
}

/// A Timestamp as proto3 JSON: RFC 3339 in UTC ("Z"), or null when unset.
fn timestamp_json(at: Option<Timestamp>) -> Value {
    at.and_then(|t| DateTime::<Utc>::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map_or(Value::Null, |t| Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use prost::Message;

    use super::*;

    /// The JSON names of a message's fields, from the compiled contracts.
    fn json_names(message: &str) -> BTreeSet<String> {
        let set = prost_types::FileDescriptorSet::decode(crate::proto::FILE_DESCRIPTOR_SET).unwrap();
        let found = set
            .file
            .iter()
            .filter(|f| f.package() == "askpro.appointment.v1")
            .flat_map(|f| f.message_type.iter())
            .find(|m| m.name() == message)
            .unwrap_or_else(|| panic!("{message} is in the contract"));
        found.field.iter().map(|f| f.json_name().to_owned()).collect()
    }

    fn keys(value: &Value) -> BTreeSet<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn appointment_and_customer_carry_exactly_the_contracts_fields() {
        assert_eq!(keys(&appointment_json(&pb::Appointment::default())), json_names("Appointment"));
        assert_eq!(keys(&customer_json(&pb::Customer::default())), json_names("Customer"));
    }

    #[test]
    fn enums_are_names_and_timestamps_rfc3339_utc() {
        let appointment = pb::Appointment {
            status: pb::AppointmentStatus::Confirmed as i32,
            source: pb::AppointmentSource::PhoneAgent as i32,
            start_time: Some(Timestamp { seconds: 1_790_000_000, nanos: 500_000_000 }),
            ..Default::default()
        };
        let json = appointment_json(&appointment);
        assert_eq!(json["status"], "APPOINTMENT_STATUS_CONFIRMED");
        assert_eq!(json["source"], "APPOINTMENT_SOURCE_PHONE_AGENT");
        assert_eq!(json["startTime"], "2026-09-21T14:13:20.500Z");
        assert_eq!(json["endTime"], Value::Null);
    }
}
