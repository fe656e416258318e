//! Customers by phone number with their upcoming appointments: the voice
//! agent's first question on every call ("who is calling?"). Two caches:
//! which customer owns a number (or that nobody does), and what a customer
//! looks like with their next appointments. A number is keyed by a digest
//! (`phone_key`), so no phone number travels in a notification; each entry
//! keeps its number and is used only when it matches.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::appointment::Status;
use crate::domain::ids::TenantId;
use crate::error::Result;
use crate::store::entities::{appointment, customer};
use crate::store::{Store, customers};

/// Who owns a phone number: a live customer, or nobody.
#[derive(Debug)]
pub struct PhoneOwner {
    pub phone_number: String,
    pub customer_id: Option<Uuid>,
}

/// A live customer and their upcoming appointments, as of a read.
#[derive(Debug)]
pub struct CustomerView {
    pub customer: customer::Model,
    /// PENDING or CONFIRMED appointments that had not ended, by start; at
    /// most the limit they were read with.
    pub upcoming: Vec<appointment::Model>,
    limit: u64,
}

impl CustomerView {
    /// The answer for `now`, if this view can give it: itself while none of
    /// its appointments has ended; once some have, the rest when the view
    /// held all of the customer's upcoming appointments (fewer than its
    /// limit), since any booking or change of theirs replaces the view. A
    /// full view whose first ones ended cannot know the next one: `None`.
    fn answer_at(self: &Arc<Self>, now: DateTime<Utc>, limit: u64) -> Option<Arc<Self>> {
        if self.limit != limit {
            return None;
        }
        if self.upcoming.iter().all(|a| a.end_time > now) {
            return Some(self.clone());
        }
        if (self.upcoming.len() as u64) < self.limit {
            let upcoming = self.upcoming.iter().filter(|a| a.end_time > now).cloned().collect();
            return Some(Arc::new(CustomerView { customer: self.customer.clone(), upcoming, limit }));
        }
        None
    }
}

impl CustomerView {
    /// The view with `created` (new appointments of this customer, just
    /// committed) in it. Exact: the view holds the customer's first `limit`
    /// active appointments by (start, id) that had not ended when it was
    /// read; a new one falls among them (the last drops out if the view was
    /// full) or after the last of a full view. One already there (a load
    /// that read after the commit) is not added twice; one that is not
    /// active or has ended at `now` is not upcoming.
    pub fn with_created(&self, created: &[&appointment::Model], now: DateTime<Utc>) -> Self {
        let mut upcoming = self.upcoming.clone();
        for row in created {
            let active = row.status.parse::<Status>().is_ok_and(Status::is_active);
            if active && row.end_time > now && !upcoming.iter().any(|a| a.id == row.id) {
                upcoming.push((*row).clone());
            }
        }
        upcoming.sort_by_key(|a| (a.start_time, a.id));
        upcoming.truncate(usize::try_from(self.limit).unwrap_or(usize::MAX));
        CustomerView { customer: self.customer.clone(), upcoming, limit: self.limit }
    }
}

/// FindCustomerByPhone returns at most this many upcoming appointments.
pub const UPCOMING_LIMIT: u64 = 10;
/// Customers a warm-up loads per tenant at most.
const WARM_CUSTOMERS: u64 = 100_000;

/// Fills both caches with every live customer of `tenant` (up to the bound)
/// and their first `limit` upcoming appointments at `now`: three queries.
pub async fn warm(store: &Store, tenant: TenantId, now: DateTime<Utc>, limit: u64) -> Result<usize> {
    let caches = store.caches();
    let (phones, views) = (caches.phones.snapshot(), caches.customers.snapshot());
    let (live, upcoming) = store
        .read_with(tenant, async |tx| {
            let live = customers::all_live(tx, WARM_CUSTOMERS).await?;
            let upcoming = customers::upcoming_of_all(tx, now).await?;
            Ok((live, upcoming))
        })
        .await?;
    let mut by_customer: std::collections::HashMap<Uuid, Vec<appointment::Model>> = Default::default();
    for appointment in upcoming {
        let list = by_customer.entry(appointment.customer_id).or_default();
        if (list.len() as u64) < limit {
            list.push(appointment);
        }
    }
    let count = live.len();
    for customer in live {
        let owner = PhoneOwner { phone_number: customer.phone_number.clone(), customer_id: Some(customer.id) };
        caches.phones.store_since((tenant, phone_key(&customer.phone_number)), Arc::new(owner), &phones);
        let upcoming = by_customer.remove(&customer.id).unwrap_or_default();
        let id = customer.id;
        caches.customers.store_since((tenant, id), Arc::new(CustomerView { customer, upcoming, limit }), &views);
    }
    Ok(count)
}

/// A stable digest of an E.164 number (the same on every replica).
pub fn phone_key(phone_number: &str) -> u64 {
    let digest = Sha256::digest(phone_number.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes)
}

