//! `askpro audit-tenancy`: proves, on a live database, that tenants are
//! isolated by the schema itself, not only by the repositories' filters.
//!
//! Tenant-owned tables are found, not listed: every table with a `tenant_id`
//! column, plus `tenants`. So a table added later is audited without anyone
//! remembering to add it here.
//!
//! On both databases:
//! - every foreign key between tenant-owned tables carries the tenant
//!   (`tenant_id` → `tenant_id`, or → `tenants.id`), so no row can point at
//!   another tenant's row;
//! - no row names a tenant that does not exist.
//!
//! It also reports, without failing, platform-admin keys that never expire:
//! they reach every tenant, and a leaked one would stay valid forever.
//!
//! On PostgreSQL, the second wall too:
//! - row-level security is enabled and forced, with a policy on the tenant;
//! - the application role is no superuser, cannot bypass row-level security
//!   and owns no table (owners could switch it off);
//! - a transaction of an unknown tenant sees no row of any table, and each
//!   tenant's transaction sees only its own rows, even without a filter.
use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::ids::TenantId;
use crate::error::Result;
use crate::store::Store;

/// What the audit checked and what it found wrong.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub backend: String,
    /// The tenant-owned tables found.
    pub tables: Vec<String>,
    /// Each check with the number of things it looked at.
    pub checks: Vec<Check>,
    pub findings: Vec<Finding>,
    /// Risks that do not break isolation (platform keys that never expire).
    pub warnings: Vec<Finding>,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub examined: usize,
    pub failed: usize,
}

#[derive(Debug, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub subject: String,
    pub problem: String,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }

    fn record(&mut self, name: &'static str, examined: usize, findings: Vec<(String, String)>) {
        self.checks.push(Check { name, examined, failed: findings.len() });
        self.findings.extend(findings.into_iter().map(|(subject, problem)| Finding { check: name, subject, problem }));
    }
}

/// How many tenants the per-tenant visibility probe looks at, at most (the
/// oldest first): enough to prove the policy, bounded on a large database.
const PROBED_TENANTS: usize = 50;

pub async fn tenant_isolation(store: &Store) -> Result<Report> {
    let db = store.connection();
    let backend = store.backend();
    let tables = tenant_tables(db, backend).await?;
    let mut report =
        Report { backend: format!("{backend:?}").to_lowercase(), tables: tables.clone(), ..Default::default() };

    let keys = foreign_keys(db, backend, &tables).await?;
    let wrong = keys.iter().filter_map(|key| key.problem().map(|p| (key.to_string(), p))).collect();
    report.record("foreign keys carry the tenant", keys.len(), wrong);

    let mut orphans = Vec::new();
    for table in tables.iter().filter(|t| t.as_str() != "tenants") {
        let sql = format!(
            "SELECT count(*) AS n FROM {table} WHERE tenant_id IS NOT NULL \
             AND tenant_id NOT IN (SELECT id FROM tenants)"
        );
        let tx = store.platform_read().await?;
        let n = count(tx.conn(), backend, &sql).await?;
        tx.commit().await?;
        if n > 0 {
            orphans.push((table.clone(), format!("{n} rows name a tenant that does not exist")));
        }
    }
    report.record("every row's tenant exists", tables.len() - 1, orphans);

    if backend == DbBackend::Postgres {
        postgres_walls(store, &tables, &mut report).await?;
    }
    let keys = crate::platform_keys::list(store, false).await?;
    report.warnings = keys
        .iter()
        .filter(|key| key.expire_time.is_none())
        .map(|key| Finding {
            check: "platform-admin keys expire",
            subject: format!("platform-admin key {} ({})", key.id, key.display_name),
            problem: "never expires; revoke it (askpro platform-key revoke) and create one with an expiry".into(),
        })
        .collect();
    Ok(report)
}

