//! The demo tenant for a first run: a hair salon in Berlin with one branch,
//! three staff, four services and weekly hours, plus fresh keys for each
//! scope. Running it again reuses the tenant and replaces the demo keys.
use secrecy::ExposeSecret;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::api_key;
use crate::domain::ids::TenantId;
use crate::domain::scope::Scope;
use crate::error::Result;
use crate::store::api_keys::{self, NewApiKey};
use crate::store::branches::{self, NewBranch};
use crate::store::services::{self, NewService, ServiceTimings};
use crate::store::staff::{self, NewStaff};
use crate::store::working_hours::{self, WeeklyInterval};
use crate::store::{Store, tenants};

pub const DEMO_TENANT_NAME: &str = "Salon Schnittpunkt (demo)";
const PLATFORM_KEY_NAME: &str = "demo platform admin";
const TENANT_ADMIN_KEY_NAME: &str = "demo tenant admin";
const AGENT_KEY_NAME: &str = "demo agent";

/// What the seed made, printed once (keys are not stored in clear).
#[derive(Debug, Serialize)]
pub struct DemoSeed {
    pub tenant_id: String,
    pub branch_id: String,
    pub staff_ids: Vec<String>,
    pub service_ids: Vec<String>,
    pub platform_admin_key: String,
    pub tenant_admin_key: String,
    pub agent_key: String,
    /// Whether this run created the tenant (false: it existed already).
    pub created: bool,
}

pub async fn seed_demo(store: &Store) -> Result<DemoSeed> {
    let platform = store.platform().await?;
    let existing = tenants::find_by_name(&platform, DEMO_TENANT_NAME).await?;
    let created = existing.is_none();
    let tenant = match existing {
        Some(tenant) => tenant,
        None => {
            let new = tenants::NewTenant {
                display_name: DEMO_TENANT_NAME.into(),
                time_zone: "Europe/Berlin".into(),
                region_code: "DE".into(),
                allow_overlapping_customer_appointments: false,
                caller_disclosure: Default::default(),
            };
            tenants::create(&platform, new).await?
        }
    };
    api_keys::revoke_platform_named(&platform, PLATFORM_KEY_NAME).await?;
    let platform_key = api_key::issue();
    // The demo's platform key is replaced on every start and expires anyway.
    let expire_time = Some(crate::store::now() + chrono::Duration::days(30));
    api_keys::create_platform_admin_until(&platform, &platform_key, PLATFORM_KEY_NAME.into(), expire_time).await?;
    platform.commit().await?;

    let tx = store.write(TenantId(tenant.id)).await?;
    if created {
        create_salon(&tx).await?;
    }
    let mut keys = Vec::new();
    for (name, scope) in [(TENANT_ADMIN_KEY_NAME, Scope::TenantAdmin), (AGENT_KEY_NAME, Scope::Agent)] {
        api_keys::revoke_named(&tx, name).await?;
        let issued = api_key::issue();
        api_keys::create(&tx, &issued, NewApiKey { display_name: name.into(), scope, expire_time: None }).await?;
        keys.push(issued.full_key.expose_secret().to_owned());
    }
    let page = crate::domain::page::PageRequest::parse(0, "", tenant.id, "seed")?;
    let branch = branches::list(&tx, &page).await?.into_iter().next();
    let members = staff::list(&tx, &page, None).await?;
    let offered = services::list(&tx, &page).await?;
    tx.commit().await?;

    Ok(DemoSeed {
        tenant_id: tenant.id.to_string(),
        branch_id: branch.map(|b| b.row.id.to_string()).unwrap_or_default(),
        staff_ids: members.iter().map(|m| m.row.id.to_string()).collect(),
        service_ids: offered.iter().map(|s| s.id.to_string()).collect(),
        platform_admin_key: platform_key.full_key.expose_secret().to_owned(),
        tenant_admin_key: keys[0].clone(),
        agent_key: keys[1].clone(),
        created,
    })
}

async fn create_salon(tx: &crate::store::TenantTx) -> Result<()> {
    let branch = branches::create(
        tx,
        NewBranch {
            display_name: "Schnittpunkt Mitte".into(),
            time_zone: "Europe/Berlin".into(),
            region_code: "DE".into(),
            address: "Torstraße 1, 10119 Berlin".into(),
            phone_numbers: vec!["+493012345678".into()],
        },
    )
    .await?;
    let service = |name: &str, duration, before, after| NewService {
        display_name: name.into(),
        description: String::new(),
        timings: ServiceTimings {
            duration,
            buffer_before: before,
            buffer_after: after,
            minimum_notice: 60,
            booking_horizon: 60 * 24 * 60,
            slot_step: 15,
        },
    };
    let mut service_ids: Vec<Uuid> = Vec::new();
    for new in [
        service("Damenhaarschnitt", 60, 0, 10),
        service("Herrenhaarschnitt", 30, 0, 5),
        service("Färben", 90, 10, 15),
        service("Bartpflege", 20, 0, 5),
    ] {
        service_ids.push(services::create(tx, new).await?.id);
    }
    // Tuesday to Friday 09:00-13:00 and 14:00-18:00, Saturday 09:00-14:00.
    let mut week = Vec::new();
    for day in 2..=5 {
        week.push(WeeklyInterval { day_of_week: day, start_minute: 9 * 60, end_minute: 13 * 60 });
        week.push(WeeklyInterval { day_of_week: day, start_minute: 14 * 60, end_minute: 18 * 60 });
    }
    week.push(WeeklyInterval { day_of_week: 6, start_minute: 9 * 60, end_minute: 14 * 60 });
    let staff_services = [
        ("Anna Weber", vec![service_ids[0], service_ids[2]]),
        ("Ben Schulz", vec![service_ids[1], service_ids[3]]),
        ("Clara Fischer", service_ids.clone()),
    ];
    for (name, offered) in staff_services {
        let member = staff::create(
            tx,
            NewStaff {
                branch_id: branch.row.id,
                display_name: name.into(),
                email: String::new(),
                service_ids: offered,
            },
        )
        .await?;
        working_hours::replace(tx, member.row.id, &week).await?;
    }
    Ok(())
}