/// The live customer with this E.164 number and their first `limit`
/// upcoming appointments at `now`; from the caches when they hold both.
pub async fn find_by_phone(
    store: &Store,
    tenant: TenantId,
    phone_number: &str,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Option<Arc<CustomerView>>> {
    let caches = store.caches();
    let phone = (tenant, phone_key(phone_number));
    if let Some(owner) = caches.phones.get(&phone).filter(|o| o.phone_number == phone_number) {
        let Some(id) = owner.customer_id else { return Ok(None) };
        let view = caches.customers.get(&(tenant, id)).filter(|v| v.customer.phone_number == phone_number);
        if let Some(answer) = view.and_then(|v| v.answer_at(now, limit)) {
            return Ok(Some(answer));
        }
    }
    let phone_ticket = caches.phones.ticket(&phone);
    let loaded = store
        .read_with(tenant, async |tx| {
            let Some(found) = customers::find_by_phone(tx, phone_number).await? else {
                return Ok(None);
            };
            // The view's ticket before the view's own reads.
            let view_ticket = caches.customers.ticket(&(tenant, found.id));
            let customer = customers::get(tx, found.id).await?;
            let upcoming = customers::upcoming_appointments(tx, found.id, now, limit).await?;
            Ok(Some((view_ticket, CustomerView { customer, upcoming, limit })))
        })
        .await?;
    let owner = PhoneOwner {
        phone_number: phone_number.to_owned(),
        customer_id: loaded.as_ref().map(|(_, view)| view.customer.id),
    };
    caches.phones.store(phone, Arc::new(owner), phone_ticket);
    // A number changed between the two reads: its owner no longer has it.
    Ok(loaded.filter(|(_, view)| view.customer.phone_number == phone_number).map(|(ticket, view)| {
        let view = Arc::new(view);
        caches.customers.store((tenant, view.customer.id), view.clone(), ticket);
        view
    }))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, hour, 0, 0).unwrap()
    }

    fn view(ends: &[u32], limit: u64) -> Arc<CustomerView> {
        let customer = customer::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::nil(),
            phone_number: "+491511234567".into(),
            display_name: String::new(),
            email: String::new(),
            notes: String::new(),
            revision: 1,
            create_time: at(0),
            update_time: at(0),
            delete_time: None,
        };
        let upcoming = ends
            .iter()
            .map(|&end| appointment::Model {
                tenant_id: Uuid::nil(),
                id: Uuid::now_v7(),
                branch_id: Uuid::nil(),
                service_id: Uuid::nil(),
                staff_id: Uuid::nil(),
                customer_id: Uuid::nil(),
                start_time: at(end - 1),
                end_time: at(end),
                status: "confirmed".into(),
                source: "phone_agent".into(),
                notes: String::new(),
                cancel_reason: String::new(),
                call_id: String::new(),
                external_booking_uid: String::new(),
                revision: 1,
                create_time: at(0),
                update_time: at(0),
            })
            .collect();
        Arc::new(CustomerView { customer, upcoming, limit })
    }

    #[test]
    fn a_view_answers_while_it_can_know_the_upcoming_appointments() {
        // Nothing ended yet: the view itself.
        let full = view(&[10, 12, 14], 3);
        assert!(Arc::ptr_eq(&full.answer_at(at(9), 3).unwrap(), &full));
        // Another limit: not this view's question.
        assert!(full.answer_at(at(9), 2).is_none());
        // A full view whose first ended cannot know the fourth.
        assert!(full.answer_at(at(11), 3).is_none());
        // A complete view (fewer than its limit) drops the ended ones.
        let complete = view(&[10, 12], 3);
        let later = complete.answer_at(at(11), 3).expect("complete views answer");
        assert_eq!(later.upcoming.iter().map(|a| a.end_time).collect::<Vec<_>>(), [at(12)]);
        assert!(complete.answer_at(at(13), 3).expect("all ended").upcoming.is_empty());
    }

    #[test]
    fn a_new_appointment_joins_a_view_in_order_and_a_full_view_keeps_its_limit() {
        let full = view(&[10, 12, 14], 3);
        let mut booked = full.upcoming[0].clone();
        booked.id = Uuid::now_v7();
        booked.start_time = at(10);
        booked.end_time = at(11);
        let updated = full.with_created(&[&booked], at(9));
        let ends: Vec<_> = updated.upcoming.iter().map(|a| a.end_time).collect();
        assert_eq!(ends, [at(10), at(11), at(12)], "the fourth by start drops out of a full view");
        // Already there (a load read after the commit): not added twice.
        assert_eq!(updated.with_created(&[&booked], at(9)).upcoming.len(), 3);
        // After the last of a full view: the view stays as it was.
        booked.start_time = at(20);
        booked.end_time = at(21);
        let unchanged = full.with_created(&[&booked], at(9));
        assert_eq!(
            unchanged.upcoming.iter().map(|a| a.id).collect::<Vec<_>>(),
            full.upcoming.iter().map(|a| a.id).collect::<Vec<_>>()
        );
        // A view with room takes it at the end; a cancelled or ended one is not upcoming.
        let room = view(&[10], 3);
        assert_eq!(room.with_created(&[&booked], at(9)).upcoming.len(), 2);
        let mut cancelled = booked.clone();
        cancelled.status = "cancelled".into();
        assert_eq!(room.with_created(&[&cancelled], at(9)).upcoming.len(), 1);
        assert_eq!(room.with_created(&[&booked], at(22)).upcoming.len(), 1);
    }
}
