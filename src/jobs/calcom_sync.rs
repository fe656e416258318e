//! The Cal.com sync worker: claims due copies from the sync queue
//! (`store::calcom`), makes Cal.com agree with each appointment as it is
//! now, and records what Cal.com has.
//!
//! Safe in every replica at once: a claim is a lease on the queue row
//! (PostgreSQL: FOR UPDATE SKIP LOCKED), so two replicas never work on one
//! appointment together. The calls run outside any transaction. A worker
//! killed after Cal.com made a booking but before it recorded the uid leaves
//! a lease that runs out; the next attempt first looks for the booking the
//! killed one made (bookings carry the appointment id in their metadata),
//! so a booking is never made twice.
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::calcom::wire::{self, APPOINTMENT_METADATA_KEY};
use crate::calcom::{BusyTimes, CalcomClient, CalcomError, Connection};
use crate::config::Config;
use crate::domain::appointment::Status;
use crate::domain::ids::{BranchId, TenantId};
use crate::error::Result;
use crate::store::calcom::{self, AttemptEnd, CopyFacts};
use crate::store::entities::{appointment, branch, calcom_staff_link, calcom_sync, customer};
use crate::store::{Store, appointments, branches, customers, retry};

/// Copies claimed per pass (and synced concurrently).
const BATCH: u64 = 16;
/// How often the worker looks for due copies when the last pass found none.
const POLL: Duration = Duration::from_millis(500);
/// How often the pending gauge is recounted.
const GAUGE_EVERY: Duration = Duration::from_secs(5);
/// One attempt may take as long as this many calls (a reschedule that must
/// follow Cal.com's own earlier reschedule takes three); it is cut off
/// there, and the lease lasts longer.
const CALLS_PER_ATTEMPT: u32 = 4;

#[derive(Clone)]
pub struct Worker {
    store: Store,
    client: CalcomClient,
    /// Forgotten after a change in Cal.com, so slots are read afresh.
    busy: Arc<BusyTimes>,
    schedule: Vec<Duration>,
    /// The longest one attempt may take.
    budget: Duration,
    lease: Duration,
}

/// Everything one attempt reads from AskPro.
struct Subject {
    connection: Connection,
    link: Option<calcom_staff_link::Model>,
    appointment: appointment::Model,
    customer: customer::Model,
    branch: branch::Model,
}

impl Worker {
    pub fn new(store: Store, client: CalcomClient, busy: Arc<BusyTimes>, config: &Config) -> Self {
        let budget = config.calcom_timeout() * CALLS_PER_ATTEMPT;
        Self {
            store,
            client,
            busy,
            schedule: config.calcom_retry_schedule_secs.iter().map(|s| Duration::from_secs(*s)).collect(),
            budget,
            // Longer than an attempt may take, so a live worker's lease never
            // runs out under it.
            lease: budget + Duration::from_secs(2),
        }
    }

