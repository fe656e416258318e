//! Turns scrapes into what `askpro top` shows: one [`Scrape`] holds the raw
//! counters of one `GET /metrics`; a [`Snapshot`] is the difference of two
//! scrapes (rates, error shares and latency quantiles over that interval).
//!
//! Counters are cumulative since the server started, so every rate comes
//! from a delta; a counter that went down means the server restarted, and
//! then the new value is the whole increase, as Prometheus' `increase` does.
use std::collections::BTreeMap;
use std::time::Duration;

use super::exposition::{self, Exposition, Sample};
use crate::metrics;

/// The gRPC status name of a successful call.
const OK_CODE: &str = "OK";

/// The call counters of one gRPC method, cumulative since server start.
#[derive(Debug, Clone, Default, PartialEq)]
struct MethodCounters {
    calls_by_code: BTreeMap<String, f64>,
    /// Cumulative latency buckets `(upper bound in seconds, count)`, sorted
    /// by bound; the last one is `+Inf` when the exporter sent it.
    latency_buckets: Vec<(f64, f64)>,
}

/// Point-in-time values the header shows as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerGauges {
    pub requests_in_flight: Option<f64>,
    pub holds_active: Option<f64>,
    pub db_pool_idle: Option<f64>,
    pub db_pool_in_use: Option<f64>,
    pub db_pool_max: Option<f64>,
    /// Component (database, redis) → answers its health check.
    pub dependencies_up: BTreeMap<String, bool>,
}

/// What one scrape of `/metrics` says, sorted into what the view needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    methods: BTreeMap<String, MethodCounters>,
    pub gauges: ServerGauges,
    /// Limit (api_key, tenant) → rejections since server start.
    rate_limit_rejections: BTreeMap<String, f64>,
    load_shed: Option<f64>,
}

impl Scrape {
    /// Reads an exposition body; metrics the server has not recorded yet are
    /// simply absent (the exporter omits them until first use).
    pub fn parse(text: &str) -> Scrape {
        Scrape::from_exposition(&exposition::parse(text))
    }

    pub fn from_exposition(exposition: &Exposition) -> Scrape {
        let mut scrape = Scrape::default();
        let bucket_name = format!("{}_bucket", metrics::REQUEST_DURATION_SECONDS);
        for sample in &exposition.samples {
            scrape.record(sample, &bucket_name);
        }
        for counters in scrape.methods.values_mut() {
            counters.latency_buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        scrape
    }

    fn record(&mut self, sample: &Sample, bucket_name: &str) {
        let value = sample.value;
        let gauge = if value.is_finite() { Some(value) } else { None };
        // Counters and buckets that are not finite numbers cannot be
        // subtracted meaningfully; leaving them out reads as "not recorded".
        let counter = gauge;
        match sample.name.as_str() {
            metrics::REQUESTS_TOTAL => {
                if let (Some(method), Some(code), Some(count)) = (sample.label("method"), sample.label("code"), counter)
                {
                    *self.method(method).calls_by_code.entry(code.to_owned()).or_default() += count;
                }
            }
            name if name == bucket_name => {
                let bound = sample.label("le").and_then(exposition::parse_value).filter(|bound| !bound.is_nan());
                if let (Some(method), Some(bound), Some(count)) = (sample.label("method"), bound, counter) {
                    self.method(method).latency_buckets.push((bound, count));
                }
            }
            metrics::REQUESTS_IN_FLIGHT => self.gauges.requests_in_flight = gauge,
            metrics::HOLDS_ACTIVE => self.gauges.holds_active = gauge,
            metrics::DB_POOL_MAX_CONNECTIONS => self.gauges.db_pool_max = gauge,
            metrics::DB_POOL_CONNECTIONS => match sample.label("state") {
                Some("idle") => self.gauges.db_pool_idle = gauge,
                Some("in_use") => self.gauges.db_pool_in_use = gauge,
                _ => {}
            },
            metrics::DEPENDENCY_UP => {
                if let (Some(component), Some(up)) = (sample.label("component"), gauge) {
                    self.gauges.dependencies_up.insert(component.to_owned(), up >= 1.0);
                }
            }
            metrics::RATE_LIMIT_REJECTIONS_TOTAL => {
                if let (Some(limit), Some(count)) = (sample.label("limit"), counter) {
                    *self.rate_limit_rejections.entry(limit.to_owned()).or_default() += count;
                }
            }
            // One series per budget (calls, webhooks): summed.
            metrics::LOAD_SHED_TOTAL => {
                if let Some(count) = counter {
                    *self.load_shed.get_or_insert(0.0) += count;
                }
            }
            _ => {}
        }
    }

    fn method(&mut self, method: &str) -> &mut MethodCounters {
        self.methods.entry(method.to_owned()).or_default()
    }
}

/// Calls of one method (or of all) over the interval of a [`Snapshot`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallStats {
    pub calls: f64,
    pub calls_per_sec: f64,
    /// Share of calls that ended with a status other than OK; `None` without calls.
    pub error_ratio: Option<f64>,
    /// Latency quantiles in seconds; `None` without observations.
    pub p50_seconds: Option<f64>,
    pub p99_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MethodRow {
    /// The full gRPC path, e.g. `/askpro.appointment.v1.AppointmentService/CreateAppointment`.
    pub method: String,
    pub stats: CallStats,
}

impl MethodRow {
    pub fn short_name(&self) -> &str {
        short_method_name(&self.method)
    }
}

/// Rejections by one rate limit: in the interval and since server start.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitRejections {
    pub limit: String,
    pub per_sec: f64,
    pub total: f64,
}

