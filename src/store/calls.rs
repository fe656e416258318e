//! Voice-agent calls recorded from inbound provider events, one row per
//! provider and provider call id. Events of a call may arrive out of order
//! or twice, so an upsert only fills in and moves the status forward.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entities::call;
use super::{TenantTx, all_set, now};
use crate::domain::webhook::InboundProvider;
use crate::error::{Error, Result};

type Instant = chrono::DateTime<chrono::Utc>;

/// The stage a call has reached; later stages win over earlier ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CallStatus {
    Started,
    Ended,
    Analyzed,
}

impl CallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Started => "started",
            CallStatus::Ended => "ended",
            CallStatus::Analyzed => "analyzed",
        }
    }

    pub fn from_stored(text: &str) -> Option<Self> {
        [CallStatus::Started, CallStatus::Ended, CallStatus::Analyzed].into_iter().find(|s| s.as_str() == text)
    }
}

/// What one event says about a call; `None` fields keep what is stored.
#[derive(Clone, Debug)]
pub struct CallUpdate {
    pub provider: InboundProvider,
    pub provider_call_id: String,
    pub status: CallStatus,
    pub branch_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub appointment_id: Option<Uuid>,
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub start_time: Option<Instant>,
    pub end_time: Option<Instant>,
    /// JSON as the provider sent it.
    pub analysis: Option<String>,
}

/// Creates the call or merges `update` into it. Returns the row and whether
/// it was created. A racing first insert fails as a conflict; the retry
/// merges into the winner's row.
pub async fn upsert(tx: &TenantTx, update: CallUpdate) -> Result<(call::Model, bool)> {
    let at = now();
    match find(tx, update.provider, &update.provider_call_id).await? {
        None => {
            let row = call::Model {
                tenant_id: tx.tenant().0,
                id: Uuid::now_v7(),
                provider: update.provider.as_str().into(),
                provider_call_id: update.provider_call_id,
                branch_id: update.branch_id,
                customer_id: update.customer_id,
                appointment_id: update.appointment_id,
                from_number: update.from_number.unwrap_or_default(),
                to_number: update.to_number.unwrap_or_default(),
                status: update.status.as_str().into(),
                start_time: update.start_time,
                end_time: update.end_time,
                analysis: update.analysis,
                create_time: at,
                update_time: at,
            };
            call::Entity::insert(all_set::<call::ActiveModel, _>(row.clone()))
                .exec_without_returning(tx.conn())
                .await?;
            Ok((row, true))
        }
        Some(current) => {
            let mut next = current.clone();
            next.branch_id = update.branch_id.or(current.branch_id);
            next.customer_id = update.customer_id.or(current.customer_id);
            next.appointment_id = update.appointment_id.or(current.appointment_id);
            if let Some(number) = update.from_number.filter(|n| !n.is_empty()) {
                next.from_number = number;
            }
            if let Some(number) = update.to_number.filter(|n| !n.is_empty()) {
                next.to_number = number;
            }
            next.start_time = update.start_time.or(current.start_time);
            next.end_time = update.end_time.or(current.end_time);
            next.analysis = update.analysis.or(current.analysis);
            if CallStatus::from_stored(&current.status).is_none_or(|stored| update.status > stored) {
                next.status = update.status.as_str().into();
            }
            next.update_time = at;
            call::Entity::update_many()
                .set(all_set::<call::ActiveModel, _>(next.clone()))
                .filter(call::Column::TenantId.eq(tx.tenant().0))
                .filter(call::Column::Id.eq(current.id))
                .exec(tx.conn())
                .await?;
            Ok((next, false))
        }
    }
}

/// A call by the provider's id, if recorded.
pub async fn find(tx: &TenantTx, provider: InboundProvider, provider_call_id: &str) -> Result<Option<call::Model>> {
    Ok(call::Entity::find()
        .filter(call::Column::TenantId.eq(tx.tenant().0))
        .filter(call::Column::Provider.eq(provider.as_str()))
        .filter(call::Column::ProviderCallId.eq(provider_call_id))
        .one(tx.conn())
        .await?)
}

/// A call by its id.
pub async fn get(tx: &TenantTx, id: Uuid) -> Result<call::Model> {
    call::Entity::find_by_id((tx.tenant().0, id)).one(tx.conn()).await?.ok_or(Error::NotFound { resource: "call" })
}
