//! Tenants: validation, reads, masked updates, etags and listing.

use super::*;

async fn create_tenant_reports_every_bad_field_at_once(server: &common::TestServer) {
    let mut c = server.tenants();
    let platform = server.platform_key();
    let before = all_tenants(&mut c, platform).await;

    let bad = pb::Tenant {
        display_name: String::new(),
        time_zone: "Mars/Olympus".into(),
        region_code: "XX".into(),
        ..Default::default()
    };
    let status = invalid(
        create_tenant(&mut c, platform, "fix-and-retry", bad).await,
        &["tenant.display_name", "tenant.time_zone", "tenant.region_code"],
    );
    assert_eq!(description_of(&status, "tenant.display_name"), "is required");

    // A missing tenant, whitespace names, too long names and three-letter
    // regions are refused the same way.
    invalid(
        c.create_tenant(authed(pb::CreateTenantRequest { request_id: String::new(), tenant: None }, platform))
            .await
            .map(|r| r.into_inner()),
        &["tenant.display_name", "tenant.time_zone", "tenant.region_code"],
    );
    let bad = pb::Tenant {
        display_name: "x".repeat(201),
        time_zone: String::new(),
        region_code: "DEU".into(),
        ..Default::default()
    };
    invalid(
        create_tenant(&mut c, platform, "", bad).await,
        &["tenant.display_name", "tenant.time_zone", "tenant.region_code"],
    );
    invalid(
        create_tenant(&mut c, platform, "", pb::Tenant { display_name: "   ".into(), ..tenant_input("") }).await,
        &["tenant.display_name"],
    );

    let after = all_tenants(&mut c, platform).await;
    assert_eq!(ids(&after, |t| &t.id), ids(&before, |t| &t.id), "a rejected CreateTenant must not write");

    // The rejected call did not record its request_id: the corrected request
    // with the same id creates the tenant. Names are trimmed and regions
    // upper-cased.
    let created = create_tenant(
        &mut c,
        platform,
        "fix-and-retry",
        pb::Tenant { display_name: "  Salon Fix  ".into(), region_code: "de".into(), ..tenant_input("") },
    )
    .await
    .expect("the corrected request succeeds");
    assert_eq!(created.display_name, "Salon Fix");
    assert_eq!(created.region_code, "DE");
    assert_eq!(created.time_zone, "Europe/Berlin");
    assert_eq!(all_tenants(&mut c, platform).await.len(), before.len() + 1);
}

async fn get_tenant_returns_own_tenant_to_a_read_only_key(server: &common::TestServer) {
    let a = server.tenant("Salon Lesen").await;
    let mut c = server.tenants();
    let tenant = get_tenant(&mut c, &a.reader, &a.id).await.expect("a read-only key reads its own tenant");
    assert_eq!(tenant.id, a.id);
    assert_eq!(tenant.display_name, "Salon Lesen");
    assert_eq!(tenant.time_zone, "Europe/Berlin");
    assert_eq!(tenant.region_code, "DE");
    assert!(!tenant.etag.is_empty(), "a tenant carries an etag");
    assert!(tenant.create_time.is_some() && tenant.update_time.is_some());
    assert_eq!(tenant.create_time, tenant.update_time, "a fresh tenant was never changed");

    // Every key of the tenant and a platform admin read the same tenant.
    assert_eq!(get_tenant(&mut c, &a.agent, &a.id).await.expect("agent"), tenant);
    assert_eq!(get_tenant(&mut c, &a.admin, &a.id).await.expect("admin"), tenant);
    assert_eq!(get_tenant(&mut c, server.platform_key(), &a.id).await.expect("platform admin"), tenant);

    invalid(get_tenant(&mut c, &a.reader, "x").await, &["id"]);
    not_found(get_tenant(&mut c, server.platform_key(), &uuid::Uuid::now_v7().to_string()).await);
}

async fn update_tenant_changes_only_masked_fields_and_bumps_etag(server: &common::TestServer) {
    let a = server.tenant("Salon Alt").await;
    let mut c = server.tenants();
    let platform = server.platform_key();
    let original = get_tenant(&mut c, &a.reader, &a.id).await.expect("get");

    let input = pb::Tenant {
        id: a.id.clone(),
        display_name: "Salon Neu".into(),
        time_zone: "America/New_York".into(),
        region_code: "US".into(),
        etag: original.etag.clone(),
        ..Default::default()
    };
    let updated = update_tenant(&mut c, platform, input, &["display_name"]).await.expect("update");
    assert_eq!(updated.display_name, "Salon Neu");
    assert_eq!(updated.time_zone, "Europe/Berlin", "time_zone was not in the mask");
    assert_eq!(updated.region_code, "DE", "region_code was not in the mask");
    assert_ne!(updated.etag, original.etag, "an update bumps the etag");
    assert_eq!(updated.create_time, original.create_time);
    assert_eq!(updated.id, original.id);
    assert_eq!(get_tenant(&mut c, &a.reader, &a.id).await.expect("get"), updated, "Get shows the update");

    // Two fields at once, without an etag (no check).
    let input = pb::Tenant {
        id: a.id.clone(),
        time_zone: "America/New_York".into(),
        region_code: "us".into(),
        ..Default::default()
    };
    let second = update_tenant(&mut c, platform, input, &["time_zone", "region_code"]).await.expect("update");
    assert_eq!(second.display_name, "Salon Neu");
    assert_eq!(second.time_zone, "America/New_York");
    assert_eq!(second.region_code, "US");
    assert_ne!(second.etag, updated.etag);

    // Masked fields are validated.
    let input = pb::Tenant { id: a.id.clone(), time_zone: "Mars/Olympus".into(), ..Default::default() };
    invalid(
        update_tenant(&mut c, platform, input, &["time_zone", "display_name"]).await,
        &["tenant.time_zone", "tenant.display_name"],
    );
    assert_eq!(get_tenant(&mut c, &a.reader, &a.id).await.expect("get"), second, "a rejected update changes nothing");
}