/// Everything the view shows, computed from two successive scrapes.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub interval: Duration,
    pub gauges: ServerGauges,
    /// Busiest first; methods seen but idle in the interval come last.
    pub methods: Vec<MethodRow>,
    pub total: CallStats,
    pub rate_limit_rejections: Vec<LimitRejections>,
    pub load_shed_per_sec: Option<f64>,
}

impl Snapshot {
    /// The change from `previous` to `current`, which were scraped `interval` apart.
    pub fn between(previous: &Scrape, current: &Scrape, interval: Duration) -> Snapshot {
        let seconds = interval.as_secs_f64();
        let per_sec = |delta: f64| if seconds > 0.0 { delta / seconds } else { 0.0 };

        let deltas: Vec<(&String, MethodCounters)> = current
            .methods
            .iter()
            .map(|(method, counters)| (method, method_delta(previous.methods.get(method), counters)))
            .collect();
        let mut methods: Vec<MethodRow> = deltas
            .iter()
            .map(|(method, delta)| MethodRow { method: (*method).clone(), stats: call_stats(delta, seconds) })
            .collect();
        methods.sort_by(|a, b| b.stats.calls_per_sec.total_cmp(&a.stats.calls_per_sec).then(a.method.cmp(&b.method)));

        let rate_limit_rejections = current
            .rate_limit_rejections
            .iter()
            .map(|(limit, &total)| {
                let delta = counter_delta(previous.rate_limit_rejections.get(limit).copied(), total);
                LimitRejections { limit: limit.clone(), per_sec: per_sec(delta), total }
            })
            .collect();

        Snapshot {
            interval,
            gauges: current.gauges.clone(),
            total: call_stats(&sum_methods(deltas.iter().map(|(_, delta)| delta)), seconds),
            methods,
            rate_limit_rejections,
            load_shed_per_sec: current.load_shed.map(|now| per_sec(counter_delta(previous.load_shed, now))),
        }
    }
}

/// `/askpro.appointment.v1.AppointmentService/CreateAppointment` →
/// `AppointmentService/CreateAppointment`; anything else is shown as it is.
pub fn short_method_name(path: &str) -> &str {
    let trimmed = path.trim_start_matches('/');
    match trimmed.split_once('/') {
        Some((service, _)) => service.rfind('.').map_or(trimmed, |dot| &trimmed[dot + 1..]),
        None => path,
    }
}

/// The increase of one counter; a decrease means it was reset to zero since.
fn counter_delta(previous: Option<f64>, current: f64) -> f64 {
    match previous {
        Some(previous) if current >= previous => current - previous,
        _ => current,
    }
}

