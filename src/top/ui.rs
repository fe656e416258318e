//! How a [`Snapshot`] looks: the live ratatui screen and the plain-text table
//! of `--once`. Both share the number formats so that they read the same.
use std::fmt::Write;
use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::snapshot::{CallStats, ServerGauges, Snapshot};

const COLUMN_TITLES: [&str; 5] = ["METHOD", "CALLS/S", "ERROR %", "P50 MS", "P99 MS"];

/// The state of the live view between frames.
pub struct LiveView {
    pub url: String,
    pub interval: Duration,
    pub started: Instant,
    /// `None` until the second scrape: rates need two.
    pub snapshot: Option<Snapshot>,
    /// The last scrape failure, shown above the last good figures.
    pub last_error: Option<String>,
}

impl LiveView {
    pub fn new(url: String, interval: Duration) -> LiveView {
        LiveView { url, interval, started: Instant::now(), snapshot: None, last_error: None }
    }
}

/// Draws the whole screen: header, method table, key help.
pub fn draw(frame: &mut Frame, view: &LiveView) {
    let mut header = vec![Line::from(vec![
        Span::styled("askpro top ", Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(format!(
            "{}   view up {}   every {:.1} s",
            view.url,
            format_uptime(view.started.elapsed()),
            view.interval.as_secs_f64()
        )),
    ])];
    match &view.snapshot {
        Some(snapshot) => {
            header.push(gauges_line(&snapshot.gauges));
            header.push(Line::raw(totals_text(snapshot)));
            header.push(Line::raw(rejections_text(snapshot)));
        }
        None => header.push(Line::raw("collecting: rates appear after the second scrape")),
    }
    if let Some(error) = &view.last_error {
        header.push(Line::styled(format!("scrape failed: {error}"), Style::new().fg(Color::Red)));
    }
    // The header grows by the error line; its bottom border takes one more row.
    let header_height = u16::try_from(header.len() + 1).unwrap_or(u16::MAX);
    let [header_area, table_area, help_area] =
        Layout::vertical([Constraint::Length(header_height), Constraint::Min(3), Constraint::Length(1)])
            .areas(frame.area());
    frame.render_widget(Paragraph::new(header).block(Block::new().borders(Borders::BOTTOM)), header_area);

    let rows = view.snapshot.iter().flat_map(|snapshot| &snapshot.methods).map(|row| {
        let [calls, errors, p50, p99] = stats_cells(&row.stats);
        let error_style = match row.stats.error_ratio {
            Some(ratio) if ratio > 0.0 => Style::new().fg(Color::Red),
            _ => Style::new(),
        };
        Row::new([
            Cell::from(row.short_name().to_owned()),
            Cell::from(Line::from(calls).right_aligned()),
            Cell::from(Line::from(errors).right_aligned()).style(error_style),
            Cell::from(Line::from(p50).right_aligned()),
            Cell::from(Line::from(p99).right_aligned()),
        ])
    });
    let titles = COLUMN_TITLES.iter().enumerate().map(|(index, title)| {
        let line = Line::from(*title);
        Cell::from(if index == 0 { line } else { line.right_aligned() })
    });
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(9),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(titles).style(Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)))
        .column_spacing(1);
    frame.render_widget(table, table_area);
    frame.render_widget(Line::styled("q, Esc or Ctrl-C: quit", Style::new().add_modifier(Modifier::DIM)), help_area);
}

/// The `--once` output: a header and one aligned row per method, total last.
pub fn plain_text(url: &str, snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "askpro top {url}   over {:.1} s", snapshot.interval.as_secs_f64());
    let gauges: Vec<String> = gauges_line(&snapshot.gauges).spans.iter().map(|span| span.content.to_string()).collect();
    let _ = writeln!(out, "{}", gauges.concat());
    let _ = writeln!(out, "{}", totals_text(snapshot));
    let _ = writeln!(out, "{}", rejections_text(snapshot));
    let _ = writeln!(out);

    let name_width = snapshot.methods.iter().map(|row| row.short_name().len()).chain([COLUMN_TITLES[0].len()]).max();
    let name_width = name_width.unwrap_or_default();
    let [method, calls, errors, p50, p99] = COLUMN_TITLES;
    let _ = writeln!(out, "{method:<name_width$}  {calls:>10}  {errors:>8}  {p50:>8}  {p99:>8}");
    let rows = snapshot.methods.iter().map(|row| (row.short_name(), &row.stats));
    for (name, stats) in rows.chain([("total", &snapshot.total)]) {
        let [calls, errors, p50, p99] = stats_cells(stats);
        let _ = writeln!(out, "{name:<name_width$}  {calls:>10}  {errors:>8}  {p50:>8}  {p99:>8}");
    }
    out
}

