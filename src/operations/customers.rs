//! Customers: found or created by phone number (a booking's or a mirrored
//! booking's caller), created, edited and deleted, each with its
//! customer.* event in the same transaction.
use uuid::Uuid;

use super::events;
use super::idempotency::create_once;
use crate::convert::appointment as convert;
use crate::domain::ids::TenantId;
use crate::domain::phone::PhoneNumber;
use crate::domain::webhook::EventType;
use crate::error::Result;
use crate::operations::Operations;
use crate::proto::appointment::v1 as pb;
use crate::store::TenantTx;
use crate::store::customers::{self, CustomerChanges, NewCustomer};
use crate::store::entities::customer;

/// The live customer with this number, or a new one with the given name and
/// e-mail; `true` when this call created it (whose customer.created event
/// the caller records with the booking that made it).
pub async fn find_or_create_by_phone(
    tx: &TenantTx,
    phone: &PhoneNumber,
    display_name: &str,
    email: &str,
) -> Result<(customer::Model, bool)> {
    let new = NewCustomer {
        phone_number: phone.as_str().to_owned(),
        display_name: display_name.to_owned(),
        email: email.to_owned(),
        notes: String::new(),
    };
    customers::find_or_create(tx, new).await
}

/// Creates a customer whose number no live customer has (idempotent by
/// request id; CUSTOMER_EXISTS names the one who has it).
pub async fn create(
    ops: &Operations,
    tenant: TenantId,
    request_id: &str,
    fingerprint: &[u8],
    new: NewCustomer,
) -> Result<pb::CreateCustomerResponse> {
    ops.store
        .write_with(tenant, async |tx| {
            create_once(tx, "CreateCustomer", request_id, fingerprint, async {
                let customer = convert::customer(customers::create_unique(tx, new.clone()).await?);
                events::customer(tx, EventType::CustomerCreated, &customer).await?;
                Ok(pb::CreateCustomerResponse { customer: Some(customer) })
            })
            .await
        })
        .await
}

/// Applies `changes` if the customer is still at `etag`.
pub async fn update(
    ops: &Operations,
    tenant: TenantId,
    id: Uuid,
    changes: CustomerChanges,
    etag: &str,
) -> Result<pb::Customer> {
    ops.store
        .write_with(tenant, async |tx| {
            let customer = convert::customer(customers::update(tx, id, changes.clone(), etag).await?);
            events::customer(tx, EventType::CustomerUpdated, &customer).await?;
            Ok(customer)
        })
        .await
}

/// Deletes the customer (see `store::customers::delete` for what blocks it).
pub async fn delete(ops: &Operations, tenant: TenantId, id: Uuid, etag: &str) -> Result<()> {
    ops.store.write_with(tenant, async |tx| customers::delete(tx, id, etag).await).await
}
