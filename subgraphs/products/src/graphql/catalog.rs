//! The catalog's part of the schema: `Product`, the `products` connection and the admin
//! mutations.
//!
//! Conventions other subgraphs follow:
//! - a missing product is a `NOT_FOUND` error on a nullable field, so it nulls only that
//!   field. Federation's `_entities` is the exception: an unknown id resolves to `null`,
//!   because one stale reference must not fail the whole batch it arrived in;
//! - lists are Relay connections (`edges { cursor node }`, `pageInfo`, `totalCount`) with
//!   opaque keyset cursors; `first`/`after` pages forward, `last`/`before` backward;
//! - each mutation takes one `input` and returns a payload; authorisation is checked before
//!   the input is looked at, and input errors name the field (`input.price.amount`).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject, dataloader::DataLoader};
use chrono::{DateTime, Utc};
use kit::{
    ApiError, Money,
    auth::auth_from_ctx,
    connection::{Connection, ListSchema, Listed, TypeText, asks_for_total},
    graphql::{PageRequest, parse_id},
    money::MoneyInput,
};

use crate::catalog::{
    Catalog, CatalogError, NewProduct, Product, ProductChanges,
    listing::{Filter, ListRequest, Sort},
    loader::ProductLoader,
    valid_description, valid_name,
};

fn catalog<'a>(ctx: &Context<'a>) -> Result<&'a Catalog, ApiError> {
    ctx.data::<Catalog>()
        .map_err(|e| ApiError::internal(format!("schema built without a catalog: {}", e.message)))
}

/// An item of the catalog.
#[Object]
impl Product {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The display name.
    async fn name(&self) -> &str {
        &self.name
    }

    /// A longer text; may be empty.
    async fn description(&self) -> &str {
        &self.description
    }

    /// The current unit price.
    async fn price(&self) -> Money {
        self.price
    }

    /// Whether the product can be ordered. Deleted products stay readable (orders refer to
    /// them) but are not available.
    async fn available(&self) -> bool {
        self.is_available()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

/// Narrows a product list; every given criterion must hold.
#[derive(InputObject, Debug, Default)]
pub struct ProductFilter {
    /// Only available (`true`) or only deleted (`false`) products; both when omitted.
    pub available: Option<bool>,
    /// Lowest price, inclusive. Restricts the list to its currency.
    pub min_price: Option<MoneyInput>,
    /// Highest price, inclusive. Restricts the list to its currency.
    pub max_price: Option<MoneyInput>,
    /// Text the name contains, ignoring case. `%` and `_` match themselves.
    pub name_contains: Option<String>,
}

/// A page of products: `ProductConnection`, with `ProductEdge`s.
impl Listed for Product {
    const SCHEMA: ListSchema = ListSchema {
        connection: TypeText {
            description: None,
            fields: &[
                ("edges", None),
                ("pageInfo", None),
                (
                    "totalCount",
                    Some("How many products match the filter, on all pages."),
                ),
            ],
            shareable: false,
        },
        edge: TypeText {
            description: Some("A product and its position in the list."),
            fields: &[
                (
                    "cursor",
                    Some("Opaque; pass it as `after` or `before` to continue from this product."),
                ),
                ("node", None),
            ],
            shareable: false,
        },
    };
}

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// One product by id, whether available or not. An unknown id is a `NOT_FOUND` error.
    async fn product(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>, ApiError> {
        let id = parse_id(&id, "id")?;
        Ok(Some(catalog(ctx)?.get(id).await?))
    }

    /// The catalog, a page at a time: `first` (default 20, at most 100) after the `after`
    /// cursor, or `last` before the `before` cursor.
    #[allow(clippy::too_many_arguments)]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ProductFilter>,
        #[graphql(default)] sort: Sort,
    ) -> Result<Connection<Product>, ApiError> {
        let page = PageRequest::new(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = Filter::new(
            filter.available,
            filter.min_price.as_ref(),
            filter.max_price.as_ref(),
            filter.name_contains.as_deref(),
        )?;
        let request = ListRequest {
            page,
            filter,
            sort,
            counts_total: asks_for_total(ctx),
        };
        Ok(catalog(ctx)?.list(request).await?)
    }

    /// Federation: resolves `Product` references from other subgraphs, batched into one
    /// statement per `_entities` call. An unknown id resolves to `null`.
    #[graphql(entity)]
    async fn find_product_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Product>, ApiError> {
        let id = parse_id(&id, "id")?;
        let loader = ctx.data::<DataLoader<ProductLoader>>().map_err(|e| {
            ApiError::internal(format!(
                "schema built without a product loader: {}",
                e.message
            ))
        })?;
        loader
            .load_one(id)
            .await
            .map_err(|e: std::sync::Arc<CatalogError>| ApiError::from(&*e))
    }
}

#[derive(InputObject)]
pub struct CreateProductInput {
    /// 1 to 200 characters once trimmed.
    pub name: String,
    /// At most 5000 characters.
    #[graphql(default)]
    pub description: String,
    /// Not negative, with no more decimals than the currency has.
    pub price: MoneyInput,
}

/// Fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateProductInput {
    pub id: ID,
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<MoneyInput>,
}

#[derive(InputObject)]
pub struct DeleteProductInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct RestoreProductInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct CreateProductPayload {
    pub product: Product,
}

#[derive(SimpleObject)]
pub struct UpdateProductPayload {
    pub product: Product,
}

#[derive(SimpleObject)]
pub struct DeleteProductPayload {
    pub product: Product,
}

#[derive(SimpleObject)]
pub struct RestoreProductPayload {
    pub product: Product,
}

#[derive(Default)]
pub struct CatalogMutation;

/// Catalog management; every mutation requires the `ADMIN` role.
#[Object]
impl CatalogMutation {
    /// Adds a product to the catalog, available at once. Requires the `ADMIN` role.
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        input: CreateProductInput,
    ) -> Result<CreateProductPayload, ApiError> {
        auth_from_ctx(ctx).require_admin()?;
        let new = NewProduct {
            name: valid_name(&input.name, "input.name")?,
            description: valid_description(&input.description, "input.description")?,
            price: input.price.parse("input.price")?,
        };
        let product = catalog(ctx)?.create(new).await?;
        tracing::info!(product_id = %product.id, "product created");
        Ok(CreateProductPayload { product })
    }

