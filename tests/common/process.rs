//! The `askpro` binary run as a child process, in a temporary working
//! folder over its own SQLite file, with JSON logs captured to files.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use askpro::proto::tenant::v1::tenant_service_client::TenantServiceClient;
use tonic::transport::Channel;

pub const BINARY: &str = env!("CARGO_BIN_EXE_askpro");
/// How long a one-shot command (migrate, seed, platform-key) may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to accept connections.
pub const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a server may take to exit after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Kills and reaps the child when dropped, so no process outlives a failed test.
pub struct ChildGuard {
    pub child: Option<Child>,
}

impl ChildGuard {
    pub fn new(child: Child) -> Self {
        Self { child: Some(child) }
    }

    pub fn id(&self) -> u32 {
        self.child.as_ref().expect("running child").id()
    }

    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().expect("child").try_wait().expect("try_wait")
    }

    /// Waits for the child to exit, polling; `None` if it is still running
    /// after `timeout` (it is killed when the guard drops).
    pub async fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A temporary working folder with its own database.
pub struct Workdir {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Workdir {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temporary folder"), env: Vec::new() }
    }

    /// Sets an ASKPRO_ setting (or any variable) for every command run here.
    pub fn with_env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn database_file(&self) -> PathBuf {
        self.path().join("askpro.db")
    }

    /// `askpro <args>` in this folder, over this folder's database, with JSON
    /// logs at `log_filter`, and with no other ASKPRO_ setting inherited.
    pub fn command(&self, args: &[&str], log_filter: &str) -> Command {
        let mut command = Command::new(BINARY);
        command.args(args).current_dir(self.path()).stdin(Stdio::null());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ASKPRO_") {
                command.env_remove(name);
            }
        }
        command
            .env("ASKPRO_DATABASE_URL", format!("sqlite://{}?mode=rwc", self.database_file().display()))
            .env("ASKPRO_LOG_FORMAT", "json")
            .env("ASKPRO_LOG_FILTER", log_filter);
        command.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
    }

    /// Spawns `askpro <args>` with stdout and stderr going to files named after `label`.
    pub fn spawn(&self, args: &[&str], label: &str, log_filter: &str) -> (ChildGuard, PathBuf, PathBuf) {
        let stdout = self.path().join(format!("{label}.stdout"));
        let stderr = self.path().join(format!("{label}.stderr"));
        let child = self
            .command(args, log_filter)
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("spawn askpro");
        (ChildGuard::new(child), stdout, stderr)
    }

    /// Runs a one-shot command to its end.
    pub async fn run(&self, args: &[&str], label: &str) -> Finished {
        let (mut guard, stdout, stderr) = self.spawn(args, label, "debug");
        let status = guard
            .wait_for_exit(COMMAND_TIMEOUT)
            .await
            .unwrap_or_else(|| panic!("askpro {args:?} did not finish within {COMMAND_TIMEOUT:?}"));
        Finished { status, stdout: read(&stdout), stderr: read(&stderr) }
    }

    /// Starts `askpro serve --listen 127.0.0.1:<free port> <extra>` and waits
    /// until it accepts connections.
    pub async fn serve(&self, extra: &[&str], label: &str) -> ServerProcess {
        // The free port may be taken by someone else between probing and
        // binding; try a few ports.
        for attempt in 0..3 {
            let addr = free_port();
            let listen = addr.to_string();
            let mut args = vec!["serve", "--listen", listen.as_str()];
            args.extend_from_slice(extra);
            let label = format!("{label}-{attempt}");
            let (mut guard, stdout, stderr) = self.spawn(&args, &label, "trace");
            let deadline = Instant::now() + START_TIMEOUT;
            loop {
                if let Some(status) = guard.try_wait() {
                    let log = read(&stderr);
                    if log.contains("binding") && attempt < 2 {
                        break;
                    }
                    panic!("askpro serve exited early with {status}:\n{log}");
                }
                if tokio::net::TcpStream::connect(addr).await.is_ok() {
                    return ServerProcess { guard, addr, stdout, stderr };
                }
                assert!(Instant::now() < deadline, "askpro serve did not accept connections within {START_TIMEOUT:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        unreachable!("the loop returns or panics")
    }
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

pub fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("address")
}

pub struct ServerProcess {
    pub guard: ChildGuard,
    pub addr: SocketAddr,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl ServerProcess {
    pub async fn channel(&self) -> Channel {
        let endpoint = Channel::from_shared(format!("http://{}", self.addr)).expect("uri");
        tokio::time::timeout(CALL_TIMEOUT, endpoint.connect()).await.expect("connect timed out").expect("connect")
    }

    pub async fn tenants(&self) -> TenantServiceClient<Channel> {
        TenantServiceClient::new(self.channel().await)
    }

    pub fn stdout(&self) -> String {
        read(&self.stdout)
    }

    pub fn stderr(&self) -> String {
        read(&self.stderr)
    }

    /// Kills the process at once (SIGKILL): a crash, with no shutdown work.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.guard.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and returns how the process exited (panics if it is
    /// still running after STOP_TIMEOUT).
    pub async fn terminate(&mut self) -> ExitStatus {
        let pid = self.guard.id();
        let sent = Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
        let started = Instant::now();
        self.guard
            .wait_for_exit(STOP_TIMEOUT)
            .await
            .unwrap_or_else(|| panic!("askpro serve still running {:?} after SIGTERM", started.elapsed()))
    }
}
