//! Dropping federation plumbing: the types and fields that only serve the federation
//! protocol (`_service`, `_entities`, `_Any`, `_Service`, `FieldSet`, `link__*`, ...) are
//! a subgraph's business with the router, not part of the supergraph.

use std::collections::BTreeMap;

use super::model::{Kind, TypeDef};

/// Removes the plumbing types, and the plumbing fields of the remaining types.
pub(super) fn drop_plumbing(types: &mut BTreeMap<String, TypeDef>) {
    types.retain(|n, t| !is_plumbing_type(n, t.kind));
    for ty in types.values_mut() {
        ty.fields.retain(|f| !is_plumbing_field(&f.name));
    }
}

/// Types that only exist to serve the federation protocol itself. `FieldSet` is only
/// plumbing as a scalar: an object of that name is the subgraph's own.
fn is_plumbing_type(name: &str, kind: Kind) -> bool {
    matches!(name, "_Any" | "_Entity" | "_Service")
        || (kind == Kind::Scalar && matches!(name, "_FieldSet" | "FieldSet"))
        || name.starts_with("federation__")
        || name.starts_with("link__")
        || name.starts_with("join__")
}

fn is_plumbing_field(name: &str) -> bool {
    matches!(name, "_service" | "_entities")
}
