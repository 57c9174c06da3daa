//! Access tokens as GraphQL services see them.
//!
//! Verification, claims, roles and signing keys are the platform's ([`platform::auth`],
//! re-exported here). This module adds what needs the GraphQL layer: the caller as
//! resolvers see it ([`Auth`], read with [`auth_from_ctx`]), what an [`AuthError`] looks
//! like to clients (an [`ApiError`]), and [`GraphqlRole`], the `Role` enum of a schema.

pub use platform::auth::*;

use crate::ApiError;

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::KeysUnavailable => {
                ApiError::unavailable("authentication is temporarily unavailable")
            }
            other => ApiError::new(crate::ErrorCode::Unauthenticated, other.to_string()),
        }
    }
}

/// The result of looking at a request's `Authorization` header, stored in the GraphQL
/// context so resolvers can decide what needs a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Anonymous,
    User(Principal),
    /// A token was sent but is not valid; any resolver needing a caller reports why.
    Invalid(AuthError),
}

impl Auth {
    /// Turns an optional `Authorization` header into an [`Auth`] for the GraphQL context. A
    /// request without the header never waits for the keys.
    pub async fn from_headers(verifier: &JwksVerifier, headers: &http::HeaderMap) -> Self {
        match verifier.caller(headers).await {
            Ok(None) => Auth::Anonymous,
            Ok(Some(p)) => Auth::User(p),
            Err(e) => Auth::Invalid(e),
        }
    }

    /// The caller, or `UNAUTHENTICATED`.
    pub fn require_user(&self) -> Result<Principal, ApiError> {
        match self {
            Auth::User(p) => Ok(*p),
            Auth::Anonymous => Err(ApiError::unauthenticated()),
            Auth::Invalid(e) => Err(e.clone().into()),
        }
    }

    /// The caller if an admin; `UNAUTHENTICATED` without a valid token, `FORBIDDEN` otherwise.
    pub fn require_admin(&self) -> Result<Principal, ApiError> {
        let p = self.require_user()?;
        if p.is_admin() {
            Ok(p)
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// Reads the GraphQL context's [`Auth`]; a schema served without one treats callers as anonymous.
pub fn auth_from_ctx<'a>(ctx: &'a async_graphql::Context<'_>) -> &'a Auth {
    static ANONYMOUS: Auth = Auth::Anonymous;
    ctx.data_opt::<Auth>().unwrap_or(&ANONYMOUS)
}

// [`Role`] in a GraphQL schema, named `Role` there; it converts to and from [`Role`]. The doc
// comment is the schema's description of the enum.
/// What a user may do; carried in the token's `role` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(name = "Role", remote = "platform::auth::Role")]
pub enum GraphqlRole {
    Customer,
    Admin,
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn token_errors_are_unauthenticated_and_missing_keys_unavailable() {
        for err in [
            AuthError::NotYetValid,
            AuthError::IssuedInFuture,
            AuthError::Expired,
        ] {
            assert_eq!(ApiError::from(err).code, crate::ErrorCode::Unauthenticated);
        }
        assert_eq!(
            ApiError::from(AuthError::KeysUnavailable).code,
            crate::ErrorCode::ServiceUnavailable
        );
    }

    #[test]
    fn auth_roles() {
        let customer = Auth::User(Principal {
            user_id: Uuid::nil(),
            role: Role::Customer,
        });
        assert_eq!(
            customer.require_admin().unwrap_err().code,
            crate::ErrorCode::Forbidden
        );
        assert_eq!(
            Auth::Anonymous.require_user().unwrap_err().code,
            crate::ErrorCode::Unauthenticated
        );
        assert_eq!(
            Auth::Invalid(AuthError::Expired)
                .require_admin()
                .unwrap_err()
                .code,
            crate::ErrorCode::Unauthenticated
        );
    }

    #[test]
    fn the_graphql_role_is_the_token_role() {
        for role in [Role::Customer, Role::Admin] {
            assert_eq!(Role::from(GraphqlRole::from(role)), role);
        }
    }
}
