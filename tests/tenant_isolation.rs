//! A caller can never read or change another tenant's data: every
//! implemented RPC, given tenant A's ids with tenant B's keys, answers exactly
//! as for ids that do not exist, and A's data is unchanged afterwards.
mod common;

use askpro::proto::tenant::v1 as pb;
use common::{authed, expect_code, mask, reason, violated_fields};
use tonic::Code;

async fn foreign_ids_are_not_found(server: &common::TestServer) {
    let a = server.tenant("Salon A").await;
    let b = server.tenant("Salon B").await;
    let mut client = server.tenants();
    let key = &b.admin;
    let not_found = |status: tonic::Status| {
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert_eq!(reason(&status), "RESOURCE_NOT_FOUND");
    };

    // Reads.
    not_found(client.get_tenant(authed(pb::GetTenantRequest { id: a.id.clone() }, key)).await.unwrap_err());
    not_found(client.get_branch(authed(pb::GetBranchRequest { id: a.branch.id.clone() }, key)).await.unwrap_err());
    not_found(client.get_staff(authed(pb::GetStaffRequest { id: a.staff.id.clone() }, key)).await.unwrap_err());
    not_found(client.get_service(authed(pb::GetServiceRequest { id: a.service.id.clone() }, key)).await.unwrap_err());

    // Updates.
    let renamed = |id: &str| pb::Tenant { id: id.into(), display_name: "Hijacked".into(), ..Default::default() };
    not_found(
        client
            .update_tenant(authed(
                pb::UpdateTenantRequest { tenant: Some(renamed(&a.id)), update_mask: mask(&["display_name"]) },
                key,
            ))
            .await
            .unwrap_err(),
    );
    let branch = pb::Branch { id: a.branch.id.clone(), display_name: "Hijacked".into(), ..Default::default() };
    not_found(
        client
            .update_branch(authed(
                pb::UpdateBranchRequest { branch: Some(branch), update_mask: mask(&["display_name"]) },
                key,
            ))
            .await
            .unwrap_err(),
    );
    let staff = pb::Staff { id: a.staff.id.clone(), display_name: "Hijacked".into(), ..Default::default() };
    not_found(
        client
            .update_staff(authed(
                pb::UpdateStaffRequest { staff: Some(staff), update_mask: mask(&["display_name"]) },
                key,
            ))
            .await
            .unwrap_err(),
    );
    let service = pb::Service { id: a.service.id.clone(), display_name: "Hijacked".into(), ..Default::default() };
    not_found(
        client
            .update_service(authed(
                pb::UpdateServiceRequest { service: Some(service), update_mask: mask(&["display_name"]) },
                key,
            ))
            .await
            .unwrap_err(),
    );

    // Deletes and revocation.
    not_found(
        client
            .delete_staff(authed(pb::DeleteStaffRequest { id: a.staff.id.clone(), etag: String::new() }, key))
            .await
            .unwrap_err(),
    );
    not_found(
        client
            .delete_branch(authed(pb::DeleteBranchRequest { id: a.branch.id.clone(), etag: String::new() }, key))
            .await
            .unwrap_err(),
    );
    not_found(
        client
            .delete_service(authed(pb::DeleteServiceRequest { id: a.service.id.clone(), etag: String::new() }, key))
            .await
            .unwrap_err(),
    );
    let a_keys =
        client.list_api_keys(authed(pb::ListApiKeysRequest::default(), &a.admin)).await.unwrap().into_inner().api_keys;
    assert_eq!(a_keys.len(), 3, "tenant A sees its own three keys");
    for a_key in &a_keys {
        not_found(
            client.revoke_api_key(authed(pb::RevokeApiKeyRequest { id: a_key.id.clone() }, key)).await.unwrap_err(),
        );
    }

    // References to A's resources from B's writes are "no such" resources.
    let status = expect_code(
        client
            .create_staff(authed(
                pb::CreateStaffRequest {
                    request_id: String::new(),
                    staff: Some(pb::Staff {
                        branch_id: a.branch.id.clone(),
                        display_name: "Mole".into(),
                        service_ids: vec![a.service.id.clone()],
                        ..Default::default()
                    }),
                },
                key,
            ))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["staff.branch_id", "staff.service_ids[0]"]);

    // Lists show only the caller's own rows.
    let branches =
        client.list_branches(authed(pb::ListBranchesRequest::default(), key)).await.unwrap().into_inner().branches;
    assert_eq!(branches.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), vec![b.branch.id.as_str()]);
    let staff = client.list_staff(authed(pb::ListStaffRequest::default(), key)).await.unwrap().into_inner().staff;
    assert_eq!(staff.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), vec![b.staff.id.as_str()]);
    let filtered = client
        .list_staff(authed(pb::ListStaffRequest { branch_id: a.branch.id.clone(), ..Default::default() }, key))
        .await
        .unwrap()
        .into_inner()
        .staff;
    assert!(filtered.is_empty(), "filtering by a foreign branch finds nothing");
    let services =
        client.list_services(authed(pb::ListServicesRequest::default(), key)).await.unwrap().into_inner().services;
    assert_eq!(services.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), vec![b.service.id.as_str()]);
    let keys =
        client.list_api_keys(authed(pb::ListApiKeysRequest::default(), key)).await.unwrap().into_inner().api_keys;
    assert!(keys.iter().all(|k| !a_keys.iter().any(|ak| ak.id == k.id)));
    // Tenant keys cannot list tenants at all.
    expect_code(client.list_tenants(authed(pb::ListTenantsRequest::default(), key)).await, Code::PermissionDenied);

    // A is untouched, and its keys still work.
    let a_branch = client
        .get_branch(authed(pb::GetBranchRequest { id: a.branch.id.clone() }, &a.reader))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a_branch.branch.unwrap(), a.branch);
    let a_staff =
        client.get_staff(authed(pb::GetStaffRequest { id: a.staff.id.clone() }, &a.agent)).await.unwrap().into_inner();
    assert_eq!(a_staff.staff.unwrap(), a.staff);
    let a_service = client
        .get_service(authed(pb::GetServiceRequest { id: a.service.id.clone() }, &a.reader))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a_service.service.unwrap(), a.service);
    let a_tenant =
        client.get_tenant(authed(pb::GetTenantRequest { id: a.id.clone() }, &a.reader)).await.unwrap().into_inner();
    assert_eq!(a_tenant.tenant.unwrap().display_name, "Salon A");
}

