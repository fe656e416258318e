//! The `askpro` binary as an operator runs it: `seed demo`, `serve --demo`,
//! `migrate` and `platform-key create`, each in a temporary working folder
//! over its own SQLite file, with JSON logs that must never carry a secret.
mod common;

use std::time::Instant;

use askpro::proto::tenant::v1 as pb;
use askpro::proto::tenant::v1::tenant_service_client::TenantServiceClient;
use common::process::{CALL_TIMEOUT, STOP_TIMEOUT, Workdir};
use common::{authed, create_tenant, reason, secret_part};
use tonic::transport::Channel;
use tonic::{Code, Status};

/// Whether `s` has the shape `ak_<32 hex>_<48 hex>`, lowercase.
fn is_key(s: &str) -> bool {
    let hex = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let Some(rest) = s.strip_prefix("ak_") else { return false };
    let Some((id, secret)) = rest.split_once('_') else { return false };
    hex(id, 32) && hex(secret, 48)
}

/// Asserts no key's secret (nor the whole key) appears in `log`.
#[track_caller]
fn assert_no_secrets(log: &str, what: &str, keys: &[&str]) {
    for key in keys {
        let secret = secret_part(key);
        assert_eq!(secret.len(), 48);
        assert!(!log.contains(secret), "{what} contains the secret of key {}_…", &key[..35]);
    }
}

/// Asserts every non-empty line is a JSON object (ASKPRO_LOG_FORMAT=json),
/// and that there is at least one: an empty log would prove nothing.
#[track_caller]
fn assert_json_lines(log: &str, what: &str) {
    let mut lines = 0;
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: not a JSON log line ({e}): {line}"));
        assert!(value.is_object(), "{what}: {line}");
        lines += 1;
    }
    assert!(lines > 0, "{what} logged nothing");
}

async fn list_branches(client: &mut TenantServiceClient<Channel>, key: &str) -> Result<Vec<pb::Branch>, Status> {
    let call = client.list_branches(authed(pb::ListBranchesRequest::default(), key));
    tokio::time::timeout(CALL_TIMEOUT, call).await.expect("ListBranches timed out").map(|r| r.into_inner().branches)
}

#[track_caller]
fn assert_invalid_key<T: std::fmt::Debug>(result: Result<T, Status>, what: &str) {
    match result {
        Err(status) => {
            assert_eq!(status.code(), Code::Unauthenticated, "{what}: {status:?}");
            assert_eq!(reason(&status), "API_KEY_INVALID", "{what}: {status:?}");
        }
        Ok(value) => panic!("{what}: expected UNAUTHENTICATED, got {value:?}"),
    }
}

/// What `seed demo --json` prints.
#[derive(Debug)]
struct Seed {
    tenant_id: String,
    branch_id: String,
    staff_ids: Vec<String>,
    service_ids: Vec<String>,
    platform_admin_key: String,
    tenant_admin_key: String,
    agent_key: String,
    created: bool,
}

impl Seed {
    fn keys(&self) -> [&str; 3] {
        [&self.platform_admin_key, &self.tenant_admin_key, &self.agent_key]
    }
}

async fn seed_json(workdir: &Workdir, label: &str) -> (Seed, String) {
    let run = workdir.run(&["seed", "demo", "--json"], label).await;
    assert!(run.status.success(), "seed demo failed with {}:\n{}", run.status, run.stderr);
    // The whole of stdout is one JSON object (logs go to stderr).
    let json: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{}", run.stdout));
    let object = json.as_object().expect("a JSON object");
    let text =
        |name: &str| object.get(name).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("{name}: {json}")).to_owned();
    let list = |name: &str| -> Vec<String> {
        object
            .get(name)
            .and_then(|v| v.as_array())
            .unwrap_or_else(|| panic!("{name}: {json}"))
            .iter()
            .map(|v| v.as_str().expect("string id").to_owned())
            .collect()
    };
    let seed = Seed {
        tenant_id: text("tenant_id"),
        branch_id: text("branch_id"),
        staff_ids: list("staff_ids"),
        service_ids: list("service_ids"),
        platform_admin_key: text("platform_admin_key"),
        tenant_admin_key: text("tenant_admin_key"),
        agent_key: text("agent_key"),
        created: object.get("created").and_then(|v| v.as_bool()).unwrap_or_else(|| panic!("created: {json}")),
    };
    for id in [&seed.tenant_id, &seed.branch_id].into_iter().chain(&seed.staff_ids).chain(&seed.service_ids) {
        uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("{id:?} is no UUID: {e}"));
    }
    assert_eq!(seed.staff_ids.len(), 3, "{seed:?}");
    assert_eq!(seed.service_ids.len(), 4, "{seed:?}");
    for key in seed.keys() {
        assert!(is_key(key), "{key:?} is not ak_<32 hex>_<48 hex>");
    }
    (seed, run.stderr)
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

