//! The users subgraph's schema: the `User` entity and queries ([`user`]), the session
//! mutations ([`session`]) and administration ([`admin`]).

pub mod admin;
pub mod session;
pub mod user;

use async_graphql::{Context, EmptySubscription, MergedObject, Schema, SchemaBuilder};
use kit::ApiError;

use crate::{accounts::Accounts, metrics::AuthMetrics, sessions::Sessions};

#[derive(MergedObject, Default)]
pub struct Query(user::UserQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(session::SessionMutation, admin::AdminMutation);

pub type UsersSchema = Schema<Query, Mutation, EmptySubscription>;

fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    kit::graphql::harden(Schema::build(
        Query::default(),
        Mutation::default(),
        EmptySubscription,
    ))
    .enable_federation()
}

/// The executable schema, with the services resolvers use.
pub fn schema(accounts: Accounts, sessions: Sessions, metrics: AuthMetrics) -> UsersSchema {
    let loader = user::UserLoader::data_loader(accounts.store().clone());
    builder()
        .data(accounts)
        .data(sessions)
        .data(loader)
        .data(metrics)
        .finish()
}

/// The Federation SDL, printable without any store (`print-schema`, the drift test).
pub fn sdl() -> String {
    kit::graphql::federation_sdl(&builder().finish())
}

fn accounts<'a>(ctx: &Context<'a>) -> Result<&'a Accounts, ApiError> {
    ctx.data::<Accounts>()
        .map_err(|e| ApiError::internal(format!("schema built without accounts: {}", e.message)))
}

fn sessions<'a>(ctx: &Context<'a>) -> Result<&'a Sessions, ApiError> {
    ctx.data::<Sessions>()
        .map_err(|e| ApiError::internal(format!("schema built without sessions: {}", e.message)))
}

fn metrics<'a>(ctx: &Context<'a>) -> Option<&'a AuthMetrics> {
    ctx.data_opt::<AuthMetrics>()
}
