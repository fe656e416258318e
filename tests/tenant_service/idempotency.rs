//! Creates are idempotent by request_id, also when retries race.

use super::*;

async fn create_tenant_is_idempotent_by_request_id(server: &common::TestServer) {
    let mut c = server.tenants();
    let platform = server.platform_key();
    let before = all_tenants(&mut c, platform).await.len();

    let first = create_tenant(&mut c, platform, "tenant-once_1", tenant_input("Salon Einmal")).await.expect("first");
    let again = create_tenant(&mut c, platform, "tenant-once_1", tenant_input("Salon Einmal")).await.expect("retry");
    assert_eq!(again, first, "a retry returns the first result");
    let all = all_tenants(&mut c, platform).await;
    assert_eq!(all.len(), before + 1, "the retry created nothing");
    assert_eq!(all.iter().filter(|t| t.display_name == "Salon Einmal").count(), 1);

    let status = refused(
        create_tenant(&mut c, platform, "tenant-once_1", tenant_input("Salon Anders")).await,
        Code::InvalidArgument,
    );
    assert_eq!(reason(&status), "REQUEST_ID_REUSED", "{status:?}");
    assert_eq!(violated_fields(&status), vec!["request_id"]);

    invalid(create_tenant(&mut c, platform, "bad id!", tenant_input("Salon Falsch")).await, &["request_id"]);
    invalid(create_tenant(&mut c, platform, &"a".repeat(65), tenant_input("Salon Lang")).await, &["request_id"]);
    invalid(create_tenant(&mut c, platform, "ümlaut", tenant_input("Salon Umlaut")).await, &["request_id"]);
    assert_eq!(all_tenants(&mut c, platform).await.len(), before + 1, "rejected creates wrote nothing");

    // 64 characters is still a valid id.
    create_tenant(&mut c, platform, &"b".repeat(64), tenant_input("Salon 64")).await.expect("64-character request_id");
    assert_eq!(all_tenants(&mut c, platform).await.len(), before + 2);
}

async fn create_branch_is_idempotent_by_request_id(server: &common::TestServer) {
    let a = server.tenant("Salon A").await;
    let b = server.tenant("Salon B").await;
    let mut c = server.tenants();
    let before_a = branches(&mut c, &a.admin).await.len();
    let before_b = branches(&mut c, &b.admin).await.len();
    let input = branch_input("Nord", &["040 1234567"]);

    let first = create_branch(&mut c, &a.admin, "branch-once", input.clone()).await.expect("first");
    let again = create_branch(&mut c, &a.admin, "branch-once", input.clone()).await.expect("retry");
    assert_eq!(again, first, "a retry returns the first result, not a phone number conflict");
    let listed = branches(&mut c, &a.admin).await;
    assert_eq!(listed.len(), before_a + 1, "the retry created nothing");
    assert_eq!(listed.iter().filter(|b| b.display_name == "Nord").count(), 1);

    let status = refused(
        create_branch(&mut c, &a.admin, "branch-once", branch_input("Süd", &["040 1234567"])).await,
        Code::InvalidArgument,
    );
    assert_eq!(reason(&status), "REQUEST_ID_REUSED", "{status:?}");
    assert_eq!(violated_fields(&status), vec!["request_id"]);
    invalid(create_branch(&mut c, &a.admin, "bad id!", branch_input("Ost", &[])).await, &["request_id"]);
    assert_eq!(branches(&mut c, &a.admin).await.len(), before_a + 1, "rejected creates wrote nothing");

    // The same request_id in another tenant is another request.
    let other = create_branch(&mut c, &b.admin, "branch-once", input.clone()).await.expect("tenant B");
    assert_ne!(other.id, first.id, "tenant B gets its own branch");
    assert_eq!(other.phone_numbers, vec!["+49401234567"]);
    assert_eq!(branches(&mut c, &b.admin).await.len(), before_b + 1);
    assert_eq!(branches(&mut c, &a.admin).await.len(), before_a + 1, "tenant A is unchanged");
    assert_eq!(get_branch(&mut c, &a.reader, &first.id).await.expect("A's branch"), first);
}

async fn create_staff_is_idempotent_by_request_id(server: &common::TestServer) {
    let a = server.tenant("Salon A").await;
    let b = server.tenant("Salon B").await;
    let mut c = server.tenants();
    let before_a = staff_of(&mut c, &a.admin, "").await.len();
    let before_b = staff_of(&mut c, &b.admin, "").await.len();
    let input = staff_input(&a.branch.id, "Bernd", &[&a.service.id]);

    let first = create_staff(&mut c, &a.admin, "staff-once", input.clone()).await.expect("first");
    let again = create_staff(&mut c, &a.admin, "staff-once", input.clone()).await.expect("retry");
    assert_eq!(again, first, "a retry returns the first result");
    assert_eq!(staff_of(&mut c, &a.admin, "").await.len(), before_a + 1, "the retry created nothing");

    let status = refused(
        create_staff(&mut c, &a.admin, "staff-once", staff_input(&a.branch.id, "Berta", &[&a.service.id])).await,
        Code::InvalidArgument,
    );
    assert_eq!(reason(&status), "REQUEST_ID_REUSED", "{status:?}");
    assert_eq!(violated_fields(&status), vec!["request_id"]);
    invalid(create_staff(&mut c, &a.admin, "bad id!", input.clone()).await, &["request_id"]);
    assert_eq!(staff_of(&mut c, &a.admin, "").await.len(), before_a + 1, "rejected creates wrote nothing");

    let other = create_staff(&mut c, &b.admin, "staff-once", staff_input(&b.branch.id, "Bernd", &[&b.service.id]))
        .await
        .expect("tenant B");
    assert_ne!(other.id, first.id);
    assert_eq!(other.branch_id, b.branch.id);
    assert_eq!(staff_of(&mut c, &b.admin, "").await.len(), before_b + 1);
    assert_eq!(staff_of(&mut c, &a.admin, "").await.len(), before_a + 1, "tenant A is unchanged");
}

