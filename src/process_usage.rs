//! What this process has used so far: CPU time and resident memory, read
//! from /proc (Linux; `None` elsewhere). `/metrics` exposes both under the
//! standard Prometheus process metric names, and `askpro bench` reads them
//! (of itself, or of the server it measures through that page).
//!
//! Written here rather than taken from a crate: two reads of /proc files the
//! kernel documents; the crates that do it (metrics-process, procfs) bring
//! far more than these two numbers.
use std::time::Duration;

/// The kernel's clock tick for /proc/<pid>/stat times: USER_HZ, 100 on every
/// Linux this runs on (sysconf(_SC_CLK_TCK) would say the same).
const TICKS_PER_SECOND: u64 = 100;

/// CPU time (user + system) this process used so far.
pub fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; fields 14 and 15 follow its ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// This process's resident memory (VmRSS) in bytes.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_read_on_linux_and_cpu_time_grows() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let before = cpu_time().expect("cpu time");
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        assert!(cpu_time().expect("cpu time") >= before);
        assert!(resident_bytes().expect("rss") > 1024 * 1024);
    }
}
