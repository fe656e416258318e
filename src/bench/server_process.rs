//! `askpro bench --spawn-server`: the server under test as a process of its
//! own (this executable's `serve`), so the CPU and memory the bench reports
//! are the server's alone, read from its `/metrics` page. It starts after the
//! tenant is seeded, so its start-up warm-up fills the caches as a server
//! restarted over existing data would; the bench waits for that warm-up.
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::process::{Child, Command};

use super::usage::ServerUsage;
use crate::metrics::CACHE_WARM_UPS_TOTAL;

/// How long the server may take to start and warm its caches.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a stopping server may take to drain before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub address: String,
}

impl ServerProcess {
    /// Starts `askpro serve` on `database_url` (the rest of its configuration
    /// is this process's: the same file and environment), with the same
    /// unreachable quotas as an in-process run, and waits until it serves
    /// and, with `caches` on, its caches are warm.
    pub async fn start(database_url: &str, caches: bool) -> anyhow::Result<Self> {
        let port = free_port()?;
        let address = format!("http://127.0.0.1:{port}");
        let unthrottled = "{per_second=1000000000,burst=1000000000}";
        let child = Command::new(std::env::current_exe().context("finding this executable")?)
            .arg("serve")
            .env("ASKPRO_DATABASE_URL", database_url)
            .env("ASKPRO_LISTEN", format!("127.0.0.1:{port}"))
            .env("ASKPRO_RATE_LIMIT_PER_KEY", unthrottled)
            .env("ASKPRO_RATE_LIMIT_PER_TENANT", unthrottled)
            .env("ASKPRO_RATE_LIMIT_TENANT_OVERRIDES", "{}")
            .env("ASKPRO_SHUTDOWN_DELAY_SECS", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting `askpro serve`")?;
        let mut server = Self { child, address };
        server.wait_until_ready(caches).await?;
        Ok(server)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Polls the `/metrics` page until it answers and, with `caches` on, a
    /// cache warm-up has finished.
    async fn wait_until_ready(&mut self, caches: bool) -> anyhow::Result<()> {
        let ServerUsage::MetricsPage(page) = ServerUsage::metrics_page(&self.address)? else {
            unreachable!("metrics_page reads a page");
        };
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("`askpro serve` exited while starting ({status}); its log is above");
            }
            if let Ok(exposition) = page.read().await
                && (!caches || exposition.total(CACHE_WARM_UPS_TOTAL).unwrap_or(0.0) >= 1.0)
            {
                return Ok(());
            }
            anyhow::ensure!(started.elapsed() < READY_TIMEOUT, "the server was not warm after {READY_TIMEOUT:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM and a drain, as Kubernetes would stop it (Linux; elsewhere it
    /// is killed); killed after the timeout.
    pub async fn stop(mut self) {
        #[cfg(target_os = "linux")]
        if let Some(pid) = self.child.id().and_then(|pid| i32::try_from(pid).ok()) {
            // SAFETY: kill(2) with a pid this process spawned and still owns
            // (not yet reaped), and a valid signal number.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        #[cfg(not(target_os = "linux"))]
        let _ = self.child.start_kill();
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => eprintln!("warning: waiting for the server process: {err}"),
            Err(_) => {
                eprintln!("warning: the server process did not stop within {STOP_TIMEOUT:?}; killing it");
                let _ = self.child.kill().await;
            }
        }
    }
}

/// A port nothing listens on right now (the server binds it a moment later).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}
