//! The account and session mutations anyone may call: `register`, `login`,
//! `refreshSession` and `logout`.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use kit::{ApiError, auth::Role};

use super::{accounts, metrics, sessions, user::User};
use crate::{
    accounts::{AccountError, ClientAddress},
    sessions::{IssuedSession, SessionError},
    store::UserRecord,
};

#[derive(InputObject)]
pub struct RegisterInput {
    /// Stored trimmed and lower-cased; must be unique.
    pub email: String,
    /// 1 to 100 characters once trimmed.
    pub name: String,
    /// 12 to 128 characters, not containing the email's local part or the name.
    pub password: String,
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

#[derive(InputObject)]
pub struct RefreshSessionInput {
    pub refresh_token: String,
}

#[derive(InputObject)]
pub struct LogoutInput {
    pub refresh_token: String,
}

/// A signed-in user and their tokens. Send the access token as `Authorization: Bearer`;
/// exchange the refresh token with `refreshSession` before the access token expires. Each
/// refresh token works once.
#[derive(SimpleObject)]
pub struct AuthPayload {
    pub user: User,
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
}

impl AuthPayload {
    fn new(user: UserRecord, session: IssuedSession) -> Self {
        Self {
            user: User::for_owner(user),
            access_token: session.access_token,
            access_token_expires_at: session.access_token_expires_at,
            refresh_token: session.refresh_token,
            refresh_token_expires_at: session.refresh_token_expires_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// Always true: the session is ended.
    pub success: bool,
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Creates a customer account and signs it in. A taken email is a `CONFLICT`.
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> Result<AuthPayload, ApiError> {
        kit::text::single_line("input.email", &input.email)?;
        kit::text::single_line("input.name", &input.name)?;
        kit::text::single_line("input.password", &input.password)?;
        let user = accounts(ctx)?
            .register(&input.email, &input.name, &input.password, Role::Customer)
            .await?;
        tracing::info!(user_id = %user.id, "account registered");
        if let Some(m) = metrics(ctx) {
            m.registered();
        }
        let session = sessions(ctx)?.start(&user).await?;
        Ok(AuthPayload::new(user, session))
    }

    /// Signs in. Every failure is the same `UNAUTHENTICATED` error; repeated failures from
    /// one client make that client wait longer and longer. `SERVICE_UNAVAILABLE` when too
    /// many logins are being checked at once (try again shortly).
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<AuthPayload, ApiError> {
        kit::text::single_line("input.email", &input.email)?;
        kit::text::single_line("input.password", &input.password)?;
        let client = ctx.data_opt::<kit::graphql::ClientIp>().map(|c| c.0);
        let result = accounts(ctx)?
            .login(&input.email, &input.password, ClientAddress(client))
            .await;
        if let (Some(m), Ok(_) | Err(AccountError::InvalidCredentials)) = (metrics(ctx), &result) {
            m.login(result.is_ok());
        }
        let user = result?;
        let session = sessions(ctx)?.start(&user).await?;
        Ok(AuthPayload::new(user, session))
    }

    /// Exchanges a refresh token for new tokens. Using a refresh token a second time ends
    /// the whole session (it was probably stolen).
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        input: RefreshSessionInput,
    ) -> Result<AuthPayload, ApiError> {
        kit::text::single_line("input.refreshToken", &input.refresh_token)?;
        let result = sessions(ctx)?.refresh(&input.refresh_token).await;
        if let Some(m) = metrics(ctx) {
            m.refresh(match &result {
                Ok(_) => "success",
                Err(SessionError::Reused) => "reused",
                Err(SessionError::Keys(_) | SessionError::Store(_)) => "error",
                Err(_) => "refused",
            });
        }
        let (user, session) = result?;
        Ok(AuthPayload::new(user, session))
    }

    /// Ends the session the refresh token belongs to. Access tokens already issued stay
    /// valid until they expire, which is why they are short-lived.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        input: LogoutInput,
    ) -> Result<LogoutPayload, ApiError> {
        kit::text::single_line("input.refreshToken", &input.refresh_token)?;
        sessions(ctx)?.logout(&input.refresh_token).await?;
        Ok(LogoutPayload { success: true })
    }
}
