//! The store: the only layer that talks to the database (sea-orm over SQLite or
//! PostgreSQL). It opens the connection with durable settings, runs migrations, hands out
//! write transactions and offers one function per query the services need. It knows
//! nothing of HTTP, sessions or roles.

pub mod entities;

pub mod audit;
pub mod cases;
pub mod draws;
pub mod events;
pub mod idempotency;
pub mod invitations;
pub mod moderation;
pub mod names;
pub mod notifications;
pub mod people;
pub mod posts;
pub mod privacy;
pub mod reports;
pub mod retention;
pub mod sessions;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use beraad_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqlErr, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How long a request waits for a pooled connection before the store counts as
/// unavailable.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(800);
/// How long opening a new connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long SQLite waits for a lock held by another process (the command line, a
/// checkpoint); writers of this process queue on the write gate instead.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a writer waits for the SQLite write gate before the store counts as
/// unavailable.
const WRITE_GATE_TIMEOUT: Duration = Duration::from_secs(3);

/// Decides whether a connection coming back to the pool may be used again. A
/// transaction dropped without commit queues its rollback on the connection; the ping
/// runs after it. A connection still inside a transaction after that (a failed commit
/// or rollback, as when the disk is full) is closed instead of reused: reused, it would
/// hold SQLite's write lock for ever and nest every later "transaction" inside the dead
/// one as a savepoint that is never committed.
async fn settle<C: sea_orm::sqlx::Connection>(conn: &mut C) -> Result<bool, sea_orm::sqlx::Error> {
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("a database connection came back inside a transaction; closing it");
        return Ok(false);
    }
    Ok(true)
}

/// Which engine a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Embedded SQLite file (the default).
    Sqlite,
    /// A PostgreSQL server (for several nodes).
    Postgres,
}

/// Handle on the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    engine: Engine,
    /// SQLite allows one writer at a time and answers a second with `SQLITE_BUSY` when a
    /// read transaction tries to upgrade; writers queue here instead. `None` on PostgreSQL,
    /// where row locks order writers.
    write_gate: Option<Arc<Mutex<()>>>,
    /// When the last write failed because the database could not write (disk full,
    /// unreachable), cleared by the next write that commits. Readiness reads it.
    write_failed_at: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