/// The increase of a method's counters. They are reset together (the server
/// restarted), so one decreasing series means none of the old values count.
fn method_delta(previous: Option<&MethodCounters>, current: &MethodCounters) -> MethodCounters {
    let baseline = previous.filter(|previous| !was_reset(previous, current));
    let old_calls = |code: &String| baseline.and_then(|b| b.calls_by_code.get(code)).copied().unwrap_or(0.0);
    let old_bucket = |bound: f64| {
        baseline.and_then(|b| b.latency_buckets.iter().find(|(b, _)| *b == bound)).map_or(0.0, |(_, count)| *count)
    };
    MethodCounters {
        calls_by_code: current.calls_by_code.iter().map(|(code, &n)| (code.clone(), n - old_calls(code))).collect(),
        latency_buckets: current.latency_buckets.iter().map(|&(bound, n)| (bound, n - old_bucket(bound))).collect(),
    }
}

fn was_reset(previous: &MethodCounters, current: &MethodCounters) -> bool {
    let calls_went_down = previous
        .calls_by_code
        .iter()
        .any(|(code, &before)| current.calls_by_code.get(code).is_none_or(|&now| now < before));
    let buckets_went_down = previous.latency_buckets.iter().any(|&(bound, before)| {
        current.latency_buckets.iter().find(|(b, _)| *b == bound).is_none_or(|&(_, now)| now < before)
    });
    calls_went_down || buckets_went_down
}

