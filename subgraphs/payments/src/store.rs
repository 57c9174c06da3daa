//! Row locking that works on both stores the service runs on.
//!
//! PostgreSQL takes a row lock with `SELECT ... FOR UPDATE`, so concurrent webhooks and
//! checkouts for one payment queue up behind each other. SQLite has no such clause; there
//! (embedded mode, one connection) the single writer already serialises transactions.

use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait, QuerySelect, Select};

pub fn lock_for_update<E: EntityTrait>(query: Select<E>, conn: &impl ConnectionTrait) -> Select<E> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        query.lock_exclusive()
    } else {
        query
    }
}
