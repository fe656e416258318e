//! Seeds the bench tenant: a salon with one branch in Europe/Berlin, four
//! services, the staff with their weekly hours, customers, and appointments
//! with their slot claims.
//!
//! The small things go through the store's repositories, like the demo seed;
//! customers and appointments are bulk inserts of whole rows (1,000 a
//! statement, one write transaction each), because 60,000 single-row API
//! calls would take minutes and measure nothing of interest.
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sea_orm::EntityTrait;
use secrecy::ExposeSecret;
use serde::Serialize;
use tonic::transport::Channel;
use uuid::Uuid;

use super::credentials::Credentials;
use super::layout::{self, Planned, SERVICES};
use crate::domain::api_key;
use crate::domain::appointment::{Source, Status};
use crate::domain::ids::TenantId;
use crate::domain::scope::Scope;
use crate::proto::tenant::v1 as tenant_pb;
use crate::proto::tenant::v1::tenant_service_client::TenantServiceClient;
use crate::store::api_keys::{self, NewApiKey};
use crate::store::branches::{self, NewBranch};
use crate::store::entities::{appointment, customer, slot_claim};
use crate::store::services::{self, NewService, ServiceTimings};
use crate::store::staff::{self, NewStaff};
use crate::store::working_hours::{self, WeeklyInterval};
use crate::store::{Store, all_set, tenants};

/// Rows per bulk INSERT: an appointment has 17 columns, so 1,000 rows stay
/// below SQLite's 32,766 bound parameters and PostgreSQL's 65,535.
const BATCH: usize = 1000;
/// The seeded data is the same in every run (apart from ids and "today").
const SEED: u64 = 2026;
pub const TIME_ZONE: &str = "Europe/Berlin";

/// How big the seeded tenant is.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Size {
    pub staff: usize,
    pub customers: usize,
    pub appointments: usize,
}

/// How the tenant and its key are made: through the store (in-process
/// server) or through the target server's API with a platform-admin key.
pub enum TenantMaker<'a> {
    Store,
    Api { channel: Channel, platform_key: &'a str },
}

/// What the operations need to know about the seeded tenant.
pub struct Fixture {
    pub tenant_id: Uuid,
    /// An AGENT key of the tenant: it may read everything and book.
    pub agent_key: String,
    pub branch_id: Uuid,
    /// In the order of `layout::SERVICES`.
    pub service_ids: Vec<Uuid>,
    pub staff_ids: Vec<Uuid>,
    pub customer_ids: Vec<Uuid>,
    /// The customers' numbers as a caller's phone shows them ("0151...").
    pub customer_phones: Vec<String>,
    /// Free (staff, start) slots of the booked service, shuffled.
    pub free_slots: Vec<(Uuid, i64)>,
    pub time_zone: TimeZone,
    pub today: Date,
    /// The local date of the earliest seeded appointment.
    pub first_day: Date,
}

/// How long each part of the seeding took.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct SeedTimings {
    #[serde(rename = "setup_secs", serialize_with = "super::report::seconds")]
    pub setup: Duration,
    #[serde(rename = "customers_secs", serialize_with = "super::report::seconds")]
    pub customers: Duration,
    #[serde(rename = "appointments_secs", serialize_with = "super::report::seconds")]
    pub appointments: Duration,
    #[serde(rename = "total_secs", serialize_with = "super::report::seconds")]
    pub total: Duration,
}

