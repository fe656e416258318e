//! Platform-admin keys have a lifecycle: listed with their expiry and last
//! use, revoked by a platform admin (RPC) or the command line, expiring by
//! default, and reported by the audit when they never expire.

use askpro::store::api_keys;

use super::*;

/// A platform-admin key written through the store, as `askpro platform-key
/// create` does, expiring at `expire_time`.
async fn platform_key(
    server: &common::TestServer,
    name: &str,
    expire_time: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    let issued = askpro::domain::api_key::issue();
    let tx = server.state.store.platform().await.expect("platform tx");
    api_keys::create_platform_admin_until(&tx, &issued, name.into(), expire_time).await.expect("platform key");
    tx.commit().await.expect("commit");
    issued.full_key.expose_secret().to_owned()
}

fn id_of(key: &str) -> String {
    let hex = key.strip_prefix("ak_").and_then(|rest| rest.split('_').next()).expect("ak_<id>_<secret>");
    uuid::Uuid::parse_str(hex).expect("hex id").to_string()
}

async fn list(server: &common::TestServer, key: &str, show_revoked: bool) -> Result<Vec<pb::ApiKey>, Status> {
    let request = pb::ListPlatformApiKeysRequest { show_revoked, ..Default::default() };
    server.tenants().list_platform_api_keys(authed(request, key)).await.map(|r| r.into_inner().api_keys)
}

async fn platform_keys_are_listed_with_last_use_and_revoked_by_a_platform_admin(server: &common::TestServer) {
    let ops = platform_key(server, "ops", Some(chrono::Utc::now() + chrono::Duration::days(30))).await;
    let leaked = platform_key(server, "leaked", None).await;
    // Both work; using one records its use (off the call's path, so poll).
    list(server, &leaked, false).await.expect("the leaked key works");
    let mut listed = Vec::new();
    for _ in 0..50 {
        listed = list(server, &ops, false).await.expect("list platform keys");
        if listed.iter().any(|k| k.id == id_of(&leaked) && k.last_use_time.is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let leaked_row = listed.iter().find(|k| k.id == id_of(&leaked)).expect("the leaked key is listed");
    assert!(leaked_row.last_use_time.is_some(), "its use is recorded: {leaked_row:?}");
    assert!(leaked_row.expire_time.is_none());
    let ops_row = listed.iter().find(|k| k.id == id_of(&ops)).expect("the ops key is listed");
    assert_eq!(ops_row.scope, pb::ApiKeyScope::PlatformAdmin as i32);
    assert!(ops_row.expire_time.is_some());
    assert!(!contains(
        &pb::ListPlatformApiKeysResponse { api_keys: listed.clone(), ..Default::default() }.encode_to_vec(),
        common::secret_part(&leaked).as_bytes()
    ));

    // The platform admin revokes the leaked key: it stops working at once here.
    let revoke = pb::RevokePlatformApiKeyRequest { id: id_of(&leaked) };
    let revoked = server.tenants().revoke_platform_api_key(authed(revoke, &ops)).await.expect("revoke").into_inner();
    assert!(revoked.api_key.expect("key").revoke_time.is_some());
    expect_code(list(server, &leaked, false).await.map(tonic::Response::new), Code::Unauthenticated);
    let live = list(server, &ops, false).await.expect("list");
    assert!(live.iter().all(|k| k.id != id_of(&leaked)), "revoked keys are hidden unless asked");
    assert!(list(server, &ops, true).await.expect("list all").iter().any(|k| k.id == id_of(&leaked)));

    // A tenant key is not a platform key; tenant admins may not manage platform keys.
    let tenant = server.tenant("Salon Platform Keys").await;
    let not_platform = pb::RevokePlatformApiKeyRequest { id: id_of(&tenant.admin) };
    expect_code(server.tenants().revoke_platform_api_key(authed(not_platform, &ops)).await, Code::NotFound);
    let status =
        expect_code(list(server, &tenant.admin, false).await.map(tonic::Response::new), Code::PermissionDenied);
    assert_eq!(reason(&status), "SCOPE_INSUFFICIENT");
}

async fn an_expired_platform_key_is_refused(server: &common::TestServer) {
    let expired = platform_key(server, "expired", Some(chrono::Utc::now() - chrono::Duration::seconds(1))).await;
    let status = expect_code(list(server, &expired, false).await.map(tonic::Response::new), Code::Unauthenticated);
    assert_eq!(reason(&status), "API_KEY_INVALID");
}

on_both_databases!(
    platform_keys_are_listed_with_last_use_and_revoked_by_a_platform_admin,
    an_expired_platform_key_is_refused,
);

/// The command line: `create` expires in 90 days by default, `list --json`
/// shows it, `revoke` ends it, and the audit warns about keys that never expire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_creates_lists_and_revokes_platform_keys() {
    let workdir = common::process::Workdir::new();
    let created = workdir.run(&["platform-key", "create", "--name", "ops"], "create").await;
    assert!(created.status.success(), "{}", created.stderr);
    let key = created.stdout.trim().to_owned();
    assert!(key.starts_with("ak_"), "{key:?}");
    let forever = workdir.run(&["platform-key", "create", "--name", "forever", "--no-expiry"], "create").await;
    assert!(forever.status.success(), "{}", forever.stderr);

    let listed = workdir.run(&["platform-key", "list", "--json"], "list").await;
    assert!(listed.status.success(), "{}", listed.stderr);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&listed.stdout).expect("JSON list");
    let ops = rows.iter().find(|r| r["id"] == id_of(&key).as_str()).expect("the new key is listed");
    let expires: chrono::DateTime<chrono::Utc> = ops["expire_time"].as_str().expect("an expiry").parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_days();
    assert!((89..=90).contains(&days), "expires in 90 days: {expires}");
    assert!(!listed.stdout.contains(common::secret_part(&key)), "no secret in the list");

    let audit = workdir.run(&["audit-tenancy", "--json"], "audit").await;
    assert!(audit.status.success(), "a key without expiry is a warning, not a failure: {}", audit.stderr);
    let report: serde_json::Value = serde_json::from_str(&audit.stdout).expect("JSON report");
    let warned: Vec<&str> =
        report["warnings"].as_array().unwrap().iter().filter_map(|w| w["subject"].as_str()).collect();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("forever"), "{warned:?}");

    let revoked = workdir.run(&["platform-key", "revoke", &id_of(&key)], "revoke").await;
    assert!(revoked.status.success(), "{}", revoked.stderr);
    let listed = workdir.run(&["platform-key", "list", "--json"], "list").await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&listed.stdout).expect("JSON list");
    assert!(rows.iter().all(|r| r["id"] != id_of(&key).as_str()), "revoked keys are not listed without --all");
    let unknown = workdir.run(&["platform-key", "revoke", "not-a-key"], "revoke").await;
    assert!(!unknown.status.success());
}