// ---------------------------------------------------------------------------
// a. seed demo --json

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_demo_is_idempotent_and_replaces_the_demo_keys() {
    let workdir = Workdir::new();
    let (first, first_log) = seed_json(&workdir, "seed-1").await;
    assert!(first.created, "the first run creates the demo tenant");
    let (second, second_log) = seed_json(&workdir, "seed-2").await;
    assert!(!second.created, "the second run finds the demo tenant");
    assert_eq!(second.tenant_id, first.tenant_id, "the same tenant");
    assert_eq!(second.branch_id, first.branch_id, "the same branch");
    assert_eq!(sorted(second.staff_ids.clone()), sorted(first.staff_ids.clone()), "the same staff");
    assert_eq!(sorted(second.service_ids.clone()), sorted(first.service_ids.clone()), "the same services");
    for (old, new) in first.keys().into_iter().zip(second.keys()) {
        assert_ne!(old, new, "each run prints new keys");
    }

    let mut server = workdir.serve(&[], "serve").await;
    let mut client = server.tenants().await;
    // The first run's keys were replaced.
    assert_invalid_key(list_branches(&mut client, &first.tenant_admin_key).await, "first run's tenant admin key");
    assert_invalid_key(list_branches(&mut client, &first.agent_key).await, "first run's agent key");
    assert_invalid_key(
        client.list_tenants(authed(pb::ListTenantsRequest::default(), &first.platform_admin_key)).await,
        "first run's platform admin key",
    );

    // The new agent key reads the salon.
    let branches = list_branches(&mut client, &second.agent_key).await.expect("agent lists branches");
    assert_eq!(branches.len(), 1, "{branches:?}");
    assert_eq!(branches[0].id, second.branch_id);
    assert_eq!(branches[0].phone_numbers, vec!["+493012345678".to_owned()]);
    assert_eq!(branches[0].time_zone, "Europe/Berlin");
    let staff = client
        .list_staff(authed(pb::ListStaffRequest::default(), &second.agent_key))
        .await
        .expect("agent lists staff")
        .into_inner()
        .staff;
    assert_eq!(sorted(staff.iter().map(|s| s.id.clone()).collect()), sorted(second.staff_ids.clone()));
    assert!(staff.iter().all(|s| s.branch_id == second.branch_id));
    let services = client
        .list_services(authed(pb::ListServicesRequest::default(), &second.agent_key))
        .await
        .expect("agent lists services")
        .into_inner()
        .services;
    assert_eq!(sorted(services.iter().map(|s| s.id.clone()).collect()), sorted(second.service_ids.clone()));
    // The agent may read but not administer.
    let status = client
        .list_api_keys(authed(pb::ListApiKeysRequest::default(), &second.agent_key))
        .await
        .expect_err("agent cannot list keys");
    assert_eq!(status.code(), Code::PermissionDenied);

    // The new tenant admin key sees exactly the two live demo keys.
    let keys = client
        .list_api_keys(authed(pb::ListApiKeysRequest::default(), &second.tenant_admin_key))
        .await
        .expect("tenant admin lists keys")
        .into_inner()
        .api_keys;
    let mut prefixes: Vec<String> = keys.iter().map(|k| format!("{}_", k.key_prefix)).collect();
    prefixes.sort();
    let mut expected: Vec<String> =
        [&second.tenant_admin_key, &second.agent_key].iter().map(|k| k[..36].to_owned()).collect();
    expected.sort();
    assert_eq!(prefixes, expected, "only the current demo keys are live");

    // The new platform key sees the demo tenant.
    let tenants = client
        .list_tenants(authed(pb::ListTenantsRequest::default(), &second.platform_admin_key))
        .await
        .expect("platform key lists tenants")
        .into_inner()
        .tenants;
    assert_eq!(tenants.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), vec![second.tenant_id.as_str()]);

    drop(client);
    let status = server.terminate().await;
    assert!(status.success(), "serve exited with {status}");

    // e. No secret reaches any log.
    let all_keys: Vec<&str> = first.keys().into_iter().chain(second.keys()).collect();
    assert_json_lines(&server.stderr(), "serve stderr");
    assert_no_secrets(&server.stderr(), "serve stderr", &all_keys);
    assert_no_secrets(&first_log, "first seed's stderr", &all_keys);
    assert_no_secrets(&second_log, "second seed's stderr", &all_keys);
}

