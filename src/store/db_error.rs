//! Database errors sorted into the service's error kinds, in one place: the
//! store is the only layer that sees sea-orm's errors.
use sea_orm::DbErr;

use crate::error::Error;

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        classify_db_error(err)
    }
}

/// Database errors can echo the connection URL; keep only the kind.
pub(super) fn redact_db_error(err: &DbErr) -> String {
    match err {
        DbErr::Conn(_) => "connection failed".into(),
        DbErr::ConnectionAcquire(e) => format!("connection acquire failed: {e}"),
        other => other.to_string(),
    }
}

/// Sorts a database error into the service's error kinds. Repositories catch
/// the unique violations they expect (a taken phone number) before this.
pub fn classify_db_error(err: DbErr) -> Error {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as SqlxError;
    let sqlx_err = match &err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e.clone()),
        DbErr::Conn(RuntimeErr::SqlxError(e)) => Some(e.clone()),
        _ => None,
    };
    match &err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return Error::Unavailable { dependency: "database" },
        _ => {}
    }
    if let Some(sqlx_err) = sqlx_err {
        match sqlx_err.as_ref() {
            SqlxError::Database(db) => {
                let code = db.code().unwrap_or_default();
                return match code.as_ref() {
                    // serialization_failure, deadlock_detected, unique_violation
                    // (a racing insert: the retry sees the winner's row).
                    "40001" | "40P01" | "23505" => Error::Conflict,
                    // query_canceled: statement_timeout, set from the call's deadline
                    "57014" => Error::DeadlineExceeded,
                    // SQLITE_BUSY, SQLITE_LOCKED, BUSY_SNAPSHOT, CONSTRAINT_UNIQUE, CONSTRAINT_PRIMARYKEY
                    "5" | "6" | "517" | "2067" | "1555" => Error::Conflict,
                    // foreign key violations: the referenced row vanished meanwhile
                    "23503" | "787" => Error::FailedPrecondition {
                        reason: "FAILED_PRECONDITION",
                        message: "a referenced resource does not exist".into(),
                    },
                    _ => Error::Internal(format!("database error {code}: {}", db.message())),
                };
            }
            SqlxError::Io(_) | SqlxError::PoolTimedOut | SqlxError::PoolClosed | SqlxError::WorkerCrashed => {
                return Error::Unavailable { dependency: "database" };
            }
            _ => {}
        }
    }
    Error::Internal(redact_db_error(&err))
}

/// Whether `err` is a unique-key violation (to map it to ALREADY_EXISTS where
/// the key is user-visible, like a branch's phone number).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}
