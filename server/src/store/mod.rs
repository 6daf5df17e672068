//! The store: the only layer that talks to the database (sea-orm over SQLite or
//! PostgreSQL). It opens the connection with durable settings, runs migrations, hands out
//! write transactions and offers one function per query the services need. It knows
//! nothing of HTTP, sessions or roles.

pub mod entities;

pub mod audit;
pub mod cases;
pub mod events;
pub mod idempotency;
pub mod moderation;
pub mod people;
pub mod posts;
pub mod reports;
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
}

/// A write transaction. On SQLite it also holds the write gate until it ends.
pub struct WriteTx {
    txn: DatabaseTransaction,
    _gate: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Makes every change of this transaction durable.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
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
        opts.max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        opts.map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
        opts.map_sqlx_postgres_opts(|o: PgConnectOptions| {
            o.options([("synchronous_commit", "on")])
        });
        let db = Database::connect(opts).await?;
        let write_gate = (engine == Engine::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Store {
            db,
            engine,
            write_gate,
        })
    }

    /// Applies every pending migration; returns how many ran.
    pub async fn migrate(&self) -> Result<usize, DbErr> {
        let pending = Migrator::get_pending_migrations(&self.db).await?.len();
        Migrator::up(&self.db, None).await?;
        Ok(pending)
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
        let gate = match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        };
        let txn = self.db.begin().await?;
        Ok(WriteTx { txn, _gate: gate })
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

fn ensure_sqlite_folder(url: &str) -> Result<(), DbErr> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
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

/// Whether an error is a unique-constraint violation (a duplicate the caller can name).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// The SQL backend of a connection, for the few statements written by hand.
pub fn backend<C: ConnectionTrait>(conn: &C) -> DbBackend {
    conn.get_database_backend()
}
