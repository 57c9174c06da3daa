//! Account administration: changing a user's role (admins only).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use kit::{
    ApiError,
    auth::{GraphqlRole, auth_from_ctx},
    graphql::parse_id,
};

use super::{accounts, user::User};

#[derive(InputObject)]
pub struct SetUserRoleInput {
    pub user_id: ID,
    pub role: GraphqlRole,
}

#[derive(SimpleObject)]
pub struct SetUserRolePayload {
    pub user: User,
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Gives a user another role (admins only; not one's own). The user's access tokens
    /// carry the old role until they expire; the next refresh carries the new one.
    async fn set_user_role(
        &self,
        ctx: &Context<'_>,
        input: SetUserRoleInput,
    ) -> Result<SetUserRolePayload, ApiError> {
        let caller = auth_from_ctx(ctx).require_admin()?;
        let user_id = parse_id(&input.user_id, "input.userId")?;
        let user = accounts(ctx)?
            .set_role(caller, user_id, input.role.into())
            .await?;
        Ok(SetUserRolePayload {
            user: User::new(user),
        })
    }
}
