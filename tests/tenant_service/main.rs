//! TenantService keeps the promises of its proto comments: validation reports
//! every bad field and never writes, creates are idempotent by request_id,
//! phone numbers are E.164 and belong to one branch per tenant, etags guard
//! every update and delete, and lists page through every row exactly once.

mod branches;
#[path = "../common/mod.rs"]
mod common;
mod etags_and_paging;
mod idempotency;
mod services;
mod staff;
mod tenants;

use std::fmt::Debug;

use askpro::proto::tenant::v1 as pb;
use askpro::proto::tenant::v1::tenant_service_client::TenantServiceClient;
use common::{as_tenant, authed, mask, minutes, reason, sorted, violated_fields, with_key};
use prost_types::{Duration, FieldMask};
use tonic::transport::Channel;
use tonic::{Code, Status};

type Client = TenantServiceClient<Channel>;

const HOUR: i64 = 60;
const DAY: i64 = 24 * 60;

fn seconds(n: i64) -> Duration {
    Duration { seconds: n, nanos: 0 }
}

/// Field names, sorted, for order-independent comparison.
fn fields(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    names.sort();
    names
}

/// The (field, description) pairs of a status's BadRequest details.
fn violations(status: &Status) -> Vec<(String, String)> {
    use tonic_types::StatusExt;
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| (v.field.clone(), v.description.clone())).collect())
        .unwrap_or_default()
}

/// The description of the violation of `field`; panics if there is none.
#[track_caller]
fn description_of(status: &Status, field: &str) -> String {
    violations(status)
        .into_iter()
        .find(|(f, _)| f == field)
        .map(|(_, d)| d)
        .unwrap_or_else(|| panic!("no violation of {field} in {status:?}"))
}

/// Asserts a call failed with `code` and returns the status.
#[track_caller]
fn refused<T: Debug>(result: Result<T, Status>, code: Code) -> Status {
    match result {
        Ok(value) => panic!("expected {code:?}, got OK: {value:?}"),
        Err(status) => {
            assert_eq!(status.code(), code, "unexpected status: {status:?}");
            status
        }
    }
}

/// Asserts INVALID_ARGUMENT naming exactly `expected` (in any order).
#[track_caller]
fn invalid<T: Debug>(result: Result<T, Status>, expected: &[&str]) -> Status {
    let status = refused(result, Code::InvalidArgument);
    assert_eq!(reason(&status), "INVALID_ARGUMENT", "{status:?}");
    assert_eq!(sorted(violated_fields(&status)), fields(expected), "{status:?}");
    status
}

#[track_caller]
fn etag_mismatch<T: Debug>(result: Result<T, Status>) {
    let status = refused(result, Code::Aborted);
    assert_eq!(reason(&status), "ETAG_MISMATCH", "{status:?}");
}

#[track_caller]
fn not_found<T: Debug>(result: Result<T, Status>) {
    let status = refused(result, Code::NotFound);
    assert_eq!(reason(&status), "RESOURCE_NOT_FOUND", "{status:?}");
}

fn tenant_input(name: &str) -> pb::Tenant {
    pb::Tenant {
        display_name: name.into(),
        time_zone: "Europe/Berlin".into(),
        region_code: "DE".into(),
        ..Default::default()
    }
}

fn branch_input(name: &str, phones: &[&str]) -> pb::Branch {
    pb::Branch {
        display_name: name.into(),
        time_zone: "Europe/Berlin".into(),
        phone_numbers: phones.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    }
}

