//! A tenant's booking configuration: live branches, services, staff with
//! the services they offer, weekly working hours, the tenant's region and
//! its active webhook subscriptions. Bookings and slot lists read it on
//! every call; it changes a few times a day. Cached per tenant (see `caches`); a repository that writes any of
//! it marks its transaction with `Changes::config`.
use std::collections::HashMap;

use uuid::Uuid;

use crate::domain::slots::WeeklyInterval;
use crate::error::{Error, Result};
use crate::store::TenantTx;
use crate::store::entities::{branch, calcom_staff_link, service};
use crate::store::staff::StaffMember;
use crate::store::subscriptions::{ActiveSubscriptions, active_subscriptions};

/// One tenant's configuration as of one moment.
#[derive(Debug, Default)]
pub struct TenantConfig {
    pub branches: HashMap<Uuid, branch::Model>,
    pub services: HashMap<Uuid, service::Model>,
    pub staff: HashMap<Uuid, StaffMember>,
    pub weekly_hours: HashMap<Uuid, Vec<WeeklyInterval>>,
    /// The tenant's default region for reading phone numbers.
    pub region_code: String,
    /// The tenant's time zone (the dashboard's, without a branch).
    pub time_zone: String,
    /// Whether one customer may have appointments at the same time (with
    /// different staff members); refused by default.
    pub allow_overlapping_customer_appointments: bool,
    /// How much the inbound-call answer tells about a caller known by number.
    pub caller_disclosure: crate::domain::disclosure::CallerDisclosure,
    /// Who gets the tenant's webhook events (see `subscriptions::wanting`).
    pub subscriptions: ActiveSubscriptions,
    /// Staff whose appointments sync to Cal.com, by staff id.
    pub calcom_links: HashMap<Uuid, calcom_staff_link::Model>,
}

impl TenantConfig {
    /// A live branch, or NOT_FOUND as the repositories answer it.
    pub fn branch(&self, id: Uuid) -> Result<&branch::Model> {
        self.branches.get(&id).ok_or(Error::NotFound { resource: "branch" })
    }

    pub fn service(&self, id: Uuid) -> Result<&service::Model> {
        self.services.get(&id).ok_or(Error::NotFound { resource: "service" })
    }

    pub fn staff(&self, id: Uuid) -> Result<&StaffMember> {
        self.staff.get(&id).ok_or(Error::NotFound { resource: "staff" })
    }

    /// A staff member's weekly intervals, ordered by day and start.
    pub fn weekly_hours(&self, staff_id: Uuid) -> &[WeeklyInterval] {
        self.weekly_hours.get(&staff_id).map_or(&[], Vec::as_slice)
    }

    /// Whether a live staff member of `branch_id` offers `service_id`.
    pub fn offers(member: &StaffMember, branch_id: Uuid, service_id: Uuid) -> bool {
        member.row.branch_id == branch_id && member.service_ids.contains(&service_id)
    }

    /// Live staff of `branch_id` who offer `service_id`, ordered by id.
    pub fn offering(&self, branch_id: Uuid, service_id: Uuid) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> =
            self.staff.values().filter(|m| Self::offers(m, branch_id, service_id)).map(|m| m.row.id).collect();
        ids.sort_unstable();
        ids
    }
}

/// Reads the tenant's whole booking configuration (eight queries).
pub(crate) async fn load(tx: &TenantTx) -> Result<TenantConfig> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    use crate::store::entities::{staff, staff_service, working_hours};
    let tenant = tx.tenant().0;
    let tenant_row = crate::store::tenants::get(tx).await?;
    let branches = branch::Entity::find()
        .filter(branch::Column::TenantId.eq(tenant))
        .filter(branch::Column::DeleteTime.is_null())
        .all(tx.conn())
        .await?;
    let services = service::Entity::find()
        .filter(service::Column::TenantId.eq(tenant))
        .filter(service::Column::DeleteTime.is_null())
        .all(tx.conn())
        .await?;
    let members = staff::Entity::find()
        .filter(staff::Column::TenantId.eq(tenant))
        .filter(staff::Column::DeleteTime.is_null())
        .all(tx.conn())
        .await?;
    let offered = staff_service::Entity::find()
        .filter(staff_service::Column::TenantId.eq(tenant))
        .order_by_asc(staff_service::Column::ServiceId)
        .all(tx.conn())
        .await?;
    let hours = working_hours::Entity::find()
        .filter(working_hours::Column::TenantId.eq(tenant))
        .order_by_asc(working_hours::Column::StaffId)
        .order_by_asc(working_hours::Column::DayOfWeek)
        .order_by_asc(working_hours::Column::StartMinute)
        .all(tx.conn())
        .await?;
    let subscriptions = active_subscriptions(tx).await?;
    let calcom_links = crate::store::calcom::links(tx).await?;
    let mut config = TenantConfig {
        branches: branches.into_iter().map(|b| (b.id, b)).collect(),
        services: services.into_iter().map(|s| (s.id, s)).collect(),
        staff: members.into_iter().map(|row| (row.id, StaffMember { row, service_ids: Vec::new() })).collect(),
        weekly_hours: HashMap::new(),
        region_code: tenant_row.region_code,
        time_zone: tenant_row.time_zone,
        allow_overlapping_customer_appointments: tenant_row.allow_overlapping_customer_appointments,
        caller_disclosure: crate::domain::disclosure::CallerDisclosure::from_stored(&tenant_row.caller_disclosure),
        subscriptions,
        calcom_links: calcom_links.into_iter().map(|l| (l.staff_id, l)).collect(),
    };
    for row in offered {
        if let Some(member) = config.staff.get_mut(&row.staff_id) {
            member.service_ids.push(row.service_id);
        }
    }
    for row in hours {
        config.weekly_hours.entry(row.staff_id).or_default().push(WeeklyInterval {
            day_of_week: row.day_of_week,
            start_minute: row.start_minute,
            end_minute: row.end_minute,
        });
    }
    Ok(config)
}
