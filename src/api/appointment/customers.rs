//! CreateCustomer, GetCustomer, UpdateCustomer, DeleteCustomer, ListCustomers, FindCustomerByPhone.
//!
//! Phone numbers are read in a default region (the request's, the called
//! branch's, or the tenant's) and stored in E.164, so every spelling of one
//! number finds the same customer.
use tonic::Request;
use uuid::Uuid;

use crate::access::{call_of, tenant_of};
use crate::api::field_mask::UpdateMask;
use crate::api::{AppState, call_scope};
use crate::convert::appointment as convert;
use crate::domain::ids::{BranchId, TenantId};
use crate::domain::page::PageRequest;
use crate::domain::phone::PhoneNumber;
use crate::domain::validate::{DisplayName, RegionCode, Violations, free_text, optional_email};
use crate::error::{Error, Result};
use crate::operations::{
    self,
    idempotency::{fingerprint, validate_request_id},
};
use crate::proto::appointment::v1 as pb;
use crate::store::customers::{self, CustomerChanges, CustomerQuery, NewCustomer};
use crate::store::{TenantConfig, caches, now, tenants};

const UPDATABLE: &[&str] = &["phone_number", "display_name", "email", "notes"];
const MAX_NOTES: usize = 2000;
const MAX_EMAIL: usize = 254;
const MAX_QUERY: usize = 100;

pub async fn create(
    state: &AppState,
    request: Request<pb::CreateCustomerRequest>,
) -> Result<pb::CreateCustomerResponse> {
    let tenant = tenant_of(&request)?;
    let call = call_of(&request);
    let req = request.into_inner();
    validate_request_id(&req.request_id)?;
    let input = req.customer.clone().unwrap_or_default();
    let mut v = Violations::new();
    let region = request_region(state, tenant, &mut v, &req.region_code).await?;
    let phone_number = phone(&mut v, "customer.phone_number", &input.phone_number, region.as_ref());
    let display_name = v.take("customer.display_name", optional_name(&input.display_name));
    let email = v.take("customer.email", email(&input.email));
    let notes = v.take("customer.notes", free_text(&input.notes, MAX_NOTES));
    v.finish()?;
    if let Some(number) = &phone_number {
        // A call creates only its caller.
        if call.as_ref().is_some_and(|call| call.phone != number.as_str()) {
            return Err(call_scope::refuse("create a customer with another number than the caller's"));
        }
    }
    let new = NewCustomer {
        phone_number: phone_number.map(|p| p.as_str().to_owned()).unwrap_or_default(),
        display_name: display_name.unwrap_or_default(),
        email: email.unwrap_or_default(),
        notes: notes.unwrap_or_default(),
    };
    let fingerprint = fingerprint(&pb::CreateCustomerRequest { request_id: String::new(), ..req.clone() });
    operations::customers::create(&state.ops, tenant, &req.request_id, &fingerprint, new).await
}

pub async fn get(state: &AppState, request: Request<pb::GetCustomerRequest>) -> Result<pb::GetCustomerResponse> {
    let tenant = tenant_of(&request)?;
    let id = customer_id("id", &request.get_ref().id)?;
    let customer = state.store.read_with(tenant, async |tx| customers::get(tx, id).await).await?;
    call_scope::ensure_phone(call_of(&request).as_ref(), &customer.phone_number, "customer")?;
    Ok(pb::GetCustomerResponse { customer: Some(convert::customer(customer)) })
}

pub async fn update(
    state: &AppState,
    request: Request<pb::UpdateCustomerRequest>,
) -> Result<pb::UpdateCustomerResponse> {
    let tenant = tenant_of(&request)?;
    let call = call_of(&request);
    let req = request.into_inner();
    let input = req.customer.unwrap_or_default();
    let id = customer_id("customer.id", &input.id)?;
    let mask = UpdateMask::parse(req.update_mask.as_ref(), UPDATABLE)?;
    if call.is_some() && mask.has("phone_number") {
        return Err(call_scope::refuse("change a customer's phone number"));
    }
    call_scope::ensure_customer(state, tenant, call.as_ref(), id).await?;
    let mut v = Violations::new();
    let mut changes = CustomerChanges::default();
    if mask.has("phone_number") {
        let region = request_region(state, tenant, &mut v, &req.region_code).await?;
        changes.phone_number =
            phone(&mut v, "customer.phone_number", &input.phone_number, region.as_ref()).map(|p| p.as_str().to_owned());
    } else if !req.region_code.is_empty() {
        // Not needed without a new number, but a malformed value is still a mistake.
        v.take("region_code", RegionCode::parse(&req.region_code));
    }
    if mask.has("display_name") {
        changes.display_name = v.take("customer.display_name", optional_name(&input.display_name));
    }
    if mask.has("email") {
        changes.email = v.take("customer.email", email(&input.email));
    }
    if mask.has("notes") {
        changes.notes = v.take("customer.notes", free_text(&input.notes, MAX_NOTES));
    }
    v.finish()?;
    let customer = operations::customers::update(&state.ops, tenant, id, changes, &input.etag).await?;
    Ok(pb::UpdateCustomerResponse { customer: Some(customer) })
}