pub async fn seed(store: &Store, maker: TenantMaker<'_>, size: Size) -> anyhow::Result<(Fixture, SeedTimings)> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(SEED);
    let time_zone = TimeZone::get(TIME_ZONE)?;
    let now = jiff::Timestamp::now();
    let today = time_zone.to_datetime(now).date();

    let (tenant, agent_key) = create_tenant(store, maker).await?;
    let salon = create_salon(store, tenant, size.staff).await?;
    let setup = started.elapsed();

    let at = Instant::now();
    let (customer_ids, customer_phones) = insert_customers(store, tenant, size.customers, &mut rng).await?;
    let customers_took = at.elapsed();

    let at = Instant::now();
    let planned =
        layout::plan_appointments(size.staff, size.appointments, &time_zone, today, now.as_second(), &mut rng)?;
    insert_appointments(store, tenant, &salon, &customer_ids, &planned, &mut rng).await?;
    // A database that grew to this size in service has planner statistics
    // (SQLite: the server's hourly `optimize`; PostgreSQL: autovacuum). A
    // bulk load has none yet, so gather them as those would.
    store.refresh_statistics().await?;
    if store.backend() == sea_orm::DbBackend::Postgres {
        sea_orm::ConnectionTrait::execute_unprepared(store.connection(), "ANALYZE").await?;
    }
    let appointments_took = at.elapsed();

    let mut free_slots: Vec<(Uuid, i64)> = layout::free_slots(size.staff, &time_zone, today)?
        .into_iter()
        .map(|(member, start)| (salon.staff_ids[member], start))
        .collect();
    free_slots.shuffle(&mut rng);
    let first_day = match planned.iter().map(|p| p.start).min() {
        Some(start) => time_zone.to_datetime(jiff::Timestamp::from_second(start)?).date(),
        None => today,
    };
    let timings =
        SeedTimings { setup, customers: customers_took, appointments: appointments_took, total: started.elapsed() };
    let fixture = Fixture {
        tenant_id: tenant.0,
        agent_key,
        branch_id: salon.branch_id,
        service_ids: salon.service_ids,
        staff_ids: salon.staff_ids,
        customer_ids,
        customer_phones,
        free_slots,
        time_zone,
        today,
        first_day,
    };
    Ok((fixture, timings))
}

async fn create_tenant(store: &Store, maker: TenantMaker<'_>) -> anyhow::Result<(TenantId, String)> {
    // A unique name: against a target server, earlier bench tenants remain.
    let display_name = format!("AskPro bench {}", Uuid::now_v7().simple());
    match maker {
        TenantMaker::Store => {
            let platform = store.platform().await?;
            let new = tenants::NewTenant {
                display_name,
                time_zone: TIME_ZONE.into(),
                region_code: "DE".into(),
                allow_overlapping_customer_appointments: false,
                caller_disclosure: Default::default(),
            };
            let tenant = tenants::create(&platform, new).await?;
            platform.commit().await?;
            let tx = store.write(TenantId(tenant.id)).await?;
            let issued = api_key::issue();
            let new_key = NewApiKey { display_name: "bench agent".into(), scope: Scope::Agent, expire_time: None };
            api_keys::create(&tx, &issued, new_key).await?;
            tx.commit().await?;
            Ok((TenantId(tenant.id), issued.full_key.expose_secret().to_owned()))
        }
        TenantMaker::Api { channel, platform_key } => {
            let mut client = TenantServiceClient::new(channel);
            let request = tenant_pb::CreateTenantRequest {
                request_id: Uuid::now_v7().to_string(),
                tenant: Some(tenant_pb::Tenant {
                    display_name,
                    time_zone: TIME_ZONE.into(),
                    region_code: "DE".into(),
                    ..Default::default()
                }),
            };
            let tenant =
                client.create_tenant(Credentials::new(platform_key, None)?.request(request)).await?.into_inner().tenant;
            let tenant_id = Uuid::try_parse(&tenant.map(|t| t.id).unwrap_or_default())?;
            let request = tenant_pb::CreateApiKeyRequest {
                api_key: Some(tenant_pb::ApiKey {
                    display_name: "bench agent".into(),
                    scope: tenant_pb::ApiKeyScope::Agent as i32,
                    ..Default::default()
                }),
            };
            let secret = client
                .create_api_key(Credentials::new(platform_key, Some(tenant_id))?.request(request))
                .await?
                .into_inner()
                .secret;
            Ok((TenantId(tenant_id), secret))
        }
    }
}

struct Salon {
    branch_id: Uuid,
    service_ids: Vec<Uuid>,
    staff_ids: Vec<Uuid>,
}