// ---------------------------------------------------------------------------
// b. serve --demo and SIGTERM

/// The key printed after `label:` in `serve --demo` output.
fn printed_key(stdout: &str, label: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{stdout}"));
    let key = line.trim_start()[label.len()..].trim().to_owned();
    assert!(is_key(&key), "{label} {key:?} is not a key");
    key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_prints_keys_and_exits_cleanly_on_sigterm() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let workdir = Workdir::new();
    let mut server = workdir.serve(&["--demo"], "serve-demo").await;
    let stdout = server.stdout();
    let keys = [
        printed_key(&stdout, "platform admin:"),
        printed_key(&stdout, "tenant admin:"),
        printed_key(&stdout, "agent:"),
    ];
    assert!(keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2], "three different keys");

    let channel = server.channel().await;
    let mut health = HealthClient::new(channel.clone());
    for name in std::iter::once("").chain(askpro::server::SERVICE_NAMES) {
        let response = tokio::time::timeout(CALL_TIMEOUT, health.check(HealthCheckRequest { service: name.into() }))
            .await
            .expect("health timed out")
            .expect("health check")
            .into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "{name:?}");
    }
    let mut client = TenantServiceClient::new(channel.clone());
    let branches = list_branches(&mut client, &keys[2]).await.expect("printed agent key works");
    assert_eq!(branches.len(), 1);
    client.list_tenants(authed(pb::ListTenantsRequest::default(), &keys[0])).await.expect("printed platform key works");
    client
        .list_api_keys(authed(pb::ListApiKeysRequest::default(), &keys[1]))
        .await
        .expect("printed tenant admin key works");

    // The client keeps its (idle) connection open: shutdown must not wait for it.
    let started = Instant::now();
    let status = server.terminate().await;
    assert!(status.success(), "serve exited with {status} after SIGTERM");
    assert!(started.elapsed() < STOP_TIMEOUT);
    assert!(tokio::net::TcpStream::connect(server.addr).await.is_err(), "the port is closed after exit");
    drop(client);
    drop(health);

    // e. No secret in the logs.
    let log = server.stderr();
    assert_json_lines(&log, "serve --demo stderr");
    assert!(log.contains("shutting down"), "the shutdown is logged:\n{log}");
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_no_secrets(&log, "serve --demo stderr", &keys);
}

// ---------------------------------------------------------------------------
// c. migrate

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_creates_the_database_and_can_run_twice() {
    let workdir = Workdir::new();
    assert!(!workdir.database_file().exists());
    let first = workdir.run(&["migrate"], "migrate-1").await;
    assert!(first.status.success(), "first migrate: {}\n{}", first.status, first.stderr);
    assert!(workdir.database_file().is_file(), "migrate creates the SQLite file");
    assert!(std::fs::metadata(workdir.database_file()).unwrap().len() > 0, "the database has tables");
    let second = workdir.run(&["migrate"], "migrate-2").await;
    assert!(second.status.success(), "second migrate: {}\n{}", second.status, second.stderr);
    // The migrated database serves.
    let seeded = workdir.run(&["seed", "demo", "--json"], "seed").await;
    assert!(seeded.status.success(), "seed after migrate: {}", seeded.stderr);
}