fn staff_input(branch_id: &str, name: &str, service_ids: &[&str]) -> pb::Staff {
    pb::Staff {
        branch_id: branch_id.into(),
        display_name: name.into(),
        service_ids: service_ids.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn service_input(name: &str, duration_minutes: i64) -> pb::Service {
    pb::Service { display_name: name.into(), duration: Some(minutes(duration_minutes)), ..Default::default() }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

async fn create_tenant(c: &mut Client, platform: &str, request_id: &str, t: pb::Tenant) -> Result<pb::Tenant, Status> {
    c.create_tenant(authed(pb::CreateTenantRequest { request_id: request_id.into(), tenant: Some(t) }, platform))
        .await
        .map(|r| r.into_inner().tenant.expect("tenant in response"))
}

async fn get_tenant(c: &mut Client, key: &str, id: &str) -> Result<pb::Tenant, Status> {
    c.get_tenant(authed(pb::GetTenantRequest { id: id.into() }, key))
        .await
        .map(|r| r.into_inner().tenant.expect("tenant in response"))
}

async fn update_tenant(c: &mut Client, key: &str, t: pb::Tenant, paths: &[&str]) -> Result<pb::Tenant, Status> {
    c.update_tenant(authed(pb::UpdateTenantRequest { tenant: Some(t), update_mask: mask(paths) }, key))
        .await
        .map(|r| r.into_inner().tenant.expect("tenant in response"))
}

/// Every tenant, walking pages of 500.
async fn all_tenants(c: &mut Client, platform: &str) -> Vec<pb::Tenant> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_tenants(authed(pb::ListTenantsRequest { page_size: 500, page_token: token.clone() }, platform))
            .await
            .expect("list tenants")
            .into_inner();
        out.extend(page.tenants);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// A tenant with nothing in it but an admin key (no branch, so no phone
/// number is taken yet).
async fn bare_tenant(server: &common::TestServer, name: &str, region: &str) -> (pb::Tenant, String) {
    let mut c = server.tenants();
    let tenant = create_tenant(
        &mut c,
        server.platform_key(),
        "",
        pb::Tenant { region_code: region.into(), ..tenant_input(name) },
    )
    .await
    .expect("create tenant");
    let admin = c
        .create_api_key(with_key(
            pb::CreateApiKeyRequest {
                api_key: Some(pb::ApiKey {
                    display_name: "admin".into(),
                    scope: pb::ApiKeyScope::TenantAdmin as i32,
                    ..Default::default()
                }),
            },
            as_tenant(server.platform_key(), &tenant.id),
        ))
        .await
        .expect("create admin key")
        .into_inner()
        .secret;
    (tenant, admin)
}

async fn create_branch(c: &mut Client, key: &str, request_id: &str, b: pb::Branch) -> Result<pb::Branch, Status> {
    c.create_branch(authed(pb::CreateBranchRequest { request_id: request_id.into(), branch: Some(b) }, key))
        .await
        .map(|r| r.into_inner().branch.expect("branch in response"))
}

async fn get_branch(c: &mut Client, key: &str, id: &str) -> Result<pb::Branch, Status> {
    c.get_branch(authed(pb::GetBranchRequest { id: id.into() }, key))
        .await
        .map(|r| r.into_inner().branch.expect("branch in response"))
}

async fn update_branch(c: &mut Client, key: &str, b: pb::Branch, paths: &[&str]) -> Result<pb::Branch, Status> {
    c.update_branch(authed(pb::UpdateBranchRequest { branch: Some(b), update_mask: mask(paths) }, key))
        .await
        .map(|r| r.into_inner().branch.expect("branch in response"))
}

async fn delete_branch(c: &mut Client, key: &str, id: &str, etag: &str) -> Result<(), Status> {
    c.delete_branch(authed(pb::DeleteBranchRequest { id: id.into(), etag: etag.into() }, key)).await.map(|_| ())
}

async fn branches(c: &mut Client, key: &str) -> Vec<pb::Branch> {
    let page = c
        .list_branches(authed(pb::ListBranchesRequest { page_size: 500, ..Default::default() }, key))
        .await
        .expect("list branches")
        .into_inner();
    assert!(page.next_page_token.is_empty(), "tests stay below 500 branches");
    page.branches
}

async fn create_staff(c: &mut Client, key: &str, request_id: &str, s: pb::Staff) -> Result<pb::Staff, Status> {
    c.create_staff(authed(pb::CreateStaffRequest { request_id: request_id.into(), staff: Some(s) }, key))
        .await
        .map(|r| r.into_inner().staff.expect("staff in response"))
}

async fn get_staff(c: &mut Client, key: &str, id: &str) -> Result<pb::Staff, Status> {
    c.get_staff(authed(pb::GetStaffRequest { id: id.into() }, key))
        .await
        .map(|r| r.into_inner().staff.expect("staff in response"))
}

async fn update_staff(c: &mut Client, key: &str, s: pb::Staff, paths: &[&str]) -> Result<pb::Staff, Status> {
    c.update_staff(authed(pb::UpdateStaffRequest { staff: Some(s), update_mask: mask(paths) }, key))
        .await
        .map(|r| r.into_inner().staff.expect("staff in response"))
}

async fn delete_staff(c: &mut Client, key: &str, id: &str, etag: &str) -> Result<(), Status> {
    c.delete_staff(authed(pb::DeleteStaffRequest { id: id.into(), etag: etag.into() }, key)).await.map(|_| ())
}

async fn staff_of(c: &mut Client, key: &str, branch_id: &str) -> Vec<pb::Staff> {
    let page = c
        .list_staff(authed(
            pb::ListStaffRequest { page_size: 500, branch_id: branch_id.into(), ..Default::default() },
            key,
        ))
        .await
        .expect("list staff")
        .into_inner();
    assert!(page.next_page_token.is_empty(), "tests stay below 500 staff");
    page.staff
}

async fn create_service(c: &mut Client, key: &str, request_id: &str, s: pb::Service) -> Result<pb::Service, Status> {
    c.create_service(authed(pb::CreateServiceRequest { request_id: request_id.into(), service: Some(s) }, key))
        .await
        .map(|r| r.into_inner().service.expect("service in response"))
}

async fn get_service(c: &mut Client, key: &str, id: &str) -> Result<pb::Service, Status> {
    c.get_service(authed(pb::GetServiceRequest { id: id.into() }, key))
        .await
        .map(|r| r.into_inner().service.expect("service in response"))
}

async fn update_service(c: &mut Client, key: &str, s: pb::Service, paths: &[&str]) -> Result<pb::Service, Status> {
    c.update_service(authed(pb::UpdateServiceRequest { service: Some(s), update_mask: mask(paths) }, key))
        .await
        .map(|r| r.into_inner().service.expect("service in response"))
}

async fn delete_service(c: &mut Client, key: &str, id: &str, etag: &str) -> Result<(), Status> {
    c.delete_service(authed(pb::DeleteServiceRequest { id: id.into(), etag: etag.into() }, key)).await.map(|_| ())
}

async fn services(c: &mut Client, key: &str) -> Vec<pb::Service> {
    let page = c
        .list_services(authed(pb::ListServicesRequest { page_size: 500, ..Default::default() }, key))
        .await
        .expect("list services")
        .into_inner();
    assert!(page.next_page_token.is_empty(), "tests stay below 500 services");
    page.services
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| id(i).to_owned()).collect()
}