async fn update_tenant_with_stale_etag_is_aborted(server: &common::TestServer) {
    let a = server.tenant("Salon Etag").await;
    let mut c = server.tenants();
    let original = get_tenant(&mut c, &a.reader, &a.id).await.expect("get");
    let rename = |name: &str, etag: &str| pb::Tenant {
        id: a.id.clone(),
        display_name: name.into(),
        etag: etag.into(),
        ..Default::default()
    };
    let first = update_tenant(&mut c, &a.admin, rename("Salon Eins", &original.etag), &["display_name"])
        .await
        .expect("update with the current etag");
    etag_mismatch(update_tenant(&mut c, &a.admin, rename("Salon Zwei", &original.etag), &["display_name"]).await);
    etag_mismatch(update_tenant(&mut c, &a.admin, rename("Salon Drei", "\"999\""), &["display_name"]).await);
    etag_mismatch(update_tenant(&mut c, &a.admin, rename("Salon Vier", "garbage"), &["display_name"]).await);
    assert_eq!(
        get_tenant(&mut c, &a.reader, &a.id).await.expect("get"),
        first,
        "an update with a stale etag changes nothing"
    );
}

async fn update_tenant_requires_a_known_update_mask(server: &common::TestServer) {
    let a = server.tenant("Salon Maske").await;
    let mut c = server.tenants();
    let original = get_tenant(&mut c, &a.reader, &a.id).await.expect("get");
    let input = pb::Tenant { id: a.id.clone(), display_name: "Salon Ohne Maske".into(), ..Default::default() };

    let missing = c
        .update_tenant(authed(pb::UpdateTenantRequest { tenant: Some(input.clone()), update_mask: None }, &a.admin))
        .await
        .map(|r| r.into_inner());
    invalid(missing, &["update_mask"]);
    let empty = c
        .update_tenant(authed(
            pb::UpdateTenantRequest { tenant: Some(input.clone()), update_mask: Some(FieldMask::default()) },
            &a.admin,
        ))
        .await
        .map(|r| r.into_inner());
    invalid(empty, &["update_mask"]);
    for path in ["id", "etag", "create_time", "displayName", "bogus"] {
        invalid(update_tenant(&mut c, &a.admin, input.clone(), &["display_name", path]).await, &["update_mask"]);
    }
    assert_eq!(get_tenant(&mut c, &a.reader, &a.id).await.expect("get"), original, "nothing changed");
}

async fn tenant_admin_updates_its_own_tenant(server: &common::TestServer) {
    let a = server.tenant("Salon Selbst").await;
    let mut c = server.tenants();
    let input = pb::Tenant { id: a.id.clone(), display_name: "Salon Selbst GmbH".into(), ..Default::default() };
    let updated =
        update_tenant(&mut c, &a.admin, input.clone(), &["display_name"]).await.expect("a tenant admin updates it");
    assert_eq!(updated.display_name, "Salon Selbst GmbH");
    // Lower scopes may not.
    for key in [&a.agent, &a.reader] {
        let input = pb::Tenant { display_name: "Hijacked".into(), ..input.clone() };
        refused(update_tenant(&mut c, key, input, &["display_name"]).await, Code::PermissionDenied);
    }
    assert_eq!(get_tenant(&mut c, &a.reader, &a.id).await.expect("get").display_name, "Salon Selbst GmbH");
}

async fn list_tenants_pages_through_every_tenant_once(server: &common::TestServer) {
    let mut c = server.tenants();
    let platform = server.platform_key();
    let before = all_tenants(&mut c, platform).await;
    let mut expected = ids(&before, |t| &t.id);
    for name in ["Salon Eins", "Salon Zwei", "Salon Drei"] {
        expected.push(create_tenant(&mut c, platform, "", tenant_input(name)).await.expect("create").id);
    }

    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = c
            .list_tenants(authed(pb::ListTenantsRequest { page_size: 1, page_token: token.clone() }, platform))
            .await
            .expect("list tenants")
            .into_inner();
        pages += 1;
        assert!(page.tenants.len() <= 1, "page_size 1 returns at most one tenant");
        seen.extend(page.tenants.into_iter().map(|t| t.id));
        if page.next_page_token.is_empty() {
            break;
        }
        assert!(pages <= expected.len(), "paging does not end");
        token = page.next_page_token;
    }
    assert_eq!(seen, expected, "every tenant exactly once, oldest first");
    assert_eq!(pages, expected.len(), "the last page is the one with the last tenant");
}

on_both_databases!(
    create_tenant_reports_every_bad_field_at_once,
    get_tenant_returns_own_tenant_to_a_read_only_key,
    update_tenant_changes_only_masked_fields_and_bumps_etag,
    update_tenant_with_stale_etag_is_aborted,
    update_tenant_requires_a_known_update_mask,
    tenant_admin_updates_its_own_tenant,
    list_tenants_pages_through_every_tenant_once,
);