// ---------------------------------------------------------------------------
// d. platform-key create

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_key_create_prints_a_key_that_lists_tenants() {
    let workdir = Workdir::new();
    let run = workdir.run(&["platform-key", "create", "--name", "ops"], "platform-key").await;
    assert!(run.status.success(), "platform-key create: {}\n{}", run.status, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "exactly the key on stdout: {:?}", run.stdout);
    let key = lines[0];
    assert!(is_key(key), "{key:?} matches ^ak_[0-9a-f]{{32}}_[0-9a-f]{{48}}$");
    assert_no_secrets(&run.stderr, "platform-key stderr", &[key]);

    let mut server = workdir.serve(&[], "serve").await;
    let mut client = server.tenants().await;
    let tenants =
        tokio::time::timeout(CALL_TIMEOUT, client.list_tenants(authed(pb::ListTenantsRequest::default(), key)))
            .await
            .expect("ListTenants timed out")
            .expect("the new platform key lists tenants")
            .into_inner()
            .tenants;
    assert!(tenants.is_empty(), "a fresh database has no tenants: {tenants:?}");
    // A platform key can act as a platform admin: create a tenant.
    let created = create_tenant(&mut client, key, "Ops Salon").await;
    let tenants =
        client.list_tenants(authed(pb::ListTenantsRequest::default(), key)).await.expect("list").into_inner().tenants;
    assert_eq!(tenants.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), vec![created.id.as_str()]);

    drop(client);
    let status = server.terminate().await;
    assert!(status.success(), "serve exited with {status}");
    assert_no_secrets(&server.stderr(), "serve stderr", &[key]);
}

// ---------------------------------------------------------------------------
// e. Secrets and failed authentication in the logs.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_never_contain_key_secrets_even_for_rejected_keys() {
    let workdir = Workdir::new();
    let (seed, seed_log) = seed_json(&workdir, "seed").await;
    let mut server = workdir.serve(&["--demo"], "serve-demo").await;
    let stdout = server.stdout();
    let demo = [
        printed_key(&stdout, "platform admin:"),
        printed_key(&stdout, "tenant admin:"),
        printed_key(&stdout, "agent:"),
    ];
    let mut client = server.tenants().await;
    // Valid keys, keys revoked by the second seeding, and keys with a wrong
    // secret, through both headers.
    let wrong: Vec<String> = demo
        .iter()
        .map(|k| {
            let mut k = k.clone();
            let last = k.pop().expect("non-empty");
            k.push(if last == '0' { '1' } else { '0' });
            k
        })
        .collect();
    list_branches(&mut client, &demo[2]).await.expect("valid agent key");
    for key in seed.keys() {
        assert_invalid_key(list_branches(&mut client, key).await, "revoked seed key");
    }
    for key in &wrong {
        assert_invalid_key(list_branches(&mut client, key).await, "wrong secret");
        let mut request = tonic::Request::new(pb::ListBranchesRequest::default());
        request.metadata_mut().insert("x-api-key", key.parse().unwrap());
        assert_invalid_key(client.list_branches(request).await, "wrong secret in x-api-key");
    }
    drop(client);
    let status = server.terminate().await;
    assert!(status.success(), "serve exited with {status}");

    let log = server.stderr();
    assert_json_lines(&log, "serve stderr");
    let all: Vec<&str> = seed
        .keys()
        .into_iter()
        .chain(demo.iter().map(String::as_str))
        .chain(wrong.iter().map(String::as_str))
        .collect();
    assert_no_secrets(&log, "serve stderr", &all);
    assert_no_secrets(&seed_log, "seed stderr", &all);
}

