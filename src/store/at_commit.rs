//! What a transaction sends together with its commit: writes nothing in the
//! transaction reads back (a booking's appointment row, its outbox events and
//! deliveries, the idempotency record's response), checks that must see every
//! row committed before the commit statement (a customer's other
//! appointments, after their row lock), and PostgreSQL notifications.
//!
//! On PostgreSQL all of it is one statement just before COMMIT: the writes as
//! data-modifying WITH parts, the checks and `pg_notify` calls in its SELECT
//! list; a round trip per queued write or check saved, the booking's largest
//! cost (each round trip costs both processes a send, a receive and a wake-up).
//! A failed check answers its error and the transaction rolls back (written
//! rows and notifications with it). On SQLite, where a statement costs no
//! round trip, the checks run first and then the writes, in order.
//!
//! The parts of one statement see the same snapshot: a check does not see
//! the batch's own writes, and no queued write may depend on another's
//! result (foreign keys between them are fine: PostgreSQL checks them at the
//! end of the statement).
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement, Value, Values};
use uuid::Uuid;

use crate::error::{Error, Result};

/// A query selecting at most one id; a row found refuses the commit.
pub struct Check {
    pub query: Statement,
    pub refusal: fn(Uuid) -> Error,
}

/// The writes, checks and notifications queued on one transaction.
#[derive(Default)]
pub struct AtCommit {
    writes: Vec<Statement>,
    checks: Vec<Check>,
    notifications: Vec<(&'static str, String)>,
}

impl AtCommit {
    pub fn write(&mut self, statement: Statement) {
        self.writes.push(statement);
    }

    pub fn check(&mut self, check: Check) {
        self.checks.push(check);
    }

    pub fn notify(&mut self, channel: &'static str, payload: String) {
        self.notifications.push((channel, payload));
    }

    /// Sends everything queued (see the module comment); nothing when
    /// nothing is queued.
    pub async fn send(self, txn: &DatabaseTransaction) -> Result<()> {
        match txn.get_database_backend() {
            DbBackend::Postgres => self.send_as_one_statement(txn).await,
            _ => self.send_in_order(txn).await,
        }
    }

    async fn send_in_order(self, txn: &DatabaseTransaction) -> Result<()> {
        for check in self.checks {
            let found = txn.query_one_raw(check.query).await?;
            if let Some(id) = found.map(|row| row.try_get_by_index::<Uuid>(0)).transpose()? {
                return Err((check.refusal)(id));
            }
        }
        for write in self.writes {
            txn.execute_raw(write).await?;
        }
        Ok(())
    }

    async fn send_as_one_statement(self, txn: &DatabaseTransaction) -> Result<()> {
        if self.writes.is_empty() && self.checks.is_empty() && self.notifications.is_empty() {
            return Ok(());
        }
        let mut sql = String::new();
        let mut values: Vec<Value> = Vec::new();
        for (index, write) in self.writes.into_iter().enumerate() {
            sql.push_str(if index == 0 { "WITH " } else { ", " });
            sql.push_str(&format!("write_{index} AS ("));
            append(&mut sql, &mut values, write);
            sql.push(')');
        }
        sql.push_str(" SELECT ");
        let mut columns = 0;
        let refusals: Vec<fn(Uuid) -> Error> = self.checks.iter().map(|check| check.refusal).collect();
        for check in self.checks {
            sql.push_str(if columns == 0 { "(" } else { ", (" });
            append(&mut sql, &mut values, check.query);
            sql.push(')');
            columns += 1;
        }
        for (channel, payload) in self.notifications {
            sql.push_str(if columns == 0 { "" } else { ", " });
            sql.push_str(&format!("pg_notify(${}, ${})", values.len() + 1, values.len() + 2));
            values.push(channel.into());
            values.push(payload.into());
            columns += 1;
        }
        if columns == 0 {
            sql.push('1');
        }
        let row = txn.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
        let Some(row) = row else { return Err(Error::Internal("the commit statement returned no row".into())) };
        for (index, refusal) in refusals.into_iter().enumerate() {
            if let Some(id) = row.try_get_by_index::<Option<Uuid>>(index)? {
                return Err(refusal(id));
            }
        }
        Ok(())
    }
}

/// Appends `statement` to `sql`, its `$n` placeholders renumbered after the
/// values already collected, and its values to `values`.
fn append(sql: &mut String, values: &mut Vec<Value>, statement: Statement) {
    sql.push_str(&renumbered(&statement.sql, values.len()));
    if let Some(Values(own)) = statement.values {
        values.extend(own);
    }
}

/// `sql` with every placeholder `$n` outside quotes written as `$(n + by)`.
/// (sea-query numbers each statement's parameters from $1; one statement
/// made of several needs one numbering. Literals and quoted identifiers are
/// copied as they are.)
fn renumbered(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                let n: usize = digits.parse().unwrap_or(0);
                out.push_str(&format!("${}", n + by));
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::renumbered;

    #[test]
    fn placeholders_are_renumbered_outside_quotes_only() {
        assert_eq!(
            renumbered(r#"INSERT INTO "t" ("a", "b") VALUES ($1, $2)"#, 3),
            r#"INSERT INTO "t" ("a", "b") VALUES ($4, $5)"#
        );
        assert_eq!(renumbered("SELECT '$1', \"$2\", $10 + $2", 5), "SELECT '$1', \"$2\", $15 + $7");
        assert_eq!(renumbered("SELECT $1", 0), "SELECT $1");
        assert_eq!(renumbered("SELECT 'it''s $1', $1", 1), "SELECT 'it''s $1', $2");
    }
}
