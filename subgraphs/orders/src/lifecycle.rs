//! The order state machine: which status can follow which, who may trigger each move, and
//! the one function ([`transition`]) through which every status change is written.
//!
//! ```text
//! PENDING --payment--> PAID --admin--> DELIVERED
//!    \--owner or admin--> CANCELLED
//! ```
//!
//! A change is a conditional `UPDATE ... WHERE status = <the status it was read with>`, so
//! two concurrent moves of one order cannot both win: the loser re-reads the order and
//! reports a conflict naming the status it found. The event describing the change is
//! written to the outbox in the caller's transaction.

use std::fmt;

use async_graphql::Enum;
use chrono::{DateTime, Utc};
use kit::{
    ApiError,
    auth::Principal,
    contracts::{OrderCancelled, OrderDelivered, OrderPaid},
    outbox::publish,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use kit::outbox::OutboxRelay;

use crate::entities::order;

/// Where an order is in its life.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Placed and waiting for payment.
    Pending,
    /// Paid; waiting to be delivered.
    Paid,
    /// Cancelled before payment.
    Cancelled,
    /// Handed to the customer.
    Delivered,
}

impl OrderStatus {
    /// Every status, in the order of the diagram above.
    pub const ALL: [Self; 4] = [Self::Pending, Self::Paid, Self::Cancelled, Self::Delivered];