#[test]
fn log_checks_detect_secrets_and_non_json_lines() {
    let key = "ak_0193a1b2c3d4e5f60718293a4b5c6d7e_000102030405060708090a0b0c0d0e0f1011121314151617";
    assert!(is_key(key));
    assert!(!is_key(&key.to_uppercase()));
    assert!(!is_key(&key[..key.len() - 1]));
    assert_eq!(secret_part(key), "000102030405060708090a0b0c0d0e0f1011121314151617");
    assert_no_secrets(r#"{"message":"ok"}"#, "clean log", &[key]);
    let leaked = format!(r#"{{"message":"auth","key":"{}"}}"#, secret_part(key));
    assert!(std::panic::catch_unwind(|| assert_no_secrets(&leaked, "leaky log", &[key])).is_err());
    assert!(std::panic::catch_unwind(|| assert_json_lines("plain text", "text log")).is_err());
    assert!(std::panic::catch_unwind(|| assert_json_lines("", "empty log")).is_err());
}

// ---------------------------------------------------------------------------
// e. bench --spawn-server

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_with_a_spawned_server_reports_the_servers_own_usage() {
    let workdir = Workdir::new();
    let args = [
        "bench",
        "--spawn-server",
        "--json",
        "--staff",
        "2",
        "--customers",
        "50",
        "--appointments",
        "200",
        "--concurrency",
        "2",
        "--duration-secs",
        "1",
        "--warmup-secs",
        "0",
        "--operations",
        "FindCustomerByPhone",
    ];
    let done = workdir.run(&args, "bench").await;
    assert!(done.status.success(), "bench: {}\n{}", done.status, done.stderr);
    let report: serde_json::Value = serde_json::from_str(&done.stdout).expect("one JSON report");
    let server = report["server"].as_str().expect("server");
    assert!(server.contains("started by the bench"), "{server}");
    let measured = |name: &str| {
        let result = report["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|r| r["operation"] == name)
            .unwrap_or_else(|| panic!("{name} is reported"));
        result["measurement"].clone()
    };
    let find = measured("FindCustomerByPhone");
    assert!(find["calls"].as_u64().expect("calls") > 0, "{find}");
    assert_eq!(find["errors"], serde_json::json!({}), "{find}");
    // Read from the spawned server's /metrics page: its statements, CPU and memory.
    assert!(find["statements_per_call"].as_f64().is_some(), "{find}");
    if cfg!(target_os = "linux") {
        assert!(find["cpu_us_per_call"].as_f64().expect("cpu") > 0.0, "{find}");
        assert!(find["rss_mb"].as_f64().expect("rss") > 1.0, "{find}");
    }
    // The raw insert runs in the bench process, not through the server.
    assert!(measured("raw insert tx")["calls"].as_u64().expect("calls") > 0);
    // The spawned server was stopped: nothing listens at its address any more.
    let address = server.split_whitespace().find(|w| w.starts_with("http://")).expect("address");
    let port: u16 = address.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "the server at {address} still answers");
}

// ---------------------------------------------------------------------------
// f. bench --calcom

/// The bench's ListAvailableSlots over a small tenant; items per call and the report.
async fn slots_bench(workdir: &Workdir, calcom: bool) -> (f64, serde_json::Value) {
    let mut args = vec![
        "bench",
        "--json",
        "--staff",
        "2",
        "--customers",
        "20",
        "--appointments",
        "0",
        "--concurrency",
        "2",
        "--duration-secs",
        "1",
        "--warmup-secs",
        "0",
        "--operations",
        "ListAvailableSlots",
    ];
    if calcom {
        args.push("--calcom");
    }
    let done = workdir.run(&args, "bench").await;
    assert!(done.status.success(), "bench: {}\n{}", done.status, done.stderr);
    let report: serde_json::Value = serde_json::from_str(&done.stdout).expect("one JSON report");
    let slots = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["operation"] == "ListAvailableSlots")
        .expect("ListAvailableSlots is reported")["measurement"]
        .clone();
    assert!(slots["calls"].as_u64().expect("calls") > 0, "{slots}");
    assert_eq!(slots["errors"], serde_json::json!({}), "{slots}");
    (slots["items_per_call"].as_f64().expect("items per call"), slots)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_with_calcom_lists_slots_without_the_calcom_bookings() {
    let workdir = Workdir::new();
    let (plain, _) = slots_bench(&workdir, false).await;
    let (linked, measured) = slots_bench(&workdir, true).await;
    // The stand-in's three one-hour bookings a day leave the lists.
    assert!(linked < plain, "with Cal.com {linked} slots a call, without {plain}: {measured}");
    assert!(linked > 0.0, "{measured}");
}