/// A write transaction. On SQLite it also holds the write gate until it ends.
pub struct WriteTx {
    txn: DatabaseTransaction,
    _gate: Option<OwnedMutexGuard<()>>,
    write_failed_at: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

impl WriteTx {
    /// Makes every change of this transaction durable. An error means nothing of it was
    /// stored.
    pub async fn commit(self) -> Result<(), DbErr> {
        let outcome = self.txn.commit().await;
        note_write(&self.write_failed_at, &outcome);
        outcome
    }
}

/// Remembers whether a write reached the disk, for readiness.
fn note_write<T>(failed_at: &std::sync::Mutex<Option<std::time::Instant>>, r: &Result<T, DbErr>) {
    let mut at = failed_at.lock().unwrap_or_else(|p| p.into_inner());
    match r {
        Ok(_) => *at = None,
        Err(e) if is_unavailable(e) => *at = Some(std::time::Instant::now()),
        Err(_) => {}
    }
}

impl Deref for WriteTx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

/// Whether a database URL names PostgreSQL (otherwise it is taken as SQLite).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Store {
    /// Connects to `url` (a `postgres://` URL or a `sqlite://` path), creating the SQLite
    /// file and its folder on first use, and sets the durability the product promises:
    /// WAL with `synchronous=FULL` on SQLite, `synchronous_commit=on` on PostgreSQL.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, DbErr> {
        let engine = if is_postgres_url(url) {
            Engine::Postgres
        } else {
            Engine::Sqlite
        };
        if engine == Engine::Sqlite {
            ensure_sqlite_folder(url)?;
        }
        let mut opts = ConnectOptions::new(url.to_owned());
        // Requests wait at most a short while for a connection: a database that cannot
        // answer is reported as unavailable (503 with Retry-After) within about a second
        // rather than after a long hang.
        opts.max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(CONNECT_TIMEOUT)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .sqlx_logging(false);
        opts.map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        });
        opts.map_sqlx_postgres_opts(|o: PgConnectOptions| {
            o.options([("synchronous_commit", "on")])
        });
        // No connection goes back to the pool inside a transaction (see `settle`).
        opts.map_sqlx_sqlite_pool_opts(|o| {
            o.after_release(|conn, _| Box::pin(async move { settle(conn).await }))
        });
        opts.map_sqlx_postgres_pool_opts(|o| {
            o.after_release(|conn, _| Box::pin(async move { settle(conn).await }))
        });
        let mut db = Database::connect(opts).await?;
        db.set_metric_callback(|info| {
            let outcome = if info.failed { "error" } else { "ok" };
            metrics::histogram!(crate::metrics::DB_QUERY_DURATION, "outcome" => outcome)
                .record(info.elapsed.as_secs_f64());
        });
        let write_gate = (engine == Engine::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Store {
            db,
            engine,
            write_gate,
            write_failed_at: Arc::default(),
        })
    }

    /// Writes a consistent copy of the whole SQLite database to `file` (which must not
    /// exist) while the database stays in use: `VACUUM INTO` reads in one transaction,
    /// so the copy holds every write committed before it began and none after, and is
    /// compacted. On PostgreSQL there is nothing to do here: `pg_dump` is the tool.
    pub async fn backup_into(&self, file: &std::path::Path) -> Result<(), DbErr> {
        if self.engine != Engine::Sqlite {
            return Err(DbErr::Custom(
                "backup_into is for SQLite; use pg_dump".into(),
            ));
        }
        let file = file
            .to_str()
            .ok_or_else(|| DbErr::Custom("the backup file name is not UTF-8".into()))?;
        self.db
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "VACUUM INTO ?",
                [file.into()],
            ))
            .await?;
        Ok(())
    }

    /// Applies every pending migration; returns how many ran.
    pub async fn migrate(&self) -> Result<usize, DbErr> {
        let pending = Migrator::get_pending_migrations(&self.db).await?.len();
        Migrator::up(&self.db, None).await?;
        // Authors of posts written before per-case names existed get theirs now; a no-op
        // once every author has one, and safe when several nodes start at once.
        let named = names::backfill(&self.db, chrono::Utc::now()).await?;
        if named > 0 {
            tracing::info!(names = named, "per-case display names given");
        }
        Ok(pending)
    }

    /// The pool now: `(in use, idle, most allowed)` connections.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let (size, idle, max) = match self.engine {
            Engine::Postgres => {
                let p = self.db.get_postgres_connection_pool();
                (p.size(), p.num_idle(), p.options().get_max_connections())
            }
            Engine::Sqlite => {
                let p = self.db.get_sqlite_connection_pool();
                (p.size(), p.num_idle(), p.options().get_max_connections())
            }
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        (size.saturating_sub(idle), idle, max)
    }

    /// Takes a connection from the pool and gives it back at once, running no statement
    /// of ours, and records how long that took as the pool wait of a read (`for="probe"`;
    /// a request waits as long for its connection). Up to the acquire time-out.
    pub async fn probe_pool_wait(&self) {
        let started = std::time::Instant::now();
        let taken = match self.engine {
            Engine::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                tokio::time::timeout(ACQUIRE_TIMEOUT, pool.acquire())
                    .await
                    .is_ok_and(|c| c.is_ok())
            }
            Engine::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                tokio::time::timeout(ACQUIRE_TIMEOUT, pool.acquire())
                    .await
                    .is_ok_and(|c| c.is_ok())
            }
        };
        let outcome = if taken { "ok" } else { "error" };
        metrics::histogram!(crate::metrics::DB_POOL_WAIT, "for" => "probe", "outcome" => outcome)
            .record(started.elapsed().as_secs_f64());
    }

    /// The connection for reads outside a transaction.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The engine in use.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Starts a write transaction (queueing behind other writers on SQLite).
    pub async fn begin_write(&self) -> Result<WriteTx, DbErr> {
        let waiting = std::time::Instant::now();
        let gate = match &self.write_gate {
            Some(gate) => Some(
                tokio::time::timeout(WRITE_GATE_TIMEOUT, gate.clone().lock_owned())
                    .await
                    .map_err(|_| DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))?,
            ),
            None => None,
        };
        let pooling = std::time::Instant::now();
        let txn = self.db.begin().await;
        let outcome = if txn.is_ok() { "ok" } else { "error" };
        metrics::histogram!(crate::metrics::DB_POOL_WAIT, "for" => "write", "outcome" => outcome)
            .record(pooling.elapsed().as_secs_f64());
        metrics::histogram!(crate::metrics::DB_WRITE_WAIT).record(waiting.elapsed().as_secs_f64());
        note_write(&self.write_failed_at, &txn);
        Ok(WriteTx {
            txn: txn?,
            _gate: gate,
            write_failed_at: self.write_failed_at.clone(),
        })
    }

    /// Whether a write failed for want of a writable database within the last `window`
    /// and none has committed since. After the window the node offers itself again: the
    /// next write tells whether the database recovered.
    pub fn write_failing(&self, window: Duration) -> bool {
        self.write_failed_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|at| at.elapsed() < window)
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.db.execute_unprepared("SELECT 1").await.map(|_| ())
    }

    /// Closes the pool (used at shutdown and by tests).
    pub async fn close(self) -> Result<(), DbErr> {
        self.db.close().await
    }
}

/// The file of a `sqlite:` URL (empty for none or `:memory:`).
pub fn sqlite_file(url: &str) -> &str {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path == ":memory:" { "" } else { path }
}

fn ensure_sqlite_folder(url: &str) -> Result<(), DbErr> {
    let path = sqlite_file(url);
    if path.is_empty() {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            DbErr::Custom(format!("cannot create folder {}: {e}", parent.display()))
        })?;
    }
    Ok(())
}

/// Whether an error means the database cannot serve now but may soon (no connection
/// within the time-out, the server unreachable or shutting down, the disk full, a lock
/// held too long), as opposed to a fault in the request or the code.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as SqlxError;
    let sqlx_err = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx_err.as_ref() {
        SqlxError::Io(_)
        | SqlxError::PoolTimedOut
        | SqlxError::PoolClosed
        | SqlxError::WorkerCrashed
        | SqlxError::Tls(_) => true,
        SqlxError::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite primary result codes are the low byte of the extended code:
            // BUSY 5, LOCKED 6, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14.
            let sqlite = code
                .parse::<i32>()
                .ok()
                .is_some_and(|c| matches!(c & 0xff, 5 | 6 | 8 | 10 | 13 | 14));
            // PostgreSQL: connection exceptions (08…), insufficient resources such as
            // disk full (53…), operator intervention such as shutdown (57P…), and a
            // read-only server (25006).
            let postgres = code.len() == 5
                && (code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57P")
                    || code == "25006");
            sqlite || postgres
        }
        _ => false,
    }
}

/// Whether an error is a unique-constraint violation (a duplicate the caller can name).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// The SQL backend of a connection, for the few statements written by hand.
pub fn backend<C: ConnectionTrait>(conn: &C) -> DbBackend {
    conn.get_database_backend()
}