async fn create_salon(store: &Store, tenant: TenantId, staff_count: usize) -> anyhow::Result<Salon> {
    let tx = store.write(tenant).await?;
    let branch = branches::create(
        &tx,
        NewBranch {
            display_name: "Bench Mitte".into(),
            time_zone: TIME_ZONE.into(),
            region_code: "DE".into(),
            address: "Torstraße 1, 10119 Berlin".into(),
            // None: branch numbers are unique across tenants, and against a
            // target server earlier bench tenants keep theirs.
            phone_numbers: Vec::new(),
        },
    )
    .await?;
    let mut service_ids = Vec::new();
    for spec in SERVICES {
        let new = NewService {
            display_name: spec.name.into(),
            description: String::new(),
            timings: ServiceTimings {
                duration: spec.duration,
                buffer_before: spec.buffer_before,
                buffer_after: spec.buffer_after,
                minimum_notice: 60,
                booking_horizon: layout::HORIZON_DAYS * 24 * 60,
                slot_step: layout::SLOT_STEP,
            },
        };
        service_ids.push(services::create(&tx, new).await?.id);
    }
    let week: Vec<WeeklyInterval> = layout::WORK_DAYS
        .map(|day| WeeklyInterval {
            day_of_week: day,
            start_minute: layout::OPEN_MINUTE,
            end_minute: layout::CLOSE_MINUTE,
        })
        .collect();
    let mut staff_ids = Vec::with_capacity(staff_count);
    for index in 0..staff_count {
        let new = NewStaff {
            branch_id: branch.row.id,
            display_name: person_name(index * 7 + 3),
            email: String::new(),
            service_ids: service_ids.clone(),
        };
        let member = staff::create(&tx, new).await?;
        working_hours::replace(&tx, member.row.id, &week).await?;
        staff_ids.push(member.row.id);
    }
    tx.commit().await?;
    Ok(Salon { branch_id: branch.row.id, service_ids, staff_ids })
}

/// Customer `index`'s number: +49 151 and eight digits, distinct for every
/// index below 10^8 (7919 is coprime to 10^8, so the map is a bijection).
pub fn customer_digits(index: usize) -> String {
    let digits = (index as u64).wrapping_mul(7919).wrapping_add(10_000_019) % 100_000_000;
    format!("{digits:08}")
}

async fn insert_customers(
    store: &Store,
    tenant: TenantId,
    count: usize,
    rng: &mut StdRng,
) -> anyhow::Result<(Vec<Uuid>, Vec<String>)> {
    let now = Utc::now().timestamp();
    let mut ids = Vec::with_capacity(count);
    let mut phones = Vec::with_capacity(count);
    let mut rows = Vec::with_capacity(BATCH);
    for index in 0..count {
        let digits = customer_digits(index);
        // Customers joined over the last 400 days: the dashboard counts new ones.
        let created = at(now - rng.random_range(0..400 * 86_400));
        let id = Uuid::now_v7();
        rows.push(customer::Model {
            tenant_id: tenant.0,
            id,
            phone_number: format!("+49151{digits}"),
            display_name: person_name(index),
            email: if index % 2 == 0 { format!("kunde{index}@example.com") } else { String::new() },
            notes: String::new(),
            revision: 1,
            create_time: created,
            update_time: created,
            delete_time: None,
        });
        ids.push(id);
        phones.push(format!("0151{digits}"));
        if rows.len() == BATCH || index + 1 == count {
            let tx = store.write(tenant).await?;
            // Written in bulk, past the repositories: every cache forgets the tenant.
            tx.changed(|c| c.everything = true);
            customer::Entity::insert_many(rows.drain(..).map(all_set::<customer::ActiveModel, _>))
                .exec_without_returning(tx.conn())
                .await?;
            tx.commit().await?;
        }
    }
    Ok((ids, phones))
}