async fn page_tokens_are_bound_to_their_tenant(server: &common::TestServer) {
    let a = server.tenant("Salon A").await;
    let b = server.tenant("Salon B").await;
    let mut client = server.tenants();
    let page = client
        .list_api_keys(authed(pb::ListApiKeysRequest { page_size: 1, ..Default::default() }, &a.admin))
        .await
        .unwrap()
        .into_inner();
    assert!(!page.next_page_token.is_empty());
    let status = expect_code(
        client
            .list_api_keys(authed(
                pb::ListApiKeysRequest { page_size: 1, page_token: page.next_page_token, ..Default::default() },
                &b.admin,
            ))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["page_token"]);
}

async fn only_platform_admins_name_a_tenant(server: &common::TestServer) {
    let a = server.tenant("Salon A").await;
    let b = server.tenant("Salon B").await;
    let mut client = server.tenants();
    // A tenant key naming another tenant is refused outright.
    let status = expect_code(
        client
            .list_branches(common::with_key(pb::ListBranchesRequest::default(), common::as_tenant(&b.admin, &a.id)))
            .await,
        Code::PermissionDenied,
    );
    assert_eq!(reason(&status), "SCOPE_INSUFFICIENT");
    // A platform admin sees the named tenant's data, and needs to name one.
    let branches = client
        .list_branches(common::with_key(
            pb::ListBranchesRequest::default(),
            common::as_tenant(server.platform_key(), &a.id),
        ))
        .await
        .unwrap()
        .into_inner()
        .branches;
    assert_eq!(branches.len(), 1);
    assert_eq!(branches[0].id, a.branch.id);
    let status = expect_code(
        client.list_branches(authed(pb::ListBranchesRequest::default(), server.platform_key())).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&status), "TENANT_REQUIRED");
    let unknown = uuid::Uuid::now_v7().to_string();
    expect_code(
        client
            .list_branches(common::with_key(
                pb::ListBranchesRequest::default(),
                common::as_tenant(server.platform_key(), &unknown),
            ))
            .await,
        Code::NotFound,
    );
    let tenants = client
        .list_tenants(authed(pb::ListTenantsRequest::default(), server.platform_key()))
        .await
        .unwrap()
        .into_inner()
        .tenants;
    let ids: Vec<_> = tenants.iter().map(|t| t.id.clone()).collect();
    assert!(ids.contains(&a.id) && ids.contains(&b.id));
}

on_both_databases!(
    foreign_ids_are_not_found,
    page_tokens_are_bound_to_their_tenant,
    only_platform_admins_name_a_tenant
);
