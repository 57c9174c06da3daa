//! Answers the payments service's question "what does this order cost, and whose is it?"
//! (`rpc.orders.payable`) from the stored order and its price snapshot, so a checkout is
//! always charged what the order says, never a price sent by a client.

use kit::{
    ErrorCode,
    bus::{BusError, EventBus, Worker, json_handler},
    contracts::{OrderLine, PayableOrder, PayableOrderReply, PayableOrderRequest, Reply, subjects},
};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::entities::{order, order_item};

#[derive(Debug, thiserror::Error)]
pub enum PayableError {
    #[error("order not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The one place these errors become a reply; database detail stays in the log.
impl From<PayableError> for PayableOrderReply {
    fn from(err: PayableError) -> Self {
        match err {
            PayableError::NotFound => Reply::error(ErrorCode::NotFound, "order not found", vec![]),
            PayableError::Db(e) => {
                tracing::error!(error = %e, "cannot answer a payable-order request");
                Reply::error(
                    ErrorCode::ServiceUnavailable,
                    "orders cannot answer right now",
                    vec![],
                )
            }
        }
    }
}

/// Starts answering `rpc.orders.payable`; replicas share the requests.
pub async fn serve(bus: &dyn EventBus, db: DatabaseConnection) -> Result<Worker, BusError> {
    let handler = json_handler(
        move |request: PayableOrderRequest| {
            let db = db.clone();
            async move {
                match payable(&db, &request).await {
                    Ok(order) => Reply::ok(order),
                    Err(e) => e.into(),
                }
            }
        },
        PayableOrderReply::bad_request,
    );
    bus.serve(subjects::RPC_ORDERS_PAYABLE, handler).await
}

/// The order with its lines and total, as stored.
pub async fn payable(
    db: &DatabaseConnection,
    request: &PayableOrderRequest,
) -> Result<PayableOrder, PayableError> {
    let order = order::Entity::find_by_id(request.order_id)
        .one(db)
        .await?
        .ok_or(PayableError::NotFound)?;
    let lines = order_item::Entity::find()
        .filter(order_item::Column::OrderId.eq(order.id))
        .order_by_asc(order_item::Column::Position)
        .all(db)
        .await?;
    Ok(PayableOrder {
        order_id: order.id,
        user_id: order.user_id,
        status: order.status,
        currency: order.currency,
        total_minor: order.total_minor,
        lines: lines
            .into_iter()
            .map(|l| OrderLine {
                product_id: l.product_id,
                name: l.product_name,
                unit_price_minor: l.unit_price_minor,
                quantity: l.quantity,
                line_total_minor: l.line_total_minor,
            })
            .collect(),
    })
}
