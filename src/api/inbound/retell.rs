//! Retell: call_started / call_ended / call_analyzed become calls (linked to
//! the branch by to_number and the customer by from_number); call_inbound is
//! answered at once with the caller's name and upcoming appointments as
//! Retell dynamic variables, and is kept in the inbox (PROCESSED), not as a call.
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Outcome;
use crate::domain::disclosure::{CallerDisclosure, first_name};
use crate::domain::ids::{BranchId, ServiceId, StaffId};
use crate::domain::webhook::InboundProvider;
use crate::error::Result;
use crate::operations::bookable::time_zone;
use crate::operations::calls::{self, CallFacts};
use crate::store::{TenantTx, branches, customers, services, staff};
use crate::webhooks::payload::{RetellEvent, RetellInboundCall};

/// As many upcoming appointments as FindCustomerByPhone returns.
const MAX_UPCOMING: u64 = 10;

pub(super) async fn apply(tx: &TenantTx, event: &RetellEvent, at: DateTime<Utc>) -> Result<Outcome> {
    match event {
        RetellEvent::Call { event, call } => {
            let parties = calls::parties(tx, call.from_number.as_deref(), call.to_number.as_deref()).await?;
            let facts = CallFacts {
                provider: InboundProvider::Retell,
                event: *event,
                provider_call_id: call.call_id.clone(),
                branch_id: parties.branch.map(|b| b.id),
                customer_id: parties.customer_id,
                appointment_id: None,
                from_number: parties.from_number,
                to_number: parties.to_number,
                start_time: call.start_time,
                end_time: call.end_time,
                analysis: call.call_analysis.clone(),
            };
            Ok(Outcome::recorded(calls::record(tx, facts, at).await?))
        }
        RetellEvent::Other { event } => Ok(Outcome::ignored(format!("event {event} is not used"))),
        // Answered by `answer_inbound` in `super::process`.
        RetellEvent::Inbound(_) => Ok(Outcome::processed()),
    }
}

/// Retell's inbound-call webhook response: `{"call_inbound":
/// {"dynamic_variables": {...}}}`, every value a string, always with
/// caller_disclosure (the tenant's setting) and branch_name. With FULL, a
/// known caller gets customer_known "true", customer_name, customer_id, and
/// upcoming_appointments ("<local start> <service> with <staff>", "; "
/// separated, in the appointment's branch time zone) with next_appointment;
/// an unknown one customer_known "false". With FIRST_NAME_AND_DAY a known
/// caller gets customer_known, customer_name (the first name only) and
/// next_appointment_day (the weekday, e.g. "Tuesday"); with NONE nothing about
/// the caller. Returns the customer too.
pub(super) async fn answer_inbound(
    tx: &TenantTx,
    call: &RetellInboundCall,
    at: DateTime<Utc>,
    disclosure: CallerDisclosure,
) -> Result<(Value, Option<Uuid>)> {
    let parties = calls::parties(tx, Some(&call.from_number), Some(&call.to_number)).await?;
    let mut variables = Map::new();
    let put = |variables: &mut Map<String, Value>, key: &str, value: String| {
        variables.insert(key.to_owned(), Value::String(value));
    };
    put(&mut variables, "caller_disclosure", disclosure.as_str().into());
    if let Some(branch) = &parties.branch {
        put(&mut variables, "branch_name", branch.display_name.clone());
    }
    let answer = |variables: Map<String, Value>| json!({ "call_inbound": { "dynamic_variables": variables } });
    if disclosure == CallerDisclosure::Nothing {
        return Ok((answer(variables), parties.customer.map(|c| c.id)));
    }
    let Some(customer) = parties.customer else {
        put(&mut variables, "customer_known", "false".into());
        return Ok((answer(variables), None));
    };
    if disclosure == CallerDisclosure::FirstNameAndDay {
        put(&mut variables, "customer_known", "true".into());
        put(&mut variables, "customer_name", first_name(&customer.display_name).to_owned());
        let next = customers::upcoming_appointments(tx, customer.id, at, 1).await?;
        if let Some(appointment) = next.first() {
            let zone = time_zone(&branches::get_row(tx, BranchId(appointment.branch_id)).await?)?;
            let day = jiff::Timestamp::from_second(appointment.start_time.timestamp())
                .map(|t| zone.to_datetime(t).strftime("%A").to_string())
                .unwrap_or_default();
            put(&mut variables, "next_appointment_day", day);
        }
        return Ok((answer(variables), Some(customer.id)));
    }
    put(&mut variables, "customer_known", "true".into());
    put(&mut variables, "customer_id", customer.id.to_string());
    put(&mut variables, "customer_name", customer.display_name.clone());
    let upcoming = customers::upcoming_appointments(tx, customer.id, at, MAX_UPCOMING).await?;
    let mut names: HashMap<Uuid, String> = HashMap::new();
    let mut zones = HashMap::new();
    let mut lines = Vec::with_capacity(upcoming.len());
    for appointment in &upcoming {
        if let Entry::Vacant(slot) = zones.entry(appointment.branch_id) {
            slot.insert(time_zone(&branches::get_row(tx, BranchId(appointment.branch_id)).await?)?);
        }
        if let Entry::Vacant(slot) = names.entry(appointment.service_id) {
            slot.insert(services::get(tx, ServiceId(appointment.service_id)).await?.display_name);
        }
        if let Entry::Vacant(slot) = names.entry(appointment.staff_id) {
            // A deleted staff member keeps the appointment; the name is then unknown.
            let name = staff::get(tx, StaffId(appointment.staff_id)).await.map(|s| s.row.display_name);
            slot.insert(name.unwrap_or_default());
        }
        let local = jiff::Timestamp::from_second(appointment.start_time.timestamp())
            .map(|t| zones[&appointment.branch_id].to_datetime(t).strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        lines.push(format!("{local} {} with {}", names[&appointment.service_id], names[&appointment.staff_id]));
    }
    put(&mut variables, "upcoming_appointment_count", lines.len().to_string());
    put(&mut variables, "next_appointment", lines.first().cloned().unwrap_or_default());
    put(&mut variables, "upcoming_appointments", lines.join("; "));
    Ok((json!({ "call_inbound": { "dynamic_variables": variables } }), Some(customer.id)))
}
