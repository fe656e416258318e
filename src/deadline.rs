//! The deadline of the call being served, visible to everything the call
//! runs: the database (PostgreSQL `statement_timeout`), Redis and outbound
//! HTTP bound their waits by `remaining()`.
//!
//! The deadline layer (`layers::deadline`) sets it from `grpc-timeout` (or the
//! server default) with `scope`; code outside a call sees `None`.
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};

#[derive(Clone)]
struct Call {
    deadline: Instant,
    /// Set when the call sent its first COMMIT: from then on the call is
    /// answered with its result, not cut at the deadline (see
    /// `layers::deadline`).
    commit_started: Arc<AtomicBool>,
}

tokio::task_local! {
    static CALL: Call;
}

/// Runs `work` with `deadline` as the current call's deadline.
pub async fn scope<F: Future>(deadline: Instant, work: F) -> F::Output {
    scope_watching_commits(deadline, Arc::default(), work).await
}

/// `scope`, and `commit_started` becomes true when `work` begins to commit
/// a transaction.
pub async fn scope_watching_commits<F: Future>(
    deadline: Instant,
    commit_started: Arc<AtomicBool>,
    work: F,
) -> F::Output {
    CALL.scope(Call { deadline, commit_started }, work).await
}

/// The current call is about to send COMMIT (the store calls this).
pub fn commit_starting() {
    let _ = CALL.try_with(|call| call.commit_started.store(true, Ordering::SeqCst));
}

/// The current call's deadline, if one is set. Once the call began to
/// commit, its deadline no longer applies: what follows (the rest of the
/// commit, an answer built from it) must not turn a written result into
/// DEADLINE_EXCEEDED, which promises that nothing was written.
pub fn current() -> Option<Instant> {
    CALL.try_with(|call| (!call.commit_started.load(Ordering::SeqCst)).then_some(call.deadline)).ok().flatten()
}

/// Time left before the current call's deadline (zero once it passed);
/// `None` outside a call.
pub fn remaining() -> Option<Duration> {
    current().map(|deadline| deadline.saturating_duration_since(Instant::now()))
}

/// Fails with DEADLINE_EXCEEDED when the current call's deadline has passed,
/// so no new work (a transaction, a Redis call) starts after it.
pub fn check() -> Result<()> {
    match remaining() {
        Some(left) if left.is_zero() => Err(Error::DeadlineExceeded),
        _ => Ok(()),
    }
}

/// The shorter of `limit` and the time left in the current call.
pub fn bounded(limit: Duration) -> Duration {
    remaining().map_or(limit, |left| left.min(limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outside_a_call_there_is_no_deadline() {
        assert_eq!(remaining(), None);
        assert!(check().is_ok());
        assert_eq!(bounded(Duration::from_secs(3)), Duration::from_secs(3));
    }

    #[tokio::test]
    async fn inside_a_call_the_remaining_time_bounds_waits() {
        let deadline = Instant::now() + Duration::from_millis(500);
        scope(deadline, async {
            let left = remaining().expect("a deadline is set");
            assert!(left <= Duration::from_millis(500) && left > Duration::from_millis(100), "{left:?}");
            assert!(bounded(Duration::from_secs(10)) <= Duration::from_millis(500));
            assert_eq!(bounded(Duration::from_millis(5)), Duration::from_millis(5));
            assert!(check().is_ok());
        })
        .await;
    }

    #[tokio::test]
    async fn a_commit_inside_the_call_is_seen_by_its_watcher() {
        let started = Arc::new(AtomicBool::new(false));
        commit_starting(); // outside a call: nothing to tell
        scope_watching_commits(Instant::now(), started.clone(), async {
            assert!(!started.load(Ordering::SeqCst));
            assert!(matches!(check(), Err(Error::DeadlineExceeded)));
            commit_starting();
            assert!(check().is_ok(), "after a commit began the deadline no longer applies");
            assert_eq!(remaining(), None);
        })
        .await;
        assert!(started.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_passed_deadline_fails_the_check() {
        let deadline = Instant::now();
        scope(deadline, async {
            assert_eq!(remaining(), Some(Duration::ZERO));
            assert!(matches!(check(), Err(Error::DeadlineExceeded)));
        })
        .await;
    }
}
