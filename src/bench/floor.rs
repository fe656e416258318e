//! The booking floor baseline: the database's share of a booking and
//! nothing else, to tell what CreateAppointment could reach at best.
//!
//! One write transaction of the bench tenant through the store (so the role,
//! the tenant id and the deadline are set as for every transaction) whose one
//! statement, sent with the commit, writes the four rows a booking cannot do
//! without: its slot claim (checked by the exclusion constraint on
//! PostgreSQL), the appointment, its outbox event and its idempotency record,
//! plus one notification (the change feed). No gRPC, no reads, no checks.
//! Each call claims a distinct half hour of one of the seeded staff, years
//! after anything the other operations touch, so calls never collide.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryTrait};
use tonic::Status;
use uuid::Uuid;

use super::runner::{Caller, Failure};
use super::seed::Fixture;
use crate::domain::ids::TenantId;
use crate::store::entities::{appointment, idempotency_record, outbox_event, slot_claim};
use crate::store::{Scoped, Store, TenantTx, all_set, now};

/// 2033-05-18: far past every seeded or bookable slot.
const FIRST_START: i64 = 2_000_000_000;
const HALF_HOUR: i64 = 30 * 60;

pub struct BookingFloor {
    store: Store,
    fixture: Arc<Fixture>,
    /// Shared by every caller of the run: the next half hour to claim.
    next: Arc<AtomicU64>,
}

impl BookingFloor {
    pub fn new(store: Store, fixture: Arc<Fixture>, next: Arc<AtomicU64>) -> Self {
        Self { store, fixture, next }
    }
}

#[async_trait]
impl Caller for BookingFloor {
    async fn call(&mut self) -> Result<u64, Failure> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let staff = self.fixture.staff_ids.len() as u64;
        let staff_id = self.fixture.staff_ids[(n % staff) as usize];
        let start = DateTime::from_timestamp(FIRST_START + (n / staff) as i64 * HALF_HOUR, 0).unwrap_or_default();
        let customer_id = self.fixture.customer_ids[(n % self.fixture.customer_ids.len() as u64) as usize];
        let (fixture, request_id) = (self.fixture.clone(), format!("floor-{n}"));
        self.store
            .write_with(TenantId(fixture.tenant_id), async |tx| {
                write_booking_rows(tx, &fixture, staff_id, customer_id, start, &request_id);
                Ok(())
            })
            .await
            .map_err(|err| Failure::from(Status::from(err)))?;
        Ok(1)
    }
}

fn write_booking_rows(
    tx: &TenantTx,
    fixture: &Fixture,
    staff_id: Uuid,
    customer_id: Uuid,
    start: DateTime<Utc>,
    request_id: &str,
) {
    let backend = tx.conn().get_database_backend();
    let (tenant_id, id, at) = (fixture.tenant_id, Uuid::now_v7(), now());
    let end = start + chrono::Duration::seconds(HALF_HOUR);
    let claim = slot_claim::Model {
        tenant_id,
        id,
        staff_id,
        kind: "appointment".into(),
        block_start: start,
        block_end: end,
        active: true,
        expire_time: None,
    };
    let row = appointment::Model {
        tenant_id,
        id,
        branch_id: fixture.branch_id,
        service_id: fixture.service_ids[super::layout::BOOKED_SERVICE],
        staff_id,
        customer_id,
        start_time: start,
        end_time: end,
        status: "confirmed".into(),
        source: "partner_api".into(),
        notes: String::new(),
        cancel_reason: String::new(),
        call_id: String::new(),
        external_booking_uid: String::new(),
        revision: 1,
        create_time: at,
        update_time: at,
    };
    let event = outbox_event::Model {
        tenant_id,
        id: Uuid::now_v7(),
        event_type: "appointment.created".into(),
        payload: format!(r#"{{"type":"appointment.created","data":{{"id":"{id}"}}}}"#),
        request_id: String::new(),
        occur_time: at,
    };
    let record = idempotency_record::Model {
        tenant_id,
        method: "BookingFloor".into(),
        request_id: request_id.to_owned(),
        fingerprint: vec![0; 32],
        response: vec![0; 200],
        create_time: at,
    };
    tx.write_at_commit(slot_claim::Entity::insert(all_set::<slot_claim::ActiveModel, _>(claim)).build(backend));
    tx.write_at_commit(appointment::Entity::insert(all_set::<appointment::ActiveModel, _>(row)).build(backend));
    tx.write_at_commit(outbox_event::Entity::insert(all_set::<outbox_event::ActiveModel, _>(event)).build(backend));
    tx.write_at_commit(
        idempotency_record::Entity::insert(all_set::<idempotency_record::ActiveModel, _>(record)).build(backend),
    );
    tx.notify_at_commit("askpro_bench_floor", id.to_string());
}
