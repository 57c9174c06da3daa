//! Connecting to a service's relational store through sea-orm, PostgreSQL or SQLite alike.
//!
//! Every connection counts the statements it runs ([`StatementCounter`]), which feeds the
//! services' metrics and lets tests assert that a list query runs a bounded number of
//! statements however long the list is.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::DatabaseConfig;

/// Statements run on a connection since it was opened.
#[derive(Debug, Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Opens the pool, creating the SQLite file's folder if needed.
pub async fn connect(
    config: &DatabaseConfig,
) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    connect_url(config.url.expose(), config.max_connections).await
}

pub async fn connect_url(
    url: &str,
    max_connections: u32,
) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    let folder = sqlite_path(url)
        .and_then(|p| std::path::Path::new(p).parent())
        .filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = folder {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    let mut conn = Database::connect(options).await?;
    let counter = StatementCounter::default();
    let c = counter.0.clone();
    conn.set_metric_callback(move |_info| {
        c.fetch_add(1, Ordering::Relaxed);
    });
    if url.starts_with("sqlite:") && sqlite_path(url).is_some() {
        // WAL lets readers proceed while the single writer commits.
        use sea_orm::ConnectionTrait;
        conn.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok((conn, counter))
}

/// The file path of a `sqlite://path?...` URL, `None` for in-memory databases.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://data/x.sqlite?mode=rwc"),
            Some("data/x.sqlite")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x"), None);
    }

    #[tokio::test]
    async fn counts_statements() {
        use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
        let (db, counter) = connect_url("sqlite::memory:", 1).await.unwrap();
        let before = counter.get();
        for sql in ["SELECT 1", "SELECT 2"] {
            db.query_all_raw(Statement::from_string(DatabaseBackend::Sqlite, sql))
                .await
                .unwrap();
        }
        assert_eq!(counter.get() - before, 2);
    }
}