/// In-flight calls, holds, pool and dependencies; a dependency that is
/// down is the one thing on the screen that must catch the eye.
fn gauges_line(gauges: &ServerGauges) -> Line<'static> {
    let pool = match (gauges.db_pool_in_use, gauges.db_pool_idle, gauges.db_pool_max) {
        (None, None, None) => "-".to_owned(),
        (in_use, idle, max) => format!("{}/{} in use, {} idle", count(in_use), count(max), count(idle)),
    };
    let mut spans = vec![Span::raw(format!(
        "in flight {}   holds active {}   db pool {pool}",
        count(gauges.requests_in_flight),
        count(gauges.holds_active)
    ))];
    for (component, &up) in &gauges.dependencies_up {
        spans.push(Span::raw(format!("   {component} ")));
        spans.push(if up {
            Span::styled("up", Style::new().fg(Color::Green))
        } else {
            Span::styled("DOWN", Style::new().fg(Color::Red).add_modifier(Modifier::BOLD))
        });
    }
    Line::from(spans)
}

/// All calls together.
fn totals_text(snapshot: &Snapshot) -> String {
    let [calls, errors, p50, p99] = stats_cells(&snapshot.total);
    format!("total {calls} calls/s   errors {errors}   p50 {p50} ms   p99 {p99} ms")
}

/// Calls refused before reaching a method: by rate limit and by load shedding.
fn rejections_text(snapshot: &Snapshot) -> String {
    let limits: Vec<String> = snapshot
        .rate_limit_rejections
        .iter()
        .map(|limit| format!("{} {:.1}/s ({} since start)", limit.limit, limit.per_sec, limit.total))
        .collect();
    let limits = if limits.is_empty() { "none".to_owned() } else { limits.join(", ") };
    let shed = snapshot.load_shed_per_sec.map_or_else(|| "-".to_owned(), |shed| format!("{shed:.1}/s"));
    format!("rate-limited {limits}   load shed {shed}")
}

/// Calls/s, error %, p50 ms, p99 ms; "-" where there is nothing to measure.
fn stats_cells(stats: &CallStats) -> [String; 4] {
    [
        format!("{:.1}", stats.calls_per_sec),
        stats.error_ratio.map_or_else(|| "-".to_owned(), |ratio| format!("{:.1}%", ratio * 100.0)),
        milliseconds(stats.p50_seconds),
        milliseconds(stats.p99_seconds),
    ]
}

/// Three significant digits or so: 0.42, 1.75, 13.0, 250.
fn milliseconds(seconds: Option<f64>) -> String {
    match seconds.map(|seconds| seconds * 1000.0) {
        None => "-".to_owned(),
        Some(ms) if ms < 10.0 => format!("{ms:.2}"),
        Some(ms) if ms < 100.0 => format!("{ms:.1}"),
        Some(ms) => format!("{ms:.0}"),
    }
}

fn count(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{value}"))
}

fn format_uptime(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::top::fixture;

    const URL: &str = "http://127.0.0.1:50051/metrics";

    #[test]
    fn once_prints_one_aligned_row_per_method_busiest_first() {
        let text = plain_text(URL, &fixture::snapshot());
        let expected = "\
askpro top http://127.0.0.1:50051/metrics   over 2.0 s
in flight 3   holds active 7   db pool 1/10 in use, 4 idle   database up   redis DOWN
total 253.0 calls/s   errors 5.1%   p50 2.15 ms   p99 40.4 ms
rate-limited api_key 2.0/s (9 since start), tenant 1.0/s (2 since start)   load shed 2.0/s

METHOD                                   CALLS/S   ERROR %    P50 MS    P99 MS
AvailabilityService/ListSlots              200.0      0.0%      1.75      5.00
AppointmentService/CreateAppointment        50.0     20.0%      13.0       100
AppointmentService/CancelAppointment         3.0    100.0%      7.50      9.95
total                                      253.0      5.1%      2.15      40.4
";
        assert_eq!(text, expected);
    }

    #[test]
    fn live_screen_shows_methods_and_their_numbers() {
        let mut terminal = Terminal::new(TestBackend::new(100, 14)).expect("test terminal");
        let mut view = LiveView::new(URL.to_owned(), Duration::from_secs(1));
        view.snapshot = Some(fixture::snapshot());
        view.last_error = Some("timed out".to_owned());
        terminal.draw(|frame| draw(frame, &view)).expect("draw");

        let buffer = terminal.backend().buffer();
        let screen: Vec<String> = (0..buffer.area.height)
            .map(|y| (0..buffer.area.width).map(|x| buffer[(x, y)].symbol()).collect())
            .collect();
        let screen = screen.join("\n");
        for expected in
            [URL, "holds active 7", "redis DOWN", "scrape failed: timed out", "AppointmentService/CreateAppointment"]
        {
            assert!(screen.contains(expected), "{expected:?} missing from\n{screen}");
        }
        let create = screen.lines().find(|line| line.contains("CreateAppointment")).expect("row");
        let numbers: Vec<&str> = create.split_whitespace().skip(1).collect();
        assert_eq!(numbers, ["50.0", "20.0%", "13.0", "100"]);
    }

    #[test]
    fn live_screen_before_the_second_scrape_says_it_is_collecting() {
        let mut terminal = Terminal::new(TestBackend::new(80, 10)).expect("test terminal");
        let view = LiveView::new(URL.to_owned(), Duration::from_secs(1));
        terminal.draw(|frame| draw(frame, &view)).expect("draw");
        let buffer = terminal.backend().buffer();
        let text: String = buffer.content().iter().map(|cell| cell.symbol()).collect();
        assert!(text.contains("collecting"), "{text}");
    }
}
