//! Interfaces implemented in a subgraph: every interface field is implemented, an entity
//! interface's keys are on its implementations, and an `@external` field restated for an
//! interface counts as used.

use std::collections::BTreeSet;

use super::error;
use crate::error::{CompositionError, ErrorCode};
use crate::fieldset;
use crate::subgraph::{Subgraph, TypeDef};

/// Interface fields must be implemented, an entity interface's keys must be on its
/// implementations, and an `@external` field restated for an interface counts as used.
pub(super) fn implementations(
    sg: &Subgraph,
    ty: &TypeDef,
    used: &mut BTreeSet<(String, String)>,
    errors: &mut Vec<CompositionError>,
) {
    for iface_name in &ty.implements {
        let Some(iface) = sg.ty(iface_name) else {
            continue;
        };
        for f in &iface.fields {
            if ty.field(&f.name).is_some() {
                used.insert((ty.name.clone(), f.name.clone()));
            } else {
                errors.push(
                    error(
                        ErrorCode::InterfaceFieldNoImplem,
                        format!("\"{}\" implements \"{iface_name}\" in subgraph \"{}\" but has no field \"{}\"", ty.name, sg.name, f.name),
                        sg,
                    )
                    .with_coordinates([format!("{}.{}", ty.name, f.name), format!("{iface_name}.{}", f.name)]),
                );
            }
        }
        for key in &iface.keys {
            let wanted = fieldset::normalize(&key.fields);
            if !ty
                .keys
                .iter()
                .any(|k| fieldset::normalize(&k.fields) == wanted)
            {
                errors.push(
                    error(
                        ErrorCode::InterfaceKeyNotOnImplementations,
                        format!(
                            "\"{}\" implements entity interface \"{iface_name}\" in subgraph \"{}\" but lacks its @key(fields: \"{}\")",
                            ty.name, sg.name, key.fields
                        ),
                        sg,
                    )
                    .with_coordinates([ty.name.clone(), iface_name.clone()]),
                );
            }
        }
    }
}