async fn create_service_is_idempotent_by_request_id(server: &common::TestServer) {
    let a = server.tenant("Salon A").await;
    let b = server.tenant("Salon B").await;
    let mut c = server.tenants();
    let before_a = services(&mut c, &a.admin).await.len();
    let before_b = services(&mut c, &b.admin).await.len();
    let input = service_input("Färben", 90);

    let first = create_service(&mut c, &a.admin, "service-once", input.clone()).await.expect("first");
    let again = create_service(&mut c, &a.admin, "service-once", input.clone()).await.expect("retry");
    assert_eq!(again, first, "a retry returns the first result");
    assert_eq!(services(&mut c, &a.admin).await.len(), before_a + 1, "the retry created nothing");

    let status = refused(
        create_service(&mut c, &a.admin, "service-once", service_input("Färben", 120)).await,
        Code::InvalidArgument,
    );
    assert_eq!(reason(&status), "REQUEST_ID_REUSED", "{status:?}");
    assert_eq!(violated_fields(&status), vec!["request_id"]);
    invalid(create_service(&mut c, &a.admin, "bad id!", input.clone()).await, &["request_id"]);
    assert_eq!(services(&mut c, &a.admin).await.len(), before_a + 1, "rejected creates wrote nothing");

    let other = create_service(&mut c, &b.admin, "service-once", input.clone()).await.expect("tenant B");
    assert_ne!(other.id, first.id);
    assert_eq!(services(&mut c, &b.admin).await.len(), before_b + 1);
    assert_eq!(services(&mut c, &a.admin).await.len(), before_a + 1, "tenant A is unchanged");

    // A request_id is per method: the same id on CreateBranch is unrelated.
    create_branch(&mut c, &a.admin, "service-once", branch_input("Gleiche Id", &[]))
        .await
        .expect("the same request_id on another method");
}

/// Fires `n` identical CreateBranch calls at once and returns their results.
async fn concurrent_branch_creates(
    server: &common::TestServer,
    key: &str,
    request: pb::CreateBranchRequest,
    n: usize,
) -> Vec<Result<pb::Branch, Status>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let mut client = server.tenants();
            let key = key.to_owned();
            let request = request.clone();
            tokio::spawn(async move {
                client.create_branch(authed(request, &key)).await.map(|r| r.into_inner().branch.expect("branch"))
            })
        })
        .collect();
    futures::future::join_all(tasks).await.into_iter().map(|r| r.expect("task does not panic")).collect()
}

async fn concurrent_duplicate_creates_make_one_branch(server: &common::TestServer) {
    let a = server.tenant("Salon Ansturm").await;
    let mut c = server.tenants();
    let before = branches(&mut c, &a.admin).await.len();
    let request =
        pb::CreateBranchRequest { request_id: "rush-hour".into(), branch: Some(branch_input("Ansturm", &[])) };
    let results = concurrent_branch_creates(server, &a.admin, request, 10).await;
    let mut created = Vec::new();
    for (i, result) in results.into_iter().enumerate() {
        created.push(result.unwrap_or_else(|s| panic!("duplicate call {i} failed: {s:?}")));
    }
    assert!(created.iter().all(|b| *b == created[0]), "every duplicate returns the same branch: {created:#?}");
    let listed = branches(&mut c, &a.admin).await;
    assert_eq!(listed.len(), before + 1, "exactly one branch was created");
    let named: Vec<_> = listed.iter().filter(|b| b.display_name == "Ansturm").collect();
    assert_eq!(named.len(), 1);
    assert_eq!(named[0].id, created[0].id);
}

async fn concurrent_duplicate_creates_with_a_phone_number_make_one_branch(server: &common::TestServer) {
    let a = server.tenant("Salon Telefon").await;
    let mut c = server.tenants();
    let before = branches(&mut c, &a.admin).await.len();
    let request = pb::CreateBranchRequest {
        request_id: "rush-hour-phone".into(),
        branch: Some(branch_input("Ansturm Telefon", &["0211 1234567"])),
    };
    let results = concurrent_branch_creates(server, &a.admin, request, 10).await;
    let mut created = Vec::new();
    for (i, result) in results.into_iter().enumerate() {
        created.push(result.unwrap_or_else(|s| {
            panic!(
                "BUG (src/api/idempotency.rs create_once + src/store/branches.rs insert_phone_numbers): duplicate \
                 CreateBranch call {i} with the same request_id failed instead of returning the first result; \
                 a racing duplicate hits the phone number's unique key before the idempotency record and gets \
                 ALREADY_EXISTS: {s:?}"
            )
        }));
    }
    assert!(created.iter().all(|b| *b == created[0]), "every duplicate returns the same branch: {created:#?}");
    assert_eq!(created[0].phone_numbers, vec!["+492111234567"]);
    assert_eq!(branches(&mut c, &a.admin).await.len(), before + 1, "exactly one branch was created");
}

on_both_databases!(
    create_tenant_is_idempotent_by_request_id,
    create_branch_is_idempotent_by_request_id,
    create_staff_is_idempotent_by_request_id,
    create_service_is_idempotent_by_request_id,
    concurrent_duplicate_creates_make_one_branch,
    concurrent_duplicate_creates_with_a_phone_number_make_one_branch,
);
