//! Batched product look-ups for federation's `_entities`.
//!
//! The router resolves every `Product` referenced by a subgraph response in one `_entities`
//! call; async-graphql resolves its representations concurrently, and this loader gathers
//! them into a single `WHERE id IN (...)` statement. The loader keeps no cache, so it is
//! shared by all requests: batching across concurrent requests is a bonus, and no request
//! ever sees another request's stale data.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use uuid::Uuid;

use super::{Catalog, CatalogError, Product};

pub struct ProductLoader {
    catalog: Catalog,
}

impl ProductLoader {
    /// A loader ready to put into the schema's data.
    pub fn data_loader(catalog: Catalog) -> DataLoader<ProductLoader> {
        DataLoader::new(ProductLoader { catalog }, tokio::spawn)
    }
}

impl Loader<Uuid> for ProductLoader {
    type Value = Product;
    type Error = Arc<CatalogError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Product>, Self::Error> {
        self.catalog.get_many(keys).await.map_err(Arc::new)
    }
}
