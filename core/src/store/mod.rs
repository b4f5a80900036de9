//! The sea-orm store over SQLite (embedded default) and PostgreSQL (production, scale-out).
//! The backend is picked by the database URL.

pub mod entity;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, FromQueryResult, QueryTrait, Select, SelectModel, Selector,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use std::time::Duration;

/// How long a SQLite writer waits for the lock before giving up.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connect, with the pragmas that protect case data on SQLite:
/// WAL, `synchronous=FULL` (no acknowledged write lost on a crash), `busy_timeout`,
/// foreign keys on, `secure_delete`. Write transactions begin IMMEDIATE (see [`begin_write`]).
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(15))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
                // No memory map, explicitly. In WAL mode a commit by one
                // connection (an audit entry, for one) makes every other connection drop
                // its page cache, and with a map also unmap it: the munmap, the TLB
                // shoot-downs and the page faults that follow cost more than reading the
                // pages again (caseload bench: API 54 → 60 % of the raw floor, page
                // 43 → 49 %, the floor unchanged). See docs/benchmarks.md.
                .pragma("mmap_size", "0")
                // Deleted and overwritten content is zeroed, not left in free space: an
                // erased person's old ciphertexts must not survive in the file
                // (`crate::erasure`). Costs a few page writes on deletes.
                .pragma("secure_delete", "on")
        });
    Database::connect(opts).await
}

/// Begin a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: the write lock is
/// taken up front (waiting up to `busy_timeout`), so the transaction cannot fail with
/// SQLITE_BUSY half-way when it upgrades from reading to writing.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
        }
        _ => db.begin().await,
    }
}

/// The first row of a query, with its `LIMIT 1` written into the SQL.
///
/// Use it instead of sea-orm's `one()`, which binds the limit as a parameter: SQLite (since
/// 3.47) plans a bound `LIMIT ?` for the value it holds and marks the prepared statement to
/// be compiled again whenever that parameter is bound, that is, on every execution. Every
/// `one()` paid a full parse and plan (about a sixth of the server's time under load), a cost
/// PostgreSQL does not have.
pub trait First: Sized {
    type Item: FromQueryResult + Send;

    /// The query's statement, without a limit.
    fn statement(self, backend: DbBackend) -> Statement;

    /// Fetch the first row, or `None`.
    fn first<C>(self, db: &C) -> impl Future<Output = Result<Option<Self::Item>, DbErr>> + Send
    where
        C: ConnectionTrait + Sync,
    {
        let st = with_limit(self.statement(db.get_database_backend()), 1, 0);
        async move { Self::Item::find_by_statement(st).one(db).await }
    }
}

impl<E: EntityTrait> First for Select<E>
where
    E::Model: Send,
{
    type Item = E::Model;
    fn statement(self, backend: DbBackend) -> Statement {
        self.build(backend)
    }
}

impl<M: FromQueryResult + Send + Sync> First for Selector<SelectModel<M>> {
    type Item = M;
    fn statement(self, backend: DbBackend) -> Statement {
        self.into_statement(backend)
    }
}

/// Append `LIMIT limit [OFFSET offset]` to a SELECT as literals (see [`First`] for why not
/// as parameters). The statement must not have a limit already.
pub fn with_limit(mut st: Statement, limit: u64, offset: u64) -> Statement {
    use std::fmt::Write as _;
    // Integers only: nothing from outside reaches the SQL text.
    let _ = write!(st.sql, " LIMIT {limit}");
    if offset > 0 {
        let _ = write!(st.sql, " OFFSET {offset}");
    }
    st
}

/// A SQLite URL for a file.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// `VACUUM INTO` (SQLite): an online, consistent copy of the database.
pub async fn sqlite_backup(db: &DatabaseConnection, dest: &std::path::Path) -> Result<(), DbErr> {
    let path = dest.display().to_string().replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{path}'"))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::entity::session;
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};

    #[test]
    fn first_and_pages_write_their_limit_into_the_sql() {
        let q = || session::Entity::find().filter(session::Column::TokenHash.eq("x"));
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let st = with_limit(q().statement(backend), 1, 0);
            assert!(st.sql.ends_with(" LIMIT 1"), "{}", st.sql);
            assert_eq!(st.values.map(|v| v.0.len()), Some(1));
            let st = with_limit(q().statement(backend), 50, 100);
            assert!(st.sql.ends_with(" LIMIT 50 OFFSET 100"), "{}", st.sql);
            // What First avoids: sea-orm's own limit is a bound parameter.
            let bound = q().limit(1).build(backend);
            assert_eq!(bound.values.map(|v| v.0.len()), Some(2));
        }
    }
}
