//! `askpro top`: a live terminal view of a running server, read from its
//! Prometheus endpoint (`GET /metrics` on the main port) once per interval.
//!
//! ```text
//! askpro top [--url http://127.0.0.1:50051/metrics] [--interval-ms 1000] [--once]
//! ```
//!
//! Shows calls per second, error share and p50/p99 latency per gRPC method,
//! busiest first, under a header with in-flight calls, active holds, the
//! database pool, dependency health and rate-limit rejections. Every figure
//! is the change between two scrapes. `q`, Esc or Ctrl-C quits. `--once`
//! prints one plain-text table (two scrapes one interval apart) and exits,
//! for scripts and for when stdout is not a terminal.
pub mod exposition;
pub mod snapshot;
pub mod ui;

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::sync::mpsc::TryRecvError;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tokio::sync::mpsc;

use self::snapshot::{Scrape, Snapshot};

/// Command-line options of `askpro top`.
#[derive(Debug, Clone, clap::Args)]
pub struct TopArgs {
    /// Metrics endpoint to read (default: http://<listen>/metrics from the configuration).
    #[arg(long)]
    pub url: Option<String>,
    /// Time between scrapes, in milliseconds.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub interval_ms: u64,
    /// Print one plain-text table (two scrapes one interval apart) and exit.
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum TopError {
    #[error("invalid metrics URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot read metrics from {url}: {reason} (is the server running there?)")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered HTTP {status}, not the Prometheus metrics page")]
    BadStatus { url: String, status: u16 },
    #[error("{url} did not answer in the Prometheus text format ({found}); is that the /metrics path?")]
    NotMetrics { url: String, found: String },
    #[error("stdout is not a terminal; use `askpro top --once` for a plain-text table")]
    NotATerminal,
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

/// Runs `askpro top` until the user quits (or, with `--once`, after one table).
/// `listen` is the configured server address, used when no `--url` is given.
pub async fn run(args: TopArgs, listen: SocketAddr) -> Result<(), TopError> {
    let url = args.url.unwrap_or_else(|| default_metrics_url(listen));
    let interval = Duration::from_millis(args.interval_ms);
    let endpoint = MetricsEndpoint::new(url, interval)?;
    if args.once {
        let table = scrape_once(&endpoint, interval).await?;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(table.as_bytes())?;
        stdout.flush()?;
        return Ok(());
    }
    if !std::io::stdout().is_terminal() {
        return Err(TopError::NotATerminal);
    }
    run_live(&endpoint, interval).await
}

/// `http://<listen>/metrics`, with a wildcard listen address replaced by
/// loopback: a server bound to 0.0.0.0 is reachable on 127.0.0.1.
pub fn default_metrics_url(listen: SocketAddr) -> String {
    let mut address = listen;
    if address.ip().is_unspecified() {
        address.set_ip(match address {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{address}/metrics")
}

/// The server's `/metrics` page and the client that reads it.
pub struct MetricsEndpoint {
    client: reqwest::Client,
    url: String,
}

impl MetricsEndpoint {
    /// Every scrape is bounded by the interval (at least two seconds), so a
    /// hung server shows up as an error instead of a frozen view.
    pub fn new(url: String, interval: Duration) -> Result<MetricsEndpoint, TopError> {
        let invalid = |reason: String| TopError::InvalidUrl { url: url.clone(), reason };
        let parsed = reqwest::Url::parse(&url).map_err(|err| invalid(err.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("expected http:// or https://".into()));
        }
        let client = crate::http_client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(interval.max(Duration::from_secs(2)))
            .build()
            .map_err(|err| invalid(error_chain(&err)))?;
        Ok(MetricsEndpoint { client, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn scrape(&self) -> Result<Scrape, TopError> {
        Ok(Scrape::from_exposition(&self.read().await?))
    }

    /// Every sample of the page, as the server wrote it.
    pub async fn read(&self) -> Result<exposition::Exposition, TopError> {
        let unreachable =
            |err: reqwest::Error| TopError::Unreachable { url: self.url.clone(), reason: error_chain(&err) };
        let response = self.client.get(&self.url).send().await.map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(TopError::BadStatus { url: self.url.clone(), status: status.as_u16() });
        }
        // The server answers unknown paths as gRPC (HTTP 200, empty body), so
        // a wrong path shows only in the content type.
        let content_type = response.headers().get(reqwest::header::CONTENT_TYPE);
        let content_type = content_type.and_then(|value| value.to_str().ok()).unwrap_or("text/plain").to_owned();
        if !content_type.starts_with("text/plain") && !content_type.starts_with("application/openmetrics-text") {
            return Err(TopError::NotMetrics { url: self.url.clone(), found: format!("content type {content_type}") });
        }
        let body = response.text().await.map_err(unreachable)?;
        let exposition = exposition::parse(&body);
        // An empty page is a server that has recorded nothing yet; a page of
        // only unreadable lines is something else answering at that URL.
        if exposition.samples.is_empty() && exposition.skipped_lines > 0 {
            let found = format!("{} unreadable lines", exposition.skipped_lines);
            return Err(TopError::NotMetrics { url: self.url.clone(), found });
        }
        Ok(exposition)
    }
}

/// reqwest's top-level message ("error sending request") hides the cause
/// ("Connection refused") in its source chain.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Two scrapes one interval apart, rendered as a plain-text table.
async fn scrape_once(endpoint: &MetricsEndpoint, interval: Duration) -> Result<String, TopError> {
    let first = endpoint.scrape().await?;
    let first_at = Instant::now();
    tokio::time::sleep(interval).await;
    let second = endpoint.scrape().await?;
    let snapshot = Snapshot::between(&first, &second, first_at.elapsed());
    Ok(ui::plain_text(endpoint.url(), &snapshot))
}

/// What the input thread reports to the view.
enum Input {
    Quit,
    Resized,
}

async fn run_live(endpoint: &MetricsEndpoint, interval: Duration) -> Result<(), TopError> {
    // Fail with a plain message before taking over the screen.
    let mut previous = endpoint.scrape().await?;
    let mut previous_at = Instant::now();
    let mut view = ui::LiveView::new(endpoint.url().to_owned(), interval);

    // try_init also installs a panic hook that restores the terminal first.
    let mut terminal = ratatui::try_init()?;
    let _restore = RestoreTerminalOnDrop;
    let (input_tx, mut input_rx) = mpsc::channel(8);
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    // crossterm's reader blocks, so it lives on its own thread.
    std::thread::spawn(move || forward_input(&input_tx, &stop_rx));
    let _stop_input = stop_tx;

    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        terminal.draw(|frame| ui::draw(frame, &view))?;
        tokio::select! {
            _ = ticker.tick() => {}
            input = input_rx.recv() => match input {
                Some(Input::Resized) => continue,
                Some(Input::Quit) | None => return Ok(()),
            },
        }
        // A slow scrape must not delay quitting.
        let scraped = tokio::select! {
            scraped = endpoint.scrape() => scraped,
            input = input_rx.recv() => match input {
                Some(Input::Resized) => continue,
                Some(Input::Quit) | None => return Ok(()),
            },
        };
        match scraped {
            Ok(current) => {
                let now = Instant::now();
                view.snapshot = Some(Snapshot::between(&previous, &current, now - previous_at));
                view.last_error = None;
                (previous, previous_at) = (current, now);
            }
            Err(err) => view.last_error = Some(err.to_string()),
        }
    }
}

/// Leaves raw mode and the alternate screen however the view ends.
struct RestoreTerminalOnDrop;

impl Drop for RestoreTerminalOnDrop {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Reads terminal events until the view stops (its stop sender is dropped)
/// or the user quits. Polls so that it notices the stop within 100 ms.
fn forward_input(input_tx: &mpsc::Sender<Input>, stop_rx: &std::sync::mpsc::Receiver<()>) {
    while let Err(TryRecvError::Empty) = stop_rx.try_recv() {
        let input = match event::poll(Duration::from_millis(100)) {
            Ok(false) => continue,
            Ok(true) => match event::read() {
                Ok(Event::Key(key)) if is_quit_key(key) => Input::Quit,
                Ok(Event::Resize(..)) => Input::Resized,
                Ok(_) => continue,
                Err(_) => Input::Quit,
            },
            // Without input the view could never be left.
            Err(_) => Input::Quit,
        };
        let quit = matches!(input, Input::Quit);
        if input_tx.blocking_send(input).is_err() || quit {
            return;
        }
    }
}

fn is_quit_key(key: KeyEvent) -> bool {
    key.kind == KeyEventKind::Press
        && match key.code {
            KeyCode::Char('q') | KeyCode::Esc => true,
            KeyCode::Char('c') => key.modifiers.contains(KeyModifiers::CONTROL),
            _ => false,
        }
}

/// Two scrapes of a busy server two seconds apart, exactly as
/// metrics-exporter-prometheus renders them.
#[cfg(test)]
pub(crate) mod fixture {
    use std::time::Duration;

    use super::snapshot::{Scrape, Snapshot};

    pub const BEFORE: &str = include_str!("testdata/before.prom");
    pub const AFTER: &str = include_str!("testdata/after.prom");

    pub fn snapshot() -> Snapshot {
        Snapshot::between(&Scrape::parse(BEFORE), &Scrape::parse(AFTER), Duration::from_secs(2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_url_reaches_a_wildcard_listener_on_loopback() {
        assert_eq!(default_metrics_url("0.0.0.0:50051".parse().unwrap()), "http://127.0.0.1:50051/metrics");
        assert_eq!(default_metrics_url("[::]:7000".parse().unwrap()), "http://[::1]:7000/metrics");
        assert_eq!(default_metrics_url("10.0.0.5:80".parse().unwrap()), "http://10.0.0.5:80/metrics");
    }

    #[test]
    fn only_http_urls_are_accepted() {
        let endpoint = |url: &str| MetricsEndpoint::new(url.into(), Duration::from_secs(1));
        assert!(matches!(endpoint("ftp://host/metrics"), Err(TopError::InvalidUrl { .. })));
        assert!(matches!(endpoint("not a url"), Err(TopError::InvalidUrl { .. })));
        assert!(endpoint("http://127.0.0.1:50051/metrics").is_ok());
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_clear_error() {
        // Bind then drop a listener: the port is free and refuses connections.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let endpoint =
            MetricsEndpoint::new(format!("http://127.0.0.1:{port}/metrics"), Duration::from_secs(1)).unwrap();
        let err = endpoint.scrape().await.expect_err("nothing listens there");
        assert!(matches!(err, TopError::Unreachable { .. }), "{err}");
        assert!(err.to_string().contains("is the server running there?"), "{err}");
    }
}