async fn postgres_walls(store: &Store, tables: &[String], report: &mut Report) -> Result<()> {
    let db = store.connection();
    let backend = DbBackend::Postgres;

    #[derive(FromQueryResult)]
    struct Protection {
        table_name: String,
        enabled: bool,
        forced: bool,
        policies: i64,
    }
    let rows = Protection::find_by_statement(Statement::from_string(
        backend,
        "SELECT c.relname::text AS table_name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced, \
           (SELECT count(*) FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = c.relname \
              AND p.qual LIKE '%askpro_current_tenant()%') AS policies \
         FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'",
    ))
    .all(db)
    .await?;
    let by_name: BTreeMap<_, _> = rows.into_iter().map(|r| (r.table_name.clone(), r)).collect();
    let mut unprotected = Vec::new();
    for table in tables {
        let problem = match by_name.get(table) {
            None => Some("not found in pg_class".to_owned()),
            Some(p) if !p.enabled => Some("row-level security is not enabled".to_owned()),
            Some(p) if !p.forced => Some("row-level security is not forced (the owner bypasses it)".to_owned()),
            Some(p) if p.policies == 0 => Some("no policy on askpro_current_tenant()".to_owned()),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            unprotected.push((table.clone(), problem));
        }
    }
    report.record("row-level security enabled, forced, with a tenant policy", tables.len(), unprotected);

    // The role every server transaction switches to, as it reports itself.
    let probe = store.read(TenantId(Uuid::nil())).await?;
    let role = single_text(probe.conn(), "SELECT current_user::text AS v").await?;
    probe.commit().await?;
    #[derive(FromQueryResult)]
    struct RoleRights {
        superuser: bool,
        bypass: bool,
        owned: i64,
    }
    let rights = RoleRights::find_by_statement(Statement::from_sql_and_values(
        backend,
        "SELECT r.rolsuper AS superuser, r.rolbypassrls AS bypass, \
           (SELECT count(*) FROM pg_tables t WHERE t.schemaname = 'public' AND t.tableowner = r.rolname) AS owned \
         FROM pg_roles r WHERE r.rolname = $1",
        [role.clone().into()],
    ))
    .one(db)
    .await?;
    let mut weak = Vec::new();
    match rights {
        None => weak.push((role.clone(), "role not found in pg_roles".to_owned())),
        Some(r) => {
            if r.superuser {
                weak.push((role.clone(), "is a superuser (bypasses row-level security)".to_owned()));
            }
            if r.bypass {
                weak.push((role.clone(), "has BYPASSRLS".to_owned()));
            }
            if r.owned > 0 {
                weak.push((
                    role.clone(),
                    format!("owns {} tables (an owner can turn row-level security off)", r.owned),
                ));
            }
        }
    }
    report.record("the application role cannot bypass row-level security", 1, weak);

    // A tenant that does not exist sees nothing, whatever it asks for.
    let stranger = TenantId(Uuid::now_v7());
    let mut leaks = Vec::new();
    let tx = store.read(stranger).await?;
    for table in tables {
        let n = count(tx.conn(), backend, &format!("SELECT count(*) AS n FROM {table}")).await?;
        if n > 0 {
            leaks.push((table.clone(), format!("an unknown tenant's transaction sees {n} rows")));
        }
    }
    tx.commit().await?;
    report.record("an unknown tenant sees no row", tables.len(), leaks);

    // Each tenant sees only its own rows, with no tenant filter in the query.
    let tx = store.platform_read().await?;
    let tenants: Vec<Uuid> = tx
        .conn()
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT id FROM tenants ORDER BY id LIMIT {PROBED_TENANTS}"),
        ))
        .await?
        .iter()
        .map(|row| row.try_get("", "id"))
        .collect::<std::result::Result<_, _>>()?;
    tx.commit().await?;
    let mut leaks = Vec::new();
    for tenant in &tenants {
        let tx = store.read(TenantId(*tenant)).await?;
        for table in tables {
            let column = if table == "tenants" { "id" } else { "tenant_id" };
            let sql = format!("SELECT count(*) AS n FROM {table} WHERE {column} IS DISTINCT FROM '{tenant}'");
            let n = count(tx.conn(), backend, &sql).await?;
            if n > 0 {
                leaks.push((format!("{table} as tenant {tenant}"), format!("sees {n} rows of other tenants")));
            }
        }
        tx.commit().await?;
    }
    report.record("each tenant sees only its own rows", tenants.len() * tables.len(), leaks);
    Ok(())
}

/// Tables with a `tenant_id` column, and `tenants`, by name.
async fn tenant_tables(db: &impl ConnectionTrait, backend: DbBackend) -> Result<Vec<String>> {
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text AS v FROM information_schema.columns \
             WHERE table_schema = 'public' AND column_name = 'tenant_id' \
             UNION SELECT 'tenants' ORDER BY 1"
        }
        _ => {
            "SELECT m.name AS v FROM sqlite_master m, pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND c.name = 'tenant_id' \
             UNION SELECT 'tenants' ORDER BY 1"
        }
    };
    texts(db, backend, sql).await
}

