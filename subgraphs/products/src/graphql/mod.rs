//! The products subgraph's schema: the features' roots merged, hardened and federated.

use async_graphql::{EmptySubscription, MergedObject, Schema, SchemaBuilder};
use kit::graphql::{federation_sdl, harden};

pub mod catalog;

use crate::catalog::{Catalog, loader::ProductLoader};
use catalog::{CatalogMutation, CatalogQuery};

#[derive(MergedObject, Default)]
pub struct Query(CatalogQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(CatalogMutation);

pub type ProductsSchema = Schema<Query, Mutation, EmptySubscription>;

fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    harden(Schema::build(
        Query::default(),
        Mutation::default(),
        EmptySubscription,
    ))
    .enable_federation()
}

/// The executable schema, reading and writing through `catalog`.
pub fn schema(catalog: Catalog) -> ProductsSchema {
    builder()
        .data(ProductLoader::data_loader(catalog.clone()))
        .data(catalog)
        .finish()
}

/// The Federation v2 SDL, as committed in `schema/products.graphql`. Needs no database.
pub fn sdl() -> String {
    federation_sdl(&builder().finish())
}
