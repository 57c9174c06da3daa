//! The catalog: products, their prices and their availability.
//!
//! [`Catalog`] is the store (one sea-orm connection, PostgreSQL or SQLite), [`listing`]
//! turns Relay arguments into keyset queries, [`loader`] batches entity look-ups, and
//! [`crate::graphql::catalog`] is the part of the schema clients see. Every failure of this module is a
//! [`CatalogError`], turned into the client-facing [`ApiError`] in exactly one place below.
//!
//! Rules kept here rather than in the resolvers:
//! - a product is never removed, only soft-deleted: it becomes unavailable, stays readable
//!   (orders keep pointing at it) and cannot be edited until it is restored;
//! - names are trimmed, non-empty, at most [`MAX_NAME_CHARS`] characters, without control
//!   characters; descriptions at most [`MAX_DESCRIPTION_CHARS`];
//! - prices are non-negative integer minor units of an ISO 4217 currency.

pub(crate) mod entity;
pub mod listing;
pub mod loader;
mod store;

use chrono::{DateTime, Utc};
use kit::{ApiError, Currency, Money};
use uuid::Uuid;

pub use store::{Catalog, NewProduct, ProductChanges};

/// Longest accepted product name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest accepted description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Input a client sent that cannot be accepted; `field` is the input path.
    #[error("{field}: {message}")]
    InvalidInput { field: String, message: String },
    #[error("product {0} not found")]
    NotFound(Uuid),
    #[error("product {0} is deleted and cannot be edited")]
    Deleted(Uuid),
    /// A stored row the service cannot represent (e.g. an unknown currency written by hand).
    #[error("product {id} has an invalid stored value: {detail}")]
    CorruptRow { id: Uuid, detail: String },
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl CatalogError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Errors that common helpers (pagination, cursors, money) already shaped for clients.
impl From<ApiError> for CatalogError {
    fn from(err: ApiError) -> Self {
        Self::InvalidInput {
            field: err.field.unwrap_or_default(),
            message: err.message,
        }
    }
}

impl From<&CatalogError> for ApiError {
    fn from(err: &CatalogError) -> Self {
        match err {
            CatalogError::InvalidInput { field, message } => {
                ApiError::bad_input(field.as_str(), message.as_str())
            }
            CatalogError::NotFound(_) => ApiError::not_found("product"),
            CatalogError::Deleted(_) => {
                ApiError::conflict("the product is deleted; restore it before editing it")
            }
            CatalogError::CorruptRow { .. } | CatalogError::Database(_) => ApiError::internal(err),
        }
    }
}

impl From<CatalogError> for ApiError {
    fn from(err: CatalogError) -> Self {
        ApiError::from(&err)
    }
}

/// A product as the rest of the service handles it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Product {
    /// Whether the product can be ordered: it is not soft-deleted.
    pub fn is_available(&self) -> bool {
        self.deleted_at.is_none()
    }
}

impl TryFrom<entity::Model> for Product {
    type Error = CatalogError;

    fn try_from(row: entity::Model) -> Result<Self, Self::Error> {
        let currency = Currency::parse(&row.currency).map_err(|e| CatalogError::CorruptRow {
            id: row.id,
            detail: e.to_string(),
        })?;
        Ok(Self {
            id: row.id,
            name: row.name,
            description: row.description,
            price: Money::from_minor(row.price_minor, currency),
            created_at: row.created_at,
            updated_at: row.updated_at,
            deleted_at: row.deleted_at,
        })
    }
}

/// The key names are ordered and searched by: case-insensitive on both backends, because the
/// service folds it rather than relying on each database's collation.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// A trimmed, non-empty name of bounded length.
pub(crate) fn valid_name(raw: &str, field: &str) -> Result<String, CatalogError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(CatalogError::invalid(field, "the name must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(CatalogError::invalid(
            field,
            format!("the name must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    kit::text::single_line(field, name)?;
    Ok(name.to_owned())
}

/// A trimmed description of bounded length; empty is allowed.
pub(crate) fn valid_description(raw: &str, field: &str) -> Result<String, CatalogError> {
    let description = kit::text::multi_line(field, raw.trim())?;
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(CatalogError::invalid(
            field,
            format!("the description must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(description.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kit::ErrorCode;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(valid_name("  Teapot \n", "input.name").unwrap(), "Teapot");
        for bad in ["", "   ", "a\u{0}b", "tab\there"] {
            let err = valid_name(bad, "input.name").unwrap_err();
            assert!(
                matches!(&err, CatalogError::InvalidInput { field, .. } if field == "input.name"),
                "{bad:?}"
            );
        }
        let longest = "é".repeat(MAX_NAME_CHARS);
        assert_eq!(valid_name(&longest, "n").unwrap(), longest);
        assert!(valid_name(&format!("{longest}x"), "n").is_err());
    }

    #[test]
    fn descriptions_are_bounded_but_may_be_empty() {
        assert_eq!(valid_description("  ", "d").unwrap(), "");
        assert_eq!(
            valid_description("line one\nline two", "d").unwrap(),
            "line one\nline two"
        );
        assert!(valid_description(&"x".repeat(MAX_DESCRIPTION_CHARS + 1), "d").is_err());
        let err = valid_description("one\u{0}two", "input.description").unwrap_err();
        assert!(
            matches!(&err, CatalogError::InvalidInput { field, .. } if field == "input.description")
        );
    }

    #[test]
    fn errors_map_to_stable_codes_without_detail() {
        let id = Uuid::now_v7();
        let bad = ApiError::from(CatalogError::invalid("input.name", "empty"));
        assert_eq!(
            (bad.code, bad.field.as_deref()),
            (ErrorCode::BadUserInput, Some("input.name"))
        );
        assert_eq!(
            ApiError::from(CatalogError::NotFound(id)).code,
            ErrorCode::NotFound
        );
        assert_eq!(
            ApiError::from(CatalogError::Deleted(id)).code,
            ErrorCode::Conflict
        );
        let db = ApiError::from(CatalogError::Database(sea_orm::DbErr::Custom(
            "relation \"products\" does not exist".into(),
        )));
        assert_eq!(db.code, ErrorCode::InternalServerError);
        assert!(!db.message.contains("relation"));
    }

    #[test]
    fn name_key_folds_case() {
        assert_eq!(name_key("Crème BRÛLÉE"), "crème brûlée");
    }
}