    /// Runs forever; errors (a database outage) are logged and retried.
    pub async fn run(self) {
        let mut gauge_due = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= gauge_due {
                gauge_due += GAUGE_EVERY;
                if let Ok(pending) = self.pending().await {
                    metrics::gauge!(crate::metrics::CALCOM_SYNC_PENDING).set(pending as f64);
                }
            }
            match self.sync_due().await {
                Ok(0) => tokio::time::sleep(POLL).await,
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "Cal.com sync pass failed; retrying");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    async fn pending(&self) -> Result<u64> {
        let tx = self.store.platform_read().await?;
        let pending = calcom::pending_everywhere(&tx).await?;
        tx.commit().await?;
        Ok(pending)
    }

    /// One pass: claims what is due and syncs it; returns how many.
    pub async fn sync_due(&self) -> Result<usize> {
        let due = retry(|| async {
            let tx = self.store.platform().await?;
            let due = calcom::claim_due(&tx, self.lease, BATCH).await?;
            tx.commit().await?;
            Ok(due)
        })
        .await?;
        let count = due.len();
        let results = futures::future::join_all(due.iter().map(|row| self.sync(row))).await;
        for err in results.into_iter().filter_map(Result::err) {
            // The lease runs out and the copy is tried again.
            tracing::warn!(error = %err, "could not record a Cal.com sync attempt");
        }
        Ok(count)
    }

    async fn sync(&self, claimed: &calcom_sync::Model) -> Result<()> {
        let tenant = TenantId(claimed.tenant_id);
        let mut facts = CopyFacts {
            uid: claimed.calcom_uid.clone(),
            start: claimed.synced_start,
            cancelled: claimed.synced_cancelled,
        };
        let end = match self.subject(tenant, claimed).await? {
            None => AttemptEnd::DeadLettered { error: "the tenant is no longer connected to Cal.com".into() },
            Some(subject) => {
                let attempt = reconcile(&self.client, &subject, claimed, &mut facts);
                match tokio::time::timeout(self.budget, attempt).await.unwrap_or(Err(CalcomError::Timeout)) {
                    Ok(()) => AttemptEnd::Synced,
                    Err(err) => self.after_failure(claimed, &err),
                }
            }
        };
        if matches!(end, AttemptEnd::Synced) {
            self.busy.forget(tenant);
        }
        let outcome = match &end {
            AttemptEnd::Synced => "synced",
            AttemptEnd::Retry { counted: false, .. } => "deferred",
            AttemptEnd::Retry { .. } => "retry",
            AttemptEnd::DeadLettered { .. } => "dead_lettered",
        };
        metrics::counter!(crate::metrics::CALCOM_SYNCS_TOTAL, "outcome" => outcome).increment(1);
        if let AttemptEnd::DeadLettered { error } = &end {
            tracing::warn!(%tenant, appointment = %claimed.appointment_id, error, "Cal.com sync dead-lettered");
        }
        retry(|| async {
            let tx = self.store.write(tenant).await?;
            calcom::record(&tx, claimed, facts.clone(), end.clone()).await?;
            tx.commit().await
        })
        .await
    }

    /// Reads the connection, link, appointment, customer and branch.
    async fn subject(&self, tenant: TenantId, claimed: &calcom_sync::Model) -> Result<Option<Subject>> {
        self.store
            .read_with(tenant, async |tx| {
                let Some(row) = calcom::connection(tx).await? else { return Ok(None) };
                let appointment = appointments::get(tx, claimed.appointment_id).await?;
                let link = calcom::links(tx).await?.into_iter().find(|l| l.staff_id == appointment.staff_id);
                let customer = customers::get(tx, appointment.customer_id).await?;
                let branch = branches::get_row(tx, BranchId(appointment.branch_id)).await?;
                let connection = Connection::new(tenant, &row.base_url, calcom::api_key(tx.secrets(), &row)?);
                Ok(Some(Subject { connection, link, appointment, customer, branch }))
            })
            .await
    }

    /// What follows a failed attempt: a retry by the schedule (or when
    /// Cal.com asked), or the dead letter when the schedule is spent or
    /// Cal.com will refuse the same request again.
    fn after_failure(&self, claimed: &calcom_sync::Model, err: &CalcomError) -> AttemptEnd {
        let error = err.to_string();
        if let CalcomError::CircuitOpen { retry_after } = err {
            return AttemptEnd::Retry { error, next: later(*retry_after), counted: false };
        }
        if !err.is_transient() {
            return AttemptEnd::DeadLettered { error };
        }
        let position = usize::try_from(claimed.attempt_count - 1).unwrap_or(0);
        match self.schedule.get(position) {
            Some(delay) => {
                let wait = err.retry_after().map_or(*delay, |asked| asked.max(*delay));
                AttemptEnd::Retry { error, next: later(with_jitter(wait)), counted: true }
            }
            None => AttemptEnd::DeadLettered { error: format!("retries exhausted: {error}") },
        }
    }
}

fn later(wait: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX)
}

/// `delay` plus up to 10% random jitter.
fn with_jitter(delay: Duration) -> Duration {
    delay + Duration::from_millis(rand::random_range(0..=delay.as_millis() as u64 / 10))
}

