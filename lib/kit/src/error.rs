//! The error shape every subgraph shows its clients.
//!
//! Modules keep their own `thiserror` enums and convert them into [`ApiError`] in one
//! `From` impl each; this is the single place where an [`ApiError`] becomes a GraphQL
//! error with a stable `extensions.code` (and `extensions.field` for bad input).
//! Internal errors are logged here with their detail and shown to clients with a
//! generic message only, so no SQL, driver or network text ever leaks.

use std::fmt;

/// The stable codes clients can branch on (`extensions.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    BadUserInput,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    ServiceUnavailable,
    InternalServerError,
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::InternalServerError => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The HTTP status a REST endpoint answers with for this code.
    pub const fn http_status(self) -> u16 {
        match self {
            Self::BadUserInput => 400,
            Self::Unauthenticated => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::ServiceUnavailable => 503,
            Self::InternalServerError => 500,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as a client sees it: a code, a message safe to show, and for bad input the
/// name of the offending input field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::BadUserInput,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, "authentication required")
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden, "you are not allowed to do this")
    }

    pub fn not_found(what: impl fmt::Display) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ServiceUnavailable, message)
    }

    /// Logs `detail` and returns an error whose message reveals nothing about it.
    pub fn internal(detail: impl fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(ErrorCode::InternalServerError, "internal server error")
    }
}

// `ApiError` deliberately implements neither `Display` nor `std::error::Error`: async-graphql
// converts every `Display` type into an error without extensions, and that blanket
// conversion would silently drop the code. This way `?` in a resolver always goes through
// the conversion below.

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        use async_graphql::ErrorExtensions as _;
        async_graphql::Error::new(err.message).extend_with(|_, ext| {
            ext.set("code", err.code.as_str());
            if let Some(field) = err.field {
                ext.set("field", field);
            }
        })
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        ApiError::internal(err)
    }
}

/// What resolvers return.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_carries_code_and_field() {
        let gql: async_graphql::Error = ApiError::bad_input("price", "too many decimals").into();
        let ext = gql.extensions.expect("extensions set");
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
        assert_eq!(ext.get("field"), Some(&async_graphql::Value::from("price")));
        assert_eq!(gql.message, "too many decimals");
    }

    #[test]
    fn internal_hides_detail() {
        let err = ApiError::internal("duplicate key value violates unique constraint \"x\"");
        assert_eq!(err.message, "internal server error");
        assert_eq!(err.code, ErrorCode::InternalServerError);
    }
}