    /// Changes a product that is not deleted; a deleted product is a `CONFLICT`. Requires
    /// the `ADMIN` role.
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        input: UpdateProductInput,
    ) -> Result<UpdateProductPayload, ApiError> {
        auth_from_ctx(ctx).require_admin()?;
        let id = parse_id(&input.id, "input.id")?;
        let changes = ProductChanges {
            name: input
                .name
                .as_deref()
                .map(|n| valid_name(n, "input.name"))
                .transpose()?,
            description: input
                .description
                .as_deref()
                .map(|d| valid_description(d, "input.description"))
                .transpose()?,
            price: input
                .price
                .as_ref()
                .map(|p| p.parse("input.price"))
                .transpose()?,
        };
        let product = catalog(ctx)?.update(id, changes).await?;
        Ok(UpdateProductPayload { product })
    }

    /// Soft-deletes a product: it stays readable but becomes unavailable and cannot be
    /// edited. Deleting a deleted product succeeds and changes nothing. Requires the `ADMIN`
    /// role.
    async fn delete_product(
        &self,
        ctx: &Context<'_>,
        input: DeleteProductInput,
    ) -> Result<DeleteProductPayload, ApiError> {
        auth_from_ctx(ctx).require_admin()?;
        let id = parse_id(&input.id, "input.id")?;
        let product = catalog(ctx)?.delete(id).await?;
        tracing::info!(product_id = %product.id, "product deleted");
        Ok(DeleteProductPayload { product })
    }

    /// Makes a deleted product available again; restoring an available one changes nothing.
    /// Requires the `ADMIN` role.
    async fn restore_product(
        &self,
        ctx: &Context<'_>,
        input: RestoreProductInput,
    ) -> Result<RestoreProductPayload, ApiError> {
        auth_from_ctx(ctx).require_admin()?;
        let id = parse_id(&input.id, "input.id")?;
        let product = catalog(ctx)?.restore(id).await?;
        tracing::info!(product_id = %product.id, "product restored");
        Ok(RestoreProductPayload { product })
    }
}
