//! `askpro audit-tenancy` against real databases: a healthy schema with two
//! tenants passes; each kind of broken wall is found and named, and the
//! command exits 1.
mod common;

use std::process::Command;

use askpro::audit::{Report, tenant_isolation};
use common::{Backend, TestServer};
use sea_orm::{ConnectionTrait, Database};

fn failed_checks(report: &Report) -> Vec<(&'static str, String)> {
    report.findings.iter().map(|f| (f.check, f.subject.clone())).collect()
}

/// Runs the command against the test server's database; its exit code and output.
fn run_command(server: &TestServer) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_askpro"))
        .arg("audit-tenancy")
        .env("ASKPRO_DATABASE_URL", server.db.url())
        .env("ASKPRO_LOG_FILTER", "warn")
        .output()
        .expect("run askpro audit-tenancy");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `sql` as the database owner, outside the server's role and tenant.
async fn as_owner(server: &TestServer, sql: &str) {
    let db = Database::connect(server.db.url()).await.expect("connect");
    db.execute_unprepared(sql).await.expect(sql);
    db.close().await.ok();
}

async fn a_healthy_database_passes(server: &TestServer) {
    server.tenant("Salon Eins").await;
    server.tenant("Salon Zwei").await;
    let report = tenant_isolation(&server.state.store).await.expect("audit");
    assert!(report.passed(), "{report:#?}");
    for table in ["tenants", "customers", "appointments", "holds", "outbox_events", "api_keys"] {
        assert!(report.tables.iter().any(|t| t == table), "{table} is audited: {:?}", report.tables);
    }
    let examined: usize = report.checks.iter().map(|c| c.examined).sum();
    assert!(examined > 40, "the checks looked at something: {:?}", report.checks);
    if server.backend() == Backend::Postgres {
        let probed = report.checks.iter().find(|c| c.name == "each tenant sees only its own rows").expect("probe ran");
        assert_eq!(probed.examined, 2 * report.tables.len(), "both tenants probed on every table");
    }
    let (code, out) = run_command(server);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("tenant isolation holds\n"), "{out}");
}

on_both_databases!(a_healthy_database_passes);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_row_level_security_switched_off_is_found() {
    let Some(server) = TestServer::start(Backend::Postgres).await else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the PostgreSQL audit test");
        return;
    };
    server.tenant("Salon Offen").await;
    as_owner(&server, "ALTER TABLE customers NO FORCE ROW LEVEL SECURITY").await;
    as_owner(&server, "ALTER TABLE services DISABLE ROW LEVEL SECURITY").await;

    let report = tenant_isolation(&server.state.store).await.expect("audit");
    let failed = failed_checks(&report);
    let rls = "row-level security enabled, forced, with a tenant policy";
    assert!(failed.contains(&(rls, "customers".into())), "{failed:?}");
    assert!(failed.contains(&(rls, "services".into())), "{failed:?}");
    // With the wall down, a stranger's transaction sees the tenant's services.
    assert!(failed.contains(&("an unknown tenant sees no row", "services".into())), "{failed:?}");
    assert!(!failed.iter().any(|(_, subject)| subject == "branches"), "intact tables pass: {failed:?}");

    let (code, out) = run_command(&server);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL row-level security"), "{out}");
    assert!(out.ends_with("tenant isolation is BROKEN\n"), "{out}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_role_that_bypasses_row_level_security_is_found() {
    let Some(server) = TestServer::start(Backend::Postgres).await else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the PostgreSQL audit test");
        return;
    };
    server.tenant("Salon Durchlass").await;
    // A server configured with a role of its own that bypasses row-level
    // security (roles are cluster-wide, so not askpro_app, which other tests use).
    let role = format!("askpro_audit_{}", uuid::Uuid::now_v7().simple());
    as_owner(&server, &format!("CREATE ROLE {role} BYPASSRLS; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
        .await;
    let mut config = common::test_config(server.db.url());
    config.database_app_role = role.clone();
    let store = askpro::store::Store::connect(&config).await.expect("connect");
    let report = tenant_isolation(&store).await;
    store.connection().clone().close().await.ok();
    as_owner(&server, &format!("DROP OWNED BY {role}; DROP ROLE {role}")).await;

    let failed = failed_checks(&report.expect("audit"));
    let check = "the application role cannot bypass row-level security";
    assert!(failed.contains(&(check, role.clone())), "{failed:?}");
    // Bypassing, it sees every tenant's rows whatever tenant it claims.
    assert!(failed.iter().any(|(c, _)| *c == "an unknown tenant sees no row"), "{failed:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_orphans_and_tenantless_foreign_keys_are_found() {
    let server = TestServer::start(Backend::Sqlite).await.expect("sqlite");
    let tenant = server.tenant("Salon Waise").await;
    // A table whose foreign key names a branch by id alone could point at
    // another tenant's branch.
    as_owner(
        &server,
        "CREATE TABLE branch_notes (tenant_id TEXT NOT NULL REFERENCES tenants(id), \
         branch_id TEXT NOT NULL REFERENCES branches(id), note TEXT)",
    )
    .await;
    // A row of a tenant that does not exist (foreign keys are off on this connection).
    as_owner(
        &server,
        &format!(
            "PRAGMA foreign_keys = OFF; \
             INSERT INTO branch_notes (tenant_id, branch_id, note) VALUES ('{}', '{}', 'x')",
            uuid::Uuid::now_v7(),
            tenant.branch.id
        ),
    )
    .await;

    let report = tenant_isolation(&server.state.store).await.expect("audit");
    let failed = failed_checks(&report);
    assert!(
        failed.contains(&("foreign keys carry the tenant", "branch_notes(branch_id) -> branches(id)".into())),
        "{failed:?}"
    );
    assert!(failed.contains(&("every row's tenant exists", "branch_notes".into())), "{failed:?}");
    assert_eq!(failed.len(), 2, "only the broken table fails: {failed:?}");
    let (code, out) = run_command(&server);
    assert_eq!(code, 1, "{out}");
    server.stop().await;
}
