//! The scope matrix is the permission table, and every method of the
//! contracts is served.

use super::*;

#[test]
fn permission_table_spot_checks() {
    let tenant = |m: &str| format!("/askpro.tenant.v1.TenantService/{m}");
    let availability = |m: &str| format!("/askpro.availability.v1.AvailabilityService/{m}");
    let appointment = |m: &str| format!("/askpro.appointment.v1.AppointmentService/{m}");
    let webhook = |m: &str| format!("/askpro.webhook.v1.WebhookService/{m}");
    let expected = [
        (tenant("CreateTenant"), Permission::Platform),
        (tenant("ListTenants"), Permission::Platform),
        (tenant("ListBranches"), Permission::Read),
        (tenant("CreateApiKey"), Permission::Administer),
        (tenant("ListApiKeys"), Permission::Administer),
        (availability("HoldSlot"), Permission::Book),
        (availability("ListAvailableSlots"), Permission::Read),
        (availability("SetWorkingHours"), Permission::Administer),
        (appointment("CreateAppointment"), Permission::Book),
        (appointment("WatchAppointments"), Permission::Read),
        (appointment("DeleteCustomer"), Permission::Administer),
        (webhook("ListSubscriptions"), Permission::Administer),
    ];
    for (path, permission) in expected {
        assert_eq!(permissions::required(&path), Some(permission), "{path}");
    }
    for method in all_methods() {
        assert!(permissions::required(&method.path).is_some(), "{} has no permission", method.path);
    }
}

async fn scope_matrix_matches_the_permission_table(server: &common::TestServer) {
    let tenant = server.tenant("Salon Matrix").await;
    let platform = server.platform_key();
    let callers: [(&str, Key<'_>, Scope); 5] = [
        ("platform admin (no tenant header)", Key::Tenant(platform), Scope::PlatformAdmin),
        ("platform admin as tenant", as_tenant(platform, &tenant.id), Scope::PlatformAdmin),
        ("tenant admin", Key::Tenant(&tenant.admin), Scope::TenantAdmin),
        ("agent", Key::Tenant(&tenant.agent), Scope::Agent),
        ("read-only", Key::Tenant(&tenant.reader), Scope::ReadOnly),
    ];
    let methods = all_methods();
    let mut wrong = Vec::new();
    for (label, key, scope) in callers {
        let mut denied = 0;
        for method in &methods {
            let permission = permissions::required(&method.path).expect("every method has a permission");
            let result = call_raw(&server.channel, method, with_key((), key)).await;
            let code = result.as_ref().err().map(Status::code);
            if scope.grants(permission) {
                if matches!(code, Some(Code::PermissionDenied | Code::Unauthenticated)) {
                    wrong.push(format!("{label} {} ({permission:?}) must pass: {}", method.path, describe(&result)));
                }
                // An empty request is a client mistake, never a server fault.
                if matches!(code, Some(Code::Internal | Code::Unknown)) {
                    wrong.push(format!("{label} {} with an empty request: {}", method.path, describe(&result)));
                }
            } else {
                denied += 1;
                // The answer names the scope the method needs and the key's.
                let needed = permission.least_scope().contract_name();
                let ok = matches!(&result, Err(s) if s.code() == Code::PermissionDenied
                    && reason(s) == "SCOPE_INSUFFICIENT"
                    && s.message().contains(needed)
                    && s.message().contains(scope.contract_name())
                    && common::error_metadata(s).get("required_scope").map(String::as_str) == Some(needed));
                if !ok {
                    wrong.push(format!(
                        "{label} {} ({permission:?}) must be PERMISSION_DENIED/SCOPE_INSUFFICIENT: {}",
                        method.path,
                        describe(&result)
                    ));
                }
            }
        }
        // The matrix is not vacuous: only platform admins may do everything.
        assert_eq!(denied == 0, scope == Scope::PlatformAdmin, "{label}: {denied} methods denied");
    }
    assert!(wrong.is_empty(), "scope matrix mismatches:\n{}", wrong.join("\n"));
    // Nothing in the matrix broke the fixture's keys.
    list_branches(server, authed(pb::ListBranchesRequest::default(), &tenant.reader))
        .await
        .expect("reader still works");
}

async fn every_rpc_is_served(server: &common::TestServer) {
    let tenant = server.tenant("Salon Served").await;
    let mut wrong = Vec::new();
    let mut checked = 0;
    for method in all_methods() {
        let result = call_raw(&server.channel, &method, authed((), &tenant.admin)).await;
        checked += 1;
        if matches!(&result, Err(s) if s.code() == Code::Unimplemented) {
            wrong.push(format!(
                "{}.{} must be served, not UNIMPLEMENTED: {}",
                method.service,
                method.name,
                describe(&result)
            ));
        }
    }
    assert!(checked > 60, "expected the four services, checked {checked} methods");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

on_both_databases!(scope_matrix_matches_the_permission_table, every_rpc_is_served,);