/// A foreign key, its columns paired in order.
#[derive(Debug)]
struct ForeignKey {
    from: String,
    to: String,
    pairs: Vec<(String, String)>,
}

impl ForeignKey {
    fn problem(&self) -> Option<String> {
        let needed = if self.to == "tenants" { ("tenant_id", "id") } else { ("tenant_id", "tenant_id") };
        let carried = self.pairs.iter().any(|(from, to)| from == needed.0 && to == needed.1);
        (!carried).then(|| format!("does not include {} -> {}.{}", needed.0, self.to, needed.1))
    }
}

impl std::fmt::Display for ForeignKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (from, to): (Vec<_>, Vec<_>) = self.pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())).unzip();
        write!(f, "{}({}) -> {}({})", self.from, from.join(", "), self.to, to.join(", "))
    }
}

/// The foreign keys from one tenant-owned table to another.
async fn foreign_keys(db: &impl ConnectionTrait, backend: DbBackend, tables: &[String]) -> Result<Vec<ForeignKey>> {
    #[derive(FromQueryResult)]
    struct Column {
        key: String,
        from_table: String,
        to_table: String,
        from_column: String,
        to_column: String,
    }
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT c.oid::text AS key, c.conrelid::regclass::text AS from_table, \
               c.confrelid::regclass::text AS to_table, fa.attname::text AS from_column, ta.attname::text AS to_column \
             FROM pg_constraint c \
             CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(from_n, to_n, i) \
             JOIN pg_attribute fa ON fa.attrelid = c.conrelid AND fa.attnum = k.from_n \
             JOIN pg_attribute ta ON ta.attrelid = c.confrelid AND ta.attnum = k.to_n \
             WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace \
             ORDER BY 1, k.i"
        }
        _ => {
            "SELECT m.name || '#' || f.id AS key, m.name AS from_table, f.\"table\" AS to_table, \
               f.\"from\" AS from_column, coalesce(f.\"to\", '') AS to_column \
             FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' ORDER BY 1, f.seq"
        }
    };
    let columns = Column::find_by_statement(Statement::from_string(backend, sql)).all(db).await?;
    let mut keys: BTreeMap<String, ForeignKey> = BTreeMap::new();
    for c in columns {
        let key = keys.entry(c.key).or_insert_with(|| ForeignKey { from: c.from_table, to: c.to_table, pairs: vec![] });
        key.pairs.push((c.from_column, c.to_column));
    }
    let owned = |t: &str| tables.iter().any(|x| x == t);
    Ok(keys.into_values().filter(|k| owned(&k.from) && k.from != "tenants" && owned(&k.to)).collect())
}

async fn count(db: &impl ConnectionTrait, backend: DbBackend, sql: &str) -> Result<i64> {
    let row = db.query_one_raw(Statement::from_string(backend, sql)).await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
}

async fn texts(db: &impl ConnectionTrait, backend: DbBackend, sql: &str) -> Result<Vec<String>> {
    let rows = db.query_all_raw(Statement::from_string(backend, sql)).await?;
    Ok(rows.iter().map(|r| r.try_get::<String>("", "v")).collect::<std::result::Result<_, _>>()?)
}

async fn single_text(db: &impl ConnectionTrait, sql: &str) -> Result<String> {
    Ok(texts(db, DbBackend::Postgres, sql).await?.into_iter().next().unwrap_or_default())
}

/// The report as the command prints it.
pub fn render(report: &Report) -> String {
    let mut out = format!("tenant isolation audit ({}): {} tenant-owned tables\n", report.backend, report.tables.len());
    for check in &report.checks {
        let verdict = if check.failed == 0 { "ok  " } else { "FAIL" };
        out += &format!("{verdict} {} ({} examined, {} failed)\n", check.name, check.examined, check.failed);
    }
    for finding in &report.findings {
        out += &format!("  - {}: {} [{}]\n", finding.subject, finding.problem, finding.check);
    }
    for warning in &report.warnings {
        out += &format!("warn {}: {} [{}]\n", warning.subject, warning.problem, warning.check);
    }
    if report.backend != "postgres" {
        out += "note: SQLite has no row-level security; isolation rests on the repositories' tenant filter \
                (tested for every RPC by tests/tenant_isolation.rs) and the foreign keys above.\n";
    }
    out += if report.passed() { "tenant isolation holds\n" } else { "tenant isolation is BROKEN\n" };
    out
}
