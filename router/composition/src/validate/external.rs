//! The last check on a subgraph of its own: every `@external` field is used by some
//! `@key`, `@requires`, `@provides` or interface, as recorded by the earlier checks.

use std::collections::BTreeSet;

use super::error;
use crate::error::{CompositionError, ErrorCode};
use crate::subgraph::Subgraph;

/// Reports the `@external` fields of `sg` that are not in `used`.
pub(super) fn unused(
    sg: &Subgraph,
    used: &BTreeSet<(String, String)>,
    errors: &mut Vec<CompositionError>,
) {
    for ty in sg.types.values() {
        for f in ty.fields.iter().filter(|f| f.external) {
            if !used.contains(&(ty.name.clone(), f.name.clone())) {
                errors.push(
                    error(
                        ErrorCode::ExternalUnused,
                        format!(
                            "field \"{}.{}\" is @external in subgraph \"{}\" but no @key, @requires or @provides uses it",
                            ty.name, f.name, sg.name
                        ),
                        sg,
                    )
                    .with_coordinates([format!("{}.{}", ty.name, f.name)]),
                );
            }
        }
    }
}