pub async fn delete(
    state: &AppState,
    request: Request<pb::DeleteCustomerRequest>,
) -> Result<pb::DeleteCustomerResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = customer_id("id", &req.id)?;
    operations::customers::delete(&state.ops, tenant, id, &req.etag).await?;
    Ok(pb::DeleteCustomerResponse {})
}

pub async fn list(state: &AppState, request: Request<pb::ListCustomersRequest>) -> Result<pb::ListCustomersResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let text = req.query.trim();
    if text.chars().count() > MAX_QUERY {
        return Err(Error::invalid("query", format!("must be at most {MAX_QUERY} characters")));
    }
    // The token binds the query as sent, so a changed query cannot continue an old listing.
    let page = PageRequest::parse(req.page_size, &req.page_token, tenant.0, &format!("customers;query={text}"))?;
    let (rows, next_page_token) = state
        .store
        .read_with(tenant, async |tx| {
            let query = if text.is_empty() {
                CustomerQuery::All
            } else if is_phone_query(text) {
                let region = stored_region(&tenants::get(tx).await?.region_code)?;
                CustomerQuery::PhonePrefix(phone_prefix(text, &region))
            } else {
                CustomerQuery::NamePrefix(text.to_lowercase())
            };
            let mut rows = customers::list(tx, &page, &query).await?;
            let more = rows.len() as u64 > page.size;
            rows.truncate(page.size as usize);
            let token = match rows.last() {
                Some(last) if more => page.token_for_text_key(&customers::sort_key_of(tx, last.id).await?, last.id),
                _ => String::new(),
            };
            Ok((rows, token))
        })
        .await?;
    Ok(pb::ListCustomersResponse { customers: rows.into_iter().map(convert::customer).collect(), next_page_token })
}

pub async fn find_by_phone(
    state: &AppState,
    request: Request<pb::FindCustomerByPhoneRequest>,
) -> Result<pb::FindCustomerByPhoneResponse> {
    let tenant = tenant_of(&request)?;
    let call = call_of(&request);
    let req = request.into_inner();
    let branch_id = if req.branch_id.is_empty() { None } else { Some(BranchId::parse("branch_id", &req.branch_id)?) };
    if req.phone_number.trim().is_empty() {
        return Err(Error::invalid("phone_number", "is required"));
    }
    // The called branch's region reads the caller's national number; an
    // unknown branch (or another tenant's) is NOT_FOUND before any lookup.
    let config = state.store.tenant_config(tenant).await?;
    let region = caller_region(&config, branch_id)?;
    let number = PhoneNumber::parse(&req.phone_number, &region).map_err(|e| Error::invalid("phone_number", e))?;
    call_scope::ensure_phone(call.as_ref(), number.as_str(), "customer")?;
    let found = caches::customers::find_by_phone(
        &state.store,
        tenant,
        number.as_str(),
        now(),
        caches::customers::UPCOMING_LIMIT,
    )
    .await?;
    // Which caller was looked up, for support; masked, as every phone number in a log.
    tracing::debug!(phone = %number.masked(), found = found.is_some(), "customer lookup by phone");
    let view = found.ok_or(Error::NotFound { resource: "customer" })?;
    Ok(pb::FindCustomerByPhoneResponse {
        customer: Some(convert::customer(view.customer.clone())),
        upcoming_appointments: view.upcoming.iter().cloned().map(convert::appointment).collect(),
    })
}

fn customer_id(field: &str, text: &str) -> Result<Uuid> {
    if text.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    Uuid::try_parse(text).map_err(|_| Error::invalid(field, "must be a UUID"))
}