    /// Whether an order in this status has been paid for: PAID and every status reachable
    /// from it (DELIVERED). PENDING was never paid and CANCELLED is only reachable before
    /// payment, so neither counts; this is what makes a unit "sold".
    pub const fn is_paid(self) -> bool {
        matches!(self, Self::Paid | Self::Delivered)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Paid => "PAID",
            Self::Cancelled => "CANCELLED",
            Self::Delivered => "DELIVERED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The status stored on `order`; an unknown value means the row was written by something
    /// other than this service and is reported as an internal error.
    pub fn of(order: &order::Model) -> Result<Self, LifecycleError> {
        Self::parse(&order.status)
            .ok_or_else(|| LifecycleError::CorruptStatus(order.id, order.status.clone()))
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request to move an order forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// A confirmed payment; only the `payments.succeeded` consumer issues it.
    Pay { payment_id: Uuid },
    /// The owner or an administrator gives up the order.
    Cancel { by: Principal },
    /// An administrator records the hand-over.
    Deliver { by: Principal },
}

impl Command {
    const fn target(&self) -> OrderStatus {
        match self {
            Command::Pay { .. } => OrderStatus::Paid,
            Command::Cancel { .. } => OrderStatus::Cancelled,
            Command::Deliver { .. } => OrderStatus::Delivered,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("order not found")]
    NotFound,
    #[error("only an administrator can do this")]
    Forbidden,
    #[error("the order is {current} and cannot become {target}")]
    InvalidTransition {
        current: OrderStatus,
        target: OrderStatus,
    },
    #[error("order {0} has an unknown status `{1}`")]
    CorruptStatus(Uuid, String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<LifecycleError> for ApiError {
    fn from(err: LifecycleError) -> Self {
        match err {
            LifecycleError::NotFound => ApiError::not_found("order"),
            LifecycleError::Forbidden => ApiError::forbidden(),
            e @ LifecycleError::InvalidTransition { .. } => ApiError::conflict(e.to_string()),
            e @ (LifecycleError::CorruptStatus(..) | LifecycleError::Db(_)) => {
                ApiError::internal(e)
            }
        }
    }
}

/// The allowed moves, and nothing else.
pub fn next_status(current: OrderStatus, command: &Command) -> Result<OrderStatus, LifecycleError> {
    use OrderStatus::*;
    let target = command.target();
    match (current, target) {
        (Pending, Paid) | (Pending, Cancelled) | (Paid, Delivered) => Ok(target),
        _ => Err(LifecycleError::InvalidTransition { current, target }),
    }
}

/// Who may issue `command` on `order`. A customer asking about someone else's order is told
/// it does not exist, so order ids cannot be probed.
fn authorize(order: &order::Model, command: &Command) -> Result<(), LifecycleError> {
    match command {
        Command::Pay { .. } => Ok(()),
        Command::Cancel { by } if by.is_admin() || by.user_id == order.user_id => Ok(()),
        Command::Cancel { .. } => Err(LifecycleError::NotFound),
        Command::Deliver { by } if by.is_admin() => Ok(()),
        Command::Deliver { .. } => Err(LifecycleError::Forbidden),
    }
}

/// Moves `order` (as read in this transaction) according to `command`, and publishes the
/// event describing the move. Every status change of the service goes through here.
pub async fn transition<C: ConnectionTrait>(
    conn: &C,
    order: &order::Model,
    command: Command,
    now: DateTime<Utc>,
) -> Result<order::Model, LifecycleError> {
    authorize(order, &command)?;
    let current = OrderStatus::of(order)?;
    let target = next_status(current, &command)?;

    let mut moved = order.clone();
    moved.status = target.as_str().to_owned();
    moved.updated_at = now;
    match command {
        Command::Pay { payment_id } => {
            moved.paid_at = Some(now);
            moved.payment_id = Some(payment_id);
        }
        Command::Cancel { .. } => moved.cancelled_at = Some(now),
        Command::Deliver { .. } => moved.delivered_at = Some(now),
    }
    let updated = order::Entity::update_many()
        .set(order::ActiveModel::from(moved.clone()).reset_all())
        .filter(order::Column::Id.eq(order.id))
        .filter(order::Column::Status.eq(current.as_str()))
        .exec(conn)
        .await?;
    if updated.rows_affected == 0 {
        // Someone else moved the order after it was read: report what it is now.
        let fresh = order::Entity::find_by_id(order.id)
            .one(conn)
            .await?
            .ok_or(LifecycleError::NotFound)?;
        let found = OrderStatus::of(&fresh)?;
        return Err(LifecycleError::InvalidTransition {
            current: found,
            target,
        });
    }
    // Only after the update won: a refused move must leave no event behind, even when the
    // caller goes on to commit its transaction.
    publish_event(conn, &moved, command).await?;
    Ok(moved)
}

/// Writes the event describing the move `command` made to `order`.
async fn publish_event<C: ConnectionTrait>(
    conn: &C,
    order: &order::Model,
    command: Command,
) -> Result<(), DbErr> {
    let order_id = order.id;
    match command {
        Command::Pay { payment_id } => {
            let event = OrderPaid {
                order_id,
                payment_id,
            };
            publish(conn, &event).await?;
        }
        Command::Cancel { .. } => {
            let event = OrderCancelled {
                order_id,
                user_id: order.user_id,
            };
            publish(conn, &event).await?;
        }
        Command::Deliver { .. } => {
            publish(conn, &OrderDelivered { order_id }).await?;
        }
    }
    Ok(())
}

/// Applies a caller's command (cancel or deliver) to the order with `order_id` in its own
/// transaction, then wakes the relay.
pub async fn apply_command(
    db: &DatabaseConnection,
    relay: &OutboxRelay,
    order_id: Uuid,
    command: Command,
) -> Result<order::Model, LifecycleError> {
    let txn = db.begin().await?;
    let order = order::Entity::find_by_id(order_id)
        .one(&txn)
        .await?
        .ok_or(LifecycleError::NotFound)?;
    let changed = transition(&txn, &order, command, crate::entities::now()).await?;
    txn.commit().await?;
    relay.notify();
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;
    use kit::auth::Role;

    fn principal(role: Role) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            role,
        }
    }

    #[test]
    fn only_the_three_moves_are_allowed() {
        let admin = principal(Role::Admin);
        let commands = [
            Command::Pay {
                payment_id: Uuid::now_v7(),
            },
            Command::Cancel { by: admin },
            Command::Deliver { by: admin },
        ];
        let mut allowed = Vec::new();
        for from in [Pending, Paid, Cancelled, Delivered] {
            for command in &commands {
                match next_status(from, command) {
                    Ok(to) => allowed.push((from, to)),
                    Err(LifecycleError::InvalidTransition { current, target }) => {
                        assert_eq!((current, target), (from, command.target()));
                    }
                    Err(other) => panic!("unexpected {other:?}"),
                }
            }
        }
        assert_eq!(
            allowed,
            vec![(Pending, Paid), (Pending, Cancelled), (Paid, Delivered)]
        );
    }

    #[test]
    fn refusals_name_the_current_status() {
        let err = next_status(
            Cancelled,
            &Command::Pay {
                payment_id: Uuid::nil(),
            },
        )
        .unwrap_err();
        let api = ApiError::from(err);
        assert_eq!(api.code, kit::ErrorCode::Conflict);
        assert_eq!(api.message, "the order is CANCELLED and cannot become PAID");
    }

    #[test]
    fn who_may_do_what() {
        let owner = principal(Role::Customer);
        let stranger = principal(Role::Customer);
        let admin = principal(Role::Admin);
        let now = Utc::now();
        let order = order::Model {
            id: Uuid::now_v7(),
            user_id: owner.user_id,
            status: "PENDING".into(),
            currency: "EUR".into(),
            total_minor: 100,
            item_count: 1,
            payment_id: None,
            created_at: now,
            updated_at: now,
            paid_at: None,
            cancelled_at: None,
            delivered_at: None,
        };
        assert!(authorize(&order, &Command::Cancel { by: owner }).is_ok());
        assert!(authorize(&order, &Command::Cancel { by: admin }).is_ok());
        assert!(matches!(
            authorize(&order, &Command::Cancel { by: stranger }),
            Err(LifecycleError::NotFound)
        ));
        assert!(matches!(
            authorize(&order, &Command::Deliver { by: owner }),
            Err(LifecycleError::Forbidden)
        ));
        assert!(authorize(&order, &Command::Deliver { by: admin }).is_ok());
    }

    #[test]
    fn paid_is_closed_under_every_move() {
        // Once paid, an order stays paid whatever happens next, so a sale is never
        // counted and later uncounted by a status change.
        let admin = principal(Role::Admin);
        let commands = [
            Command::Pay {
                payment_id: Uuid::nil(),
            },
            Command::Cancel { by: admin },
            Command::Deliver { by: admin },
        ];
        for from in OrderStatus::ALL.into_iter().filter(|s| s.is_paid()) {
            for command in &commands {
                if let Ok(to) = next_status(from, command) {
                    assert!(to.is_paid(), "{from} -> {to}");
                }
            }
        }
        let paid: Vec<OrderStatus> = OrderStatus::ALL
            .into_iter()
            .filter(|s| s.is_paid())
            .collect();
        assert_eq!(paid, vec![Paid, Delivered]);
    }

    #[test]
    fn statuses_round_trip() {
        for s in [Pending, Paid, Cancelled, Delivered] {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::parse("pending"), None);
    }
}
