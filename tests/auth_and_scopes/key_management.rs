//! API key management: the secret is shown once, scopes, listing, revoking.

use super::*;

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

async fn created_key_secret_is_shown_once(server: &common::TestServer) {
    let tenant = server.tenant("Salon Once").await;
    let created = create_key(server, &tenant.admin, pb::ApiKeyScope::Agent, None).await;
    let key = created.api_key.clone().expect("api key");
    assert_eq!(key.scope, pb::ApiKeyScope::Agent as i32);
    let hex_id = key.key_prefix.strip_prefix("ak_").expect("key_prefix starts with ak_");
    assert!(is_lower_hex(hex_id, 32), "key_prefix {:?} is ak_<32 hex>", key.key_prefix);
    assert_eq!(hex_id, uuid::Uuid::parse_str(&key.id).expect("id is a UUID").simple().to_string());
    let secret_part = created
        .secret
        .strip_prefix(&format!("{}_", key.key_prefix))
        .unwrap_or_else(|| panic!("secret {:?} starts with key_prefix_", created.secret));
    assert!(is_lower_hex(secret_part, 48), "secret part is 48 hex characters");
    // The key object in the create response carries no secret either.
    assert!(!contains(&key.encode_to_vec(), secret_part.as_bytes()));

    let list = server
        .tenants()
        .list_api_keys(authed(pb::ListApiKeysRequest { show_revoked: true, ..Default::default() }, &tenant.admin))
        .await
        .expect("list keys")
        .into_inner();
    let listed = list.api_keys.iter().find(|k| k.id == key.id).expect("new key listed");
    assert_eq!(listed.key_prefix, key.key_prefix);
    assert!(!contains(&list.encode_to_vec(), secret_part.as_bytes()), "ListApiKeys must never return a secret");
    // The secret works as a key.
    list_branches(server, authed(pb::ListBranchesRequest::default(), &created.secret)).await.expect("secret works");
}

async fn create_api_key_rejects_platform_and_unspecified_scopes(server: &common::TestServer) {
    let tenant = server.tenant("Salon Scopes").await;
    let mut client = server.tenants();
    for scope in [pb::ApiKeyScope::PlatformAdmin, pb::ApiKeyScope::Unspecified] {
        let request = pb::CreateApiKeyRequest {
            api_key: Some(pb::ApiKey { display_name: "sneaky".into(), scope: scope as i32, ..Default::default() }),
        };
        let status = expect_code(client.create_api_key(authed(request, &tenant.admin)).await, Code::InvalidArgument);
        assert_eq!(violated_fields(&status), vec!["api_key.scope"], "{scope:?}");
    }
    // Not even a platform admin acting on the tenant may mint one through the API.
    let request = pb::CreateApiKeyRequest {
        api_key: Some(pb::ApiKey {
            display_name: "sneaky".into(),
            scope: pb::ApiKeyScope::PlatformAdmin as i32,
            ..Default::default()
        }),
    };
    let status = expect_code(
        client.create_api_key(with_key(request, as_tenant(server.platform_key(), &tenant.id))).await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["api_key.scope"]);
    // Nothing was created.
    let keys = client
        .list_api_keys(authed(pb::ListApiKeysRequest { show_revoked: true, ..Default::default() }, &tenant.admin))
        .await
        .unwrap()
        .into_inner()
        .api_keys;
    assert_eq!(keys.len(), 3, "only the fixture's keys: {keys:?}");
}

async fn list_api_keys_hides_revoked_unless_asked(server: &common::TestServer) {
    let tenant = server.tenant("Salon Hidden").await;
    let mut client = server.tenants();
    let created = create_key(server, &tenant.admin, pb::ApiKeyScope::ReadOnly, None).await;
    let id = created.api_key.expect("key").id;
    let listed = |show_revoked: bool| {
        let mut client = server.tenants();
        let admin = tenant.admin.clone();
        async move {
            client
                .list_api_keys(authed(pb::ListApiKeysRequest { show_revoked, ..Default::default() }, &admin))
                .await
                .expect("list keys")
                .into_inner()
                .api_keys
        }
    };
    assert!(listed(false).await.iter().any(|k| k.id == id), "active key listed");
    client.revoke_api_key(authed(pb::RevokeApiKeyRequest { id: id.clone() }, &tenant.admin)).await.expect("revoke");
    let active = listed(false).await;
    assert!(!active.iter().any(|k| k.id == id), "revoked key hidden by default");
    assert_eq!(active.len(), 3, "the fixture's three keys remain");
    assert!(active.iter().all(|k| k.revoke_time.is_none()));
    let all = listed(true).await;
    let revoked = all.iter().find(|k| k.id == id).expect("revoked key listed with show_revoked");
    assert!(revoked.revoke_time.is_some());
    assert_eq!(all.len(), 4);
}

async fn revoking_twice_returns_the_same_revoke_time(server: &common::TestServer) {
    let tenant = server.tenant("Salon Twice").await;
    let mut client = server.tenants();
    let created = create_key(server, &tenant.admin, pb::ApiKeyScope::Agent, None).await;
    let id = created.api_key.expect("key").id;
    let first = client
        .revoke_api_key(authed(pb::RevokeApiKeyRequest { id: id.clone() }, &tenant.admin))
        .await
        .expect("first revoke")
        .into_inner()
        .api_key
        .expect("key");
    let first_time = first.revoke_time.expect("revoke_time set");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = client
        .revoke_api_key(authed(pb::RevokeApiKeyRequest { id: id.clone() }, &tenant.admin))
        .await
        .expect("second revoke")
        .into_inner()
        .api_key
        .expect("key");
    assert_eq!(second.revoke_time, Some(first_time), "revoking again changes nothing");
    assert_eq!(second, first, "the whole key is returned unchanged");
    let listed = client
        .list_api_keys(authed(pb::ListApiKeysRequest { show_revoked: true, ..Default::default() }, &tenant.admin))
        .await
        .unwrap()
        .into_inner()
        .api_keys;
    let stored = listed.iter().find(|k| k.id == id).expect("listed");
    assert_eq!(stored.revoke_time, Some(first_time), "the stored revoke_time is the one returned");
}

on_both_databases!(
    created_key_secret_is_shown_once,
    create_api_key_rejects_platform_and_unspecified_scopes,
    list_api_keys_hides_revoked_unless_asked,
    revoking_twice_returns_the_same_revoke_time,
);