/// All methods as one: counts add up per code and per bucket bound (every
/// method shares the server's bucket layout).
fn sum_methods<'a>(deltas: impl Iterator<Item = &'a MethodCounters>) -> MethodCounters {
    let mut sum = MethodCounters::default();
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for delta in deltas {
        for (code, n) in &delta.calls_by_code {
            *sum.calls_by_code.entry(code.clone()).or_default() += n;
        }
        for &(bound, n) in &delta.latency_buckets {
            match buckets.iter_mut().find(|(b, _)| *b == bound) {
                Some((_, total)) => *total += n,
                None => buckets.push((bound, n)),
            }
        }
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    sum.latency_buckets = buckets;
    sum
}

fn call_stats(delta: &MethodCounters, seconds: f64) -> CallStats {
    // Folded from +0.0: `Sum` of no floats is -0.0, which prints as "-0.0%".
    let calls = delta.calls_by_code.values().fold(0.0, |sum, n| sum + n);
    let failed = delta.calls_by_code.iter().filter(|(code, _)| *code != OK_CODE).fold(0.0, |sum, (_, n)| sum + n);
    CallStats {
        calls,
        calls_per_sec: if seconds > 0.0 { calls / seconds } else { 0.0 },
        error_ratio: (calls > 0.0).then(|| failed / calls),
        p50_seconds: histogram_quantile(0.5, &delta.latency_buckets),
        p99_seconds: histogram_quantile(0.99, &delta.latency_buckets),
    }
}

/// The `q`-quantile of cumulative buckets sorted by bound, as Prometheus'
/// `histogram_quantile` estimates it: linear interpolation inside the bucket
/// holding the rank, the first bucket starting at 0, and the highest finite
/// bound when the rank falls in `+Inf`. `None` without observations or
/// without a `+Inf` bucket (the total would be unknown).
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let &(last_bound, _) = buckets.last()?;
    if buckets.len() < 2 || last_bound != f64::INFINITY || !(0.0..=1.0).contains(&q) {
        return None;
    }
    // Scrapes are not atomic: a bucket can briefly read lower than the one
    // below it. Prometheus smooths that the same way.
    let mut counts: Vec<f64> = Vec::with_capacity(buckets.len());
    for &(_, count) in buckets {
        let floor = counts.last().copied().unwrap_or(0.0);
        counts.push(count.max(floor));
    }
    let observations = counts[counts.len() - 1];
    if observations <= 0.0 {
        return None;
    }
    let mut rank = q * observations;
    let index = counts[..counts.len() - 1].iter().position(|&count| count >= rank).unwrap_or(counts.len() - 1);
    if index == buckets.len() - 1 {
        return Some(buckets[buckets.len() - 2].0);
    }
    let upper = buckets[index].0;
    if index == 0 && upper <= 0.0 {
        return Some(upper);
    }
    let (lower, below) = if index > 0 { (buckets[index - 1].0, counts[index - 1]) } else { (0.0, 0.0) };
    rank -= below;
    Some(lower + (upper - lower) * (rank / (counts[index] - below))).filter(|quantile| quantile.is_finite())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::top::fixture;

    const CREATE: &str = "/askpro.appointment.v1.AppointmentService/CreateAppointment";
    const LIST_SLOTS: &str = "/askpro.availability.v1.AvailabilityService/ListSlots";
    const CANCEL: &str = "/askpro.appointment.v1.AppointmentService/CancelAppointment";

    fn assert_close(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("a value");
        assert!((actual - expected).abs() < 1e-9, "expected {expected}, got {actual}");
    }

    fn row<'a>(snapshot: &'a Snapshot, method: &str) -> &'a CallStats {
        &snapshot.methods.iter().find(|row| row.method == method).expect("method row").stats
    }

    #[test]
    fn rates_errors_and_quantiles_come_from_the_difference_of_two_scrapes() {
        let snapshot = fixture::snapshot();
        let order: Vec<&str> = snapshot.methods.iter().map(MethodRow::short_name).collect();
        assert_eq!(
            order,
            [
                "AvailabilityService/ListSlots",
                "AppointmentService/CreateAppointment",
                "AppointmentService/CancelAppointment"
            ]
        );

        // 80 OK + 20 ALREADY_EXISTS in 2 s; latency from the bucket deltas.
        let create = row(&snapshot, CREATE);
        assert_close(Some(create.calls_per_sec), 50.0);
        assert_close(create.error_ratio, 0.2);
        assert_close(create.p50_seconds, 0.013);
        assert_close(create.p99_seconds, 0.1);

        let list_slots = row(&snapshot, LIST_SLOTS);
        assert_close(Some(list_slots.calls_per_sec), 200.0);
        assert_close(list_slots.error_ratio, 0.0);
        assert_close(list_slots.p50_seconds, 0.00175);
        assert_close(list_slots.p99_seconds, 0.005);

        let total = snapshot.total;
        assert_close(Some(total.calls_per_sec), 253.0);
        assert_close(total.error_ratio, 26.0 / 506.0);
        assert_close(total.p50_seconds, 0.001 + 0.0015 * (153.0 / 200.0));
    }

    #[test]
    fn a_method_first_seen_in_the_second_scrape_counts_from_zero() {
        let cancel = *row(&fixture::snapshot(), CANCEL);
        assert_close(Some(cancel.calls_per_sec), 3.0);
        assert_close(cancel.error_ratio, 1.0);
        assert_close(cancel.p50_seconds, 0.0075);
    }

    #[test]
    fn header_shows_latest_gauges_and_rejection_rates() {
        let snapshot = fixture::snapshot();
        let gauges = &snapshot.gauges;
        assert_eq!(gauges.requests_in_flight, Some(3.0));
        assert_eq!(gauges.holds_active, Some(7.0));
        assert_eq!(
            (gauges.db_pool_idle, gauges.db_pool_in_use, gauges.db_pool_max),
            (Some(4.0), Some(1.0), Some(10.0))
        );
        assert_eq!(gauges.dependencies_up.get("database"), Some(&true));
        assert_eq!(gauges.dependencies_up.get("redis"), Some(&false));
        assert_eq!(
            snapshot.rate_limit_rejections,
            [
                LimitRejections { limit: "api_key".into(), per_sec: 2.0, total: 9.0 },
                LimitRejections { limit: "tenant".into(), per_sec: 1.0, total: 2.0 },
            ]
        );
        assert_eq!(snapshot.load_shed_per_sec, Some(2.0));
    }

    #[test]
    fn counter_reset_counts_the_new_value_as_the_increase() {
        // The server restarted between the scrapes: every counter went down.
        let after_restart = Scrape::parse(fixture::BEFORE);
        let snapshot = Snapshot::between(&Scrape::parse(fixture::AFTER), &after_restart, Duration::from_secs(1));
        let create = row(&snapshot, CREATE);
        assert_close(Some(create.calls_per_sec), 104.0);
        assert_close(create.error_ratio, 4.0 / 104.0);
        assert!(create.p50_seconds.is_some_and(|p50| p50 > 0.0));
        assert_close(Some(row(&snapshot, LIST_SLOTS).calls_per_sec), 1000.0);
        assert!(snapshot.methods.iter().all(|row| row.method != CANCEL), "gone after the restart");
        assert_eq!(snapshot.rate_limit_rejections[0].per_sec, 5.0);
    }

    #[test]
    fn missing_metrics_leave_their_fields_empty() {
        let snapshot =
            Snapshot::between(&Scrape::default(), &Scrape::parse("askpro_holds_active 2\n"), Duration::from_secs(1));
        assert!(snapshot.methods.is_empty());
        assert_eq!(snapshot.total, CallStats::default());
        assert_eq!(snapshot.gauges.holds_active, Some(2.0));
        assert_eq!(snapshot.gauges.requests_in_flight, None);
        assert!(snapshot.rate_limit_rejections.is_empty());
        assert_eq!(snapshot.load_shed_per_sec, None);
    }

    #[test]
    fn an_idle_interval_has_no_error_rate_or_latency() {
        let same = Scrape::parse(fixture::AFTER);
        let snapshot = Snapshot::between(&same, &same, Duration::from_secs(1));
        assert_eq!(snapshot.methods.len(), 3);
        assert!(
            snapshot.methods.iter().all(|row| row.stats == CallStats { calls_per_sec: 0.0, ..CallStats::default() })
        );
    }

    #[test]
    fn garbage_and_unknown_metrics_do_not_disturb_the_known_ones() {
        let text =
            format!("{}\nnot a metric line\nother_metric{{x=\"1\"}} 5\naskpro_holds_active NaN\n", fixture::AFTER);
        let scrape = Scrape::parse(&text);
        assert_eq!(scrape.gauges.holds_active, None, "the last NaN sample wins and reads as unknown");
        assert_eq!(scrape.methods.len(), 3);
    }

    #[test]
    fn histogram_quantile_follows_prometheus() {
        let inf = f64::INFINITY;
        // Rank in the +Inf bucket: the highest finite bound.
        assert_eq!(histogram_quantile(0.99, &[(0.1, 1.0), (1.0, 2.0), (inf, 10.0)]), Some(1.0));
        // The first bucket starts at zero.
        assert_close(histogram_quantile(0.5, &[(0.1, 4.0), (inf, 4.0)]), 0.05);
        // A bucket read lower than the one below is lifted to it.
        assert_close(histogram_quantile(0.5, &[(0.1, 4.0), (0.2, 3.0), (inf, 8.0)]), 0.1);
        assert_eq!(histogram_quantile(0.5, &[(0.1, 0.0), (inf, 0.0)]), None, "no observations");
        assert_eq!(histogram_quantile(0.5, &[(0.1, 3.0), (0.2, 4.0)]), None, "no +Inf bucket");
        assert_eq!(histogram_quantile(0.5, &[]), None);
    }

    #[test]
    fn short_method_names_drop_the_package() {
        assert_eq!(short_method_name(CREATE), "AppointmentService/CreateAppointment");
        assert_eq!(short_method_name("/Plain/Call"), "Plain/Call");
        assert_eq!(short_method_name("unknown"), "unknown");
    }

    #[test]
    fn the_servers_own_exporter_output_is_understood() {
        use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(metrics::REQUEST_DURATION_SECONDS.into()), &[0.01, 0.1])
            .expect("buckets")
            .build_recorder();
        ::metrics::with_local_recorder(&recorder, || {
            let labels = [("method", CREATE.to_owned()), ("code", "NOT_FOUND".to_owned())];
            ::metrics::counter!(metrics::REQUESTS_TOTAL, &labels).increment(4);
            let method = [("method", CREATE.to_owned())];
            for seconds in [0.005, 0.05, 0.05, 0.5] {
                ::metrics::histogram!(metrics::REQUEST_DURATION_SECONDS, &method).record(seconds);
            }
            ::metrics::gauge!(metrics::HOLDS_ACTIVE).set(3.0);
        });
        let rendered = recorder.handle().render();
        let snapshot = Snapshot::between(&Scrape::default(), &Scrape::parse(&rendered), Duration::from_secs(2));
        let create = row(&snapshot, CREATE);
        assert_close(Some(create.calls_per_sec), 2.0);
        assert_close(create.error_ratio, 1.0);
        assert_close(create.p50_seconds, 0.01 + 0.09 * 0.5);
        assert_eq!(create.p99_seconds, Some(0.1), "rank in +Inf: {rendered}");
        assert_eq!(snapshot.gauges.holds_active, Some(3.0));
    }
}