/// Makes Cal.com agree with the appointment: booked at its start while it
/// is active, cancelled once it is cancelled. `facts` follows every call
/// that changed Cal.com, so what succeeded is recorded even when a later
/// call fails.
async fn reconcile(
    client: &CalcomClient,
    subject: &Subject,
    claimed: &calcom_sync::Model,
    facts: &mut CopyFacts,
) -> Result<(), CalcomError> {
    let appointment = &subject.appointment;
    let connection = &subject.connection;
    if facts.uid.is_empty() && claimed.attempt_count > 1 {
        // An earlier attempt may have made the booking and died before
        // recording it.
        let since = claimed.create_time - chrono::TimeDelta::minutes(5);
        if let Some(found) = client.find_booking_of(connection, appointment.id, since).await? {
            adopt(facts, &found);
        }
    }
    let cancelled = appointment.status.parse::<Status>().is_ok_and(|s| s == Status::Cancelled);
    if cancelled {
        if facts.uid.is_empty() || facts.cancelled {
            return Ok(());
        }
        let reason =
            if appointment.cancel_reason.is_empty() { "Cancelled in AskPro" } else { &appointment.cancel_reason };
        return match client.cancel_booking(connection, &facts.uid, reason).await {
            Ok(_) => {
                facts.cancelled = true;
                Ok(())
            }
            // Cal.com refuses to cancel a cancelled booking: that is agreement.
            Err(err @ CalcomError::Rejected { .. }) => {
                let current = client.booking(connection, &facts.uid).await?;
                if current.is_cancelled() {
                    facts.cancelled = true;
                    Ok(())
                } else {
                    Err(err)
                }
            }
            Err(err) => Err(err),
        };
    }
    let Some(link) = &subject.link else {
        return Err(CalcomError::Rejected {
            status: 0,
            message: "the appointment's staff member is not linked to a Cal.com event type".into(),
        });
    };
    for _ in 0..3 {
        if facts.uid.is_empty() || facts.cancelled {
            let booking = client.create_booking(connection, &new_booking(subject, link)).await?;
            adopt(facts, &booking);
            return Ok(());
        }
        if facts.start == Some(appointment.start_time) {
            return Ok(());
        }
        match client.reschedule_booking(connection, &facts.uid, appointment.start_time, "Rescheduled in AskPro").await {
            Ok(booking) => {
                adopt(facts, &booking);
                return Ok(());
            }
            // Already moved (an earlier attempt, or someone in Cal.com):
            // follow the booking it was moved to and look again.
            Err(err @ CalcomError::Rejected { .. }) => {
                let current = client.booking(connection, &facts.uid).await?;
                match current.rescheduled_to_uid.as_deref() {
                    Some(next) if !next.is_empty() => {
                        let moved = client.booking(connection, next).await?;
                        adopt(facts, &moved);
                    }
                    _ => return Err(err),
                }
            }
            Err(err) => return Err(err),
        }
    }
    Err(CalcomError::Rejected { status: 0, message: "Cal.com's booking keeps moving; gave up following it".into() })
}

fn adopt(facts: &mut CopyFacts, booking: &wire::Booking) {
    facts.uid = booking.uid.clone();
    facts.start = Some(booking.start);
    facts.cancelled = booking.is_cancelled();
}

/// POST /v2/bookings for the appointment: its start in UTC, its length
/// when the event type's default differs, the customer as attendee in the
/// branch's time zone, and the appointment id in the metadata.
fn new_booking(subject: &Subject, link: &calcom_staff_link::Model) -> wire::CreateBooking {
    let appointment = &subject.appointment;
    let customer = &subject.customer;
    let minutes = (appointment.end_time - appointment.start_time).num_minutes();
    let name = if customer.display_name.trim().is_empty() {
        format!("Caller {}", customer.phone_number)
    } else {
        customer.display_name.clone()
    };
    wire::CreateBooking {
        start: appointment.start_time,
        event_type_id: link.event_type_id,
        length_in_minutes: (minutes != i64::from(link.event_type_length)).then_some(minutes),
        attendee: wire::Attendee {
            name,
            time_zone: subject.branch.time_zone.clone(),
            email: Some(customer.email.clone()).filter(|e| !e.is_empty()),
            phone_number: Some(customer.phone_number.clone()).filter(|p| !p.is_empty()),
        },
        metadata: [(APPOINTMENT_METADATA_KEY.to_owned(), appointment.id.to_string())].into(),
    }
}
