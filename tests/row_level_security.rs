//! PostgreSQL's row-level security is a second wall behind the code's own
//! tenant filters: a query that forgets `tenant_id` still sees only the
//! transaction's tenant, and sees nothing when no tenant is set.
mod common;

use askpro::domain::ids::TenantId;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

async fn postgres_server() -> Option<common::TestServer> {
    let server = common::TestServer::start(common::Backend::Postgres).await;
    if server.is_none() {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the row-level-security tests on PostgreSQL");
    }
    server
}

fn tenant(id: &str) -> TenantId {
    TenantId(uuid::Uuid::parse_str(id).unwrap())
}

async fn ids(conn: &impl ConnectionTrait, sql: &str) -> Vec<String> {
    conn.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect("query runs")
        .iter()
        .map(|row| row.try_get_by_index::<uuid::Uuid>(0).expect("uuid column").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_without_tenant_filter_sees_only_its_tenant() {
    let Some(server) = postgres_server().await else { return };
    let a = server.tenant("Salon A").await;
    let b = server.tenant("Salon B").await;
    let store = &server.state.store;

    let tx = store.read(tenant(&a.id)).await.unwrap();
    // No WHERE tenant_id: RLS filters.
    assert_eq!(ids(tx.conn(), "SELECT id FROM branches").await, vec![a.branch.id.clone()]);
    assert_eq!(ids(tx.conn(), "SELECT id FROM staff").await, vec![a.staff.id.clone()]);
    assert_eq!(ids(tx.conn(), "SELECT id FROM services").await, vec![a.service.id.clone()]);
    assert_eq!(ids(tx.conn(), "SELECT id FROM tenants").await, vec![a.id.clone()]);
    assert_eq!(ids(tx.conn(), "SELECT id FROM api_keys").await.len(), 3, "only A's three keys");
    tx.commit().await.unwrap();

    // B's transaction asking for A's branch by id alone finds nothing.
    let tx = store.read(tenant(&b.id)).await.unwrap();
    let sql = format!("SELECT id FROM branches WHERE id = '{}'", a.branch.id);
    assert!(ids(tx.conn(), &sql).await.is_empty());
    tx.commit().await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_tenant_set_sees_nothing_and_foreign_writes_fail() {
    let Some(server) = postgres_server().await else { return };
    let a = server.tenant("Salon A").await;
    let b = server.tenant("Salon B").await;
    let a_rows = webhook_rows(&server, &a.id).await;
    let db = server.state.store.connection();

    // The application role without any tenant setting: every table is empty.
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("SET LOCAL ROLE askpro_app").await.unwrap();
    let tables = [
        "tenants",
        "branches",
        "branch_phone_numbers",
        "staff",
        "services",
        "api_keys",
        "staff_services",
        "subscriptions",
        "outbox_events",
        "deliveries",
        "delivery_attempts",
        "inbound_endpoints",
        "inbound_events",
        "calls",
    ];
    for table in tables {
        let rows = txn
            .query_all_raw(Statement::from_string(DbBackend::Postgres, format!("SELECT 1 FROM {table}")))
            .await
            .unwrap();
        assert!(rows.is_empty(), "{table} must be invisible without a tenant");
    }
    txn.rollback().await.unwrap();

    // B sees none of A's webhook rows, A sees them all; the inbound route's
    // platform lookup by path token finds A's endpoint.
    let tx = server.state.store.read(tenant(&b.id)).await.unwrap();
    for table in [
        "subscriptions",
        "outbox_events",
        "deliveries",
        "delivery_attempts",
        "inbound_endpoints",
        "inbound_events",
        "calls",
    ] {
        assert!(ids(tx.conn(), &format!("SELECT id FROM {table}")).await.is_empty(), "{table} of A seen by B");
    }
    tx.commit().await.unwrap();
    let tx = server.state.store.read(tenant(&a.id)).await.unwrap();
    assert_eq!(ids(tx.conn(), "SELECT id FROM subscriptions").await, vec![a_rows.subscription.clone()]);
    assert_eq!(ids(tx.conn(), "SELECT id FROM delivery_attempts").await.len(), 1);
    tx.commit().await.unwrap();
    let platform = server.state.store.platform_read().await.unwrap();
    let found = askpro::store::inbound_endpoints::find_by_path_token(&platform, &a_rows.path_token).await.unwrap();
    assert_eq!(found.map(|e| e.tenant_id.to_string()), Some(a.id.clone()));
    platform.commit().await.unwrap();

    // Inside B's transaction, writing a row for A is refused by WITH CHECK.
    let tx = server.state.store.write(tenant(&b.id)).await.unwrap();
    let insert = format!(
        "INSERT INTO branches (tenant_id, id, display_name, time_zone, region_code, address, revision, create_time, update_time) \
         VALUES ('{}', gen_random_uuid(), 'Mole', 'Europe/Berlin', 'DE', '', 1, now(), now())",
        a.id
    );
    let err = tx.conn().execute_unprepared(&insert).await.expect_err("RLS must refuse a foreign tenant_id");
    assert!(err.to_string().contains("row-level security"), "{err}");
    drop(tx);

    // And an update without a tenant filter in B's transaction touches none of A's rows.
    let tx = server.state.store.write(tenant(&b.id)).await.unwrap();
    tx.conn().execute_unprepared("UPDATE branches SET display_name = 'Renamed'").await.unwrap();
    tx.commit().await.unwrap();
    let tx = server.state.store.read(tenant(&a.id)).await.unwrap();
    let names = tx
        .conn()
        .query_all_raw(Statement::from_string(DbBackend::Postgres, "SELECT display_name FROM branches"))
        .await
        .unwrap();
    assert_eq!(names[0].try_get_by_index::<String>(0).unwrap(), a.branch.display_name);
    tx.commit().await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_runs_as_a_non_owner_role_with_forced_rls() {
    let Some(server) = postgres_server().await else { return };
    let a = server.tenant("Salon A").await;
    let tx = server.state.store.read(tenant(&a.id)).await.unwrap();
    let row = tx
        .conn()
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_user::text, (SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user)",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "askpro_app");
    assert!(!row.try_get_by_index::<bool>(1).unwrap(), "the app role must not bypass RLS");
    tx.commit().await.unwrap();

    let db = server.state.store.connection();
    let tables = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner)::text \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'seaql_migrations'",
        ))
        .await
        .unwrap();
    assert!(tables.len() >= 9);
    for row in tables {
        let name: String = row.try_get_by_index(0).unwrap();
        assert!(row.try_get_by_index::<bool>(1).unwrap(), "{name}: RLS enabled");
        assert!(row.try_get_by_index::<bool>(2).unwrap(), "{name}: RLS forced");
        assert_ne!(row.try_get_by_index::<String>(3).unwrap(), "askpro_app", "{name}: the app role owns nothing");
    }
    server.stop().await;
}

struct WebhookRows {
    subscription: String,
    path_token: String,
}

/// One row in each webhook table for `tenant_id`, written through the store.
async fn webhook_rows(server: &common::TestServer, tenant_id: &str) -> WebhookRows {
    use askpro::domain::ids::{InboundEndpointId, SubscriptionId};
    use askpro::domain::webhook::{InboundEventStatus, InboundProvider, SubscriptionState};
    use askpro::store::{calls, inbound_endpoints, inbound_events, outbox, subscriptions};
    let tx = server.state.store.write(tenant(tenant_id)).await.unwrap();
    let new = subscriptions::NewSubscription {
        url: "https://example.com/hooks".into(),
        event_types: vec![],
        description: String::new(),
        state: SubscriptionState::Active,
    };
    let sub = subscriptions::create(&tx, new, "whsec_c2VjcmV0").await.unwrap();
    outbox::record_test(&tx, SubscriptionId(sub.id), "rls").await.unwrap();
    let endpoint = inbound_endpoints::create(
        &tx,
        inbound_endpoints::NewInboundEndpoint {
            provider: InboundProvider::Retell,
            display_name: String::new(),
            secret: "retell-key".into(),
        },
    )
    .await
    .unwrap();
    let event = inbound_events::NewInboundEvent {
        endpoint_id: InboundEndpointId(endpoint.id),
        provider: InboundProvider::Retell,
        event_key: "call_ended:c1".into(),
        event_type: "call_ended".into(),
        status: InboundEventStatus::Processed,
        rejection_reason: String::new(),
        appointment_id: None,
        call_id: None,
        customer_id: None,
    };
    inbound_events::insert_if_new(&tx, event).await.unwrap();
    let call = calls::CallUpdate {
        provider: InboundProvider::Retell,
        provider_call_id: "c1".into(),
        status: calls::CallStatus::Ended,
        branch_id: None,
        customer_id: None,
        appointment_id: None,
        from_number: None,
        to_number: None,
        start_time: None,
        end_time: None,
        analysis: None,
    };
    calls::upsert(&tx, call).await.unwrap();
    tx.commit().await.unwrap();
    WebhookRows { subscription: sub.id.to_string(), path_token: endpoint.path_token }
}

/// Three replicas started at once on an empty PostgreSQL database all come
/// up: migrations run under an advisory lock, one after the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_started_together_migrate_one_after_another() {
    let Some(db) = common::TestDb::create(common::Backend::Postgres).await else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the concurrent migration test");
        return;
    };
    let config = common::test_config(db.url());
    let start = || async {
        let store = askpro::store::Store::connect(&config).await.expect("connect");
        store.migrate().await.map(|()| store)
    };
    let (a, b, c) = tokio::join!(start(), start(), start());
    for (replica, outcome) in [("first", a), ("second", b), ("third", c)] {
        let store = outcome.unwrap_or_else(|err| panic!("the {replica} replica failed to migrate: {err}"));
        store.connection().clone().close().await.ok();
    }
}