async fn insert_appointments(
    store: &Store,
    tenant: TenantId,
    salon: &Salon,
    customer_ids: &[Uuid],
    planned: &[Planned],
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    if customer_ids.is_empty() && !planned.is_empty() {
        anyhow::bail!("appointments need at least one customer");
    }
    let now = Utc::now().timestamp();
    for (chunk_index, chunk) in planned.chunks(BATCH).enumerate() {
        let mut appointments = Vec::with_capacity(chunk.len());
        let mut claims = Vec::with_capacity(chunk.len());
        for (offset, plan) in chunk.iter().enumerate() {
            let number = chunk_index * BATCH + offset;
            let id = Uuid::now_v7();
            let source = match rng.random_range(0..10) {
                0..6 => Source::PhoneAgent,
                6..9 => Source::Frontend,
                _ => Source::PartnerApi,
            };
            // Booked between an hour and four weeks ahead, never in the future.
            let created = at((plan.start - rng.random_range(3_600..28 * 86_400)).min(now));
            let closed = plan.status != Status::Pending && plan.status != Status::Confirmed;
            appointments.push(appointment::Model {
                tenant_id: tenant.0,
                id,
                branch_id: salon.branch_id,
                service_id: salon.service_ids[plan.service],
                staff_id: salon.staff_ids[plan.staff],
                customer_id: customer_ids[rng.random_range(0..customer_ids.len())],
                start_time: at(plan.start),
                end_time: at(plan.end),
                status: plan.status.as_str().into(),
                source: source.as_str().into(),
                notes: String::new(),
                cancel_reason: if plan.status == Status::Cancelled {
                    "Kunde hat abgesagt".into()
                } else {
                    String::new()
                },
                call_id: if source == Source::PhoneAgent { format!("bench-call-{number}") } else { String::new() },
                external_booking_uid: String::new(),
                revision: if closed { 2 } else { 1 },
                create_time: created,
                update_time: if closed { at(plan.end.min(now).max(created.timestamp())) } else { created },
            });
            // Like the API: cancelling frees the time; completing or marking a
            // no-show leaves the claim as it was.
            claims.push(slot_claim::Model {
                tenant_id: tenant.0,
                id,
                staff_id: salon.staff_ids[plan.staff],
                kind: "appointment".into(),
                block_start: at(plan.block_start),
                block_end: at(plan.block_end),
                active: plan.status != Status::Cancelled,
                expire_time: None,
            });
        }
        let tx = store.write(tenant).await?;
        // Written in bulk, past the repositories: every cache forgets the tenant.
        tx.changed(|c| c.everything = true);
        appointment::Entity::insert_many(appointments.into_iter().map(all_set::<appointment::ActiveModel, _>))
            .exec_without_returning(tx.conn())
            .await?;
        slot_claim::Entity::insert_many(claims.into_iter().map(all_set::<slot_claim::ActiveModel, _>))
            .exec_without_returning(tx.conn())
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

fn at(unix_seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix_seconds, 0).unwrap_or_default()
}

/// A plausible German name, varied by `index`.
fn person_name(index: usize) -> String {
    const FIRST: [&str; 16] = [
        "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Jonas", "Lea", "Lukas", "Mia", "Noah",
        "Paul", "Sophie", "Tim",
    ];
    const LAST: [&str; 16] = [
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Becker",
        "Schulz",
        "Hoffmann",
        "Koch",
        "Richter",
        "Klein",
        "Wolf",
        "Neumann",
        "Schwarz",
    ];
    format!("{} {}", FIRST[index % FIRST.len()], LAST[(index / FIRST.len()) % LAST.len()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::phone::PhoneNumber;
    use crate::domain::validate::RegionCode;

    #[test]
    fn customer_numbers_are_valid_distinct_and_found_in_national_form() {
        let de = RegionCode::parse("DE").expect("region");
        let mut seen = std::collections::HashSet::new();
        for index in 0..20_000 {
            assert!(seen.insert(customer_digits(index)), "duplicate number for {index}");
        }
        for index in [0, 1, 9_999, 123_456] {
            let digits = customer_digits(index);
            let parsed = PhoneNumber::parse(&format!("0151{digits}"), &de).expect("valid number");
            assert_eq!(parsed.as_str(), format!("+49151{digits}"));
        }
    }
}