/// The region for reading a phone number: the request's `region_code` if
/// set, else the tenant's. `None` when the request's code is invalid (it is
/// then recorded as a violation).
async fn request_region(
    state: &AppState,
    tenant: TenantId,
    v: &mut Violations,
    region_code: &str,
) -> Result<Option<RegionCode>> {
    if !region_code.is_empty() {
        return Ok(v.take("region_code", RegionCode::parse(region_code)));
    }
    let row = state.store.read_with(tenant, async |tx| tenants::get(tx).await).await?;
    stored_region(&row.region_code).map(Some)
}

/// The region that reads a caller's national number: the called branch's,
/// else the tenant's. An unknown branch (or another tenant's) is NOT_FOUND.
pub(super) fn caller_region(config: &TenantConfig, branch: Option<BranchId>) -> Result<RegionCode> {
    match branch {
        Some(id) => stored_region(&config.branch(id.0)?.region_code),
        None => stored_region(&config.region_code),
    }
}

/// A region code read back from storage, where it was validated on the way in.
fn stored_region(code: &str) -> Result<RegionCode> {
    RegionCode::parse(code).map_err(|e| Error::Internal(format!("stored region code {code:?}: {e}")))
}

/// Parses a phone number; without a usable region only its presence is checked.
fn phone(v: &mut Violations, field: &str, text: &str, region: Option<&RegionCode>) -> Option<PhoneNumber> {
    match region {
        Some(region) => v.take(field, PhoneNumber::parse(text, region)),
        None => {
            if text.trim().is_empty() {
                v.add(field, "is required");
            }
            None
        }
    }
}

/// A customer's name is optional; a given one follows the display-name rules.
fn optional_name(text: &str) -> std::result::Result<String, &'static str> {
    if text.trim().is_empty() { Ok(String::new()) } else { DisplayName::parse(text).map(DisplayName::into_inner) }
}

/// The contract allows at most 254 characters, fewer than the shared check.
fn email(text: &str) -> std::result::Result<String, &'static str> {
    let email = optional_email(text)?;
    if email.chars().count() > MAX_EMAIL { Err("must be at most 254 characters") } else { Ok(email) }
}

/// Whether a ListCustomers query searches phone numbers: only digits,
/// spaces, "+", "-", "(" and ")", with at least one digit or "+".
fn is_phone_query(text: &str) -> bool {
    text.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'))
        && text.chars().any(|c| c.is_ascii_digit() || c == '+')
}

/// A typed (possibly partial) number as a prefix of E.164 numbers, read in
/// `region`: "+49 151" and "0049 151" stay international, a leading national
/// prefix ("0151") stands for the region's country code, and other digits
/// are taken as international digits typed without "+".
fn phone_prefix(text: &str, region: &RegionCode) -> String {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if text.trim_start().starts_with('+') {
        return format!("+{digits}");
    }
    let Some(meta) = phonenumber::metadata::DATABASE.by_id(region.as_str()) else {
        return format!("+{digits}");
    };
    if let Some(idd) = meta.international_prefix()
        && let Some(found) = idd.find(&digits)
        && found.start() == 0
        && found.end() > 0
    {
        return format!("+{}", &digits[found.end()..]);
    }
    match meta.national_prefix() {
        Some(national) if !national.is_empty() && digits.starts_with(national) => {
            format!("+{}{}", meta.country_code(), &digits[national.len()..])
        }
        _ => format!("+{digits}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> RegionCode {
        RegionCode::parse("DE").unwrap()
    }

    #[test]
    fn phone_queries_become_e164_prefixes() {
        assert_eq!(phone_prefix("0151 234", &de()), "+49151234");
        assert_eq!(phone_prefix("+49 (151) 2-34", &de()), "+49151234");
        assert_eq!(phone_prefix("0049 151", &de()), "+49151");
        assert_eq!(phone_prefix("49151", &de()), "+49151");
        assert_eq!(phone_prefix("0", &de()), "+49");
        let us = RegionCode::parse("US").unwrap();
        assert_eq!(phone_prefix("011 49 151", &us), "+49151");
    }

    #[test]
    fn only_digit_like_queries_search_phone_numbers() {
        assert!(is_phone_query("0151 234"));
        assert!(is_phone_query("+49 (151)"));
        assert!(!is_phone_query("Anna"));
        assert!(!is_phone_query("A1"));
        assert!(!is_phone_query("-"));
    }

    #[test]
    fn names_are_optional_but_checked_when_given() {
        assert_eq!(optional_name("  "), Ok(String::new()));
        assert_eq!(optional_name(" Anna "), Ok("Anna".into()));
        assert!(optional_name(&"x".repeat(201)).is_err());
    }
}
