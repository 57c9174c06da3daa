//! Directives where they cannot work: `@requires`/`@provides` on an interface field and
//! `@override` on an `@external` field.

use super::error;
use crate::error::{CompositionError, ErrorCode};
use crate::subgraph::{FieldDef, Kind, Subgraph, TypeDef};

/// `@requires`/`@provides` on an interface field (the planner could not honour them for
/// every implementation) and `@override` on an `@external` field (nothing to take over).
pub(super) fn misplaced_directives(
    sg: &Subgraph,
    ty: &TypeDef,
    f: &FieldDef,
    coordinate: &str,
    errors: &mut Vec<CompositionError>,
) {
    if ty.kind == Kind::Interface {
        for (present, code, name) in [
            (
                f.requires.is_some(),
                ErrorCode::RequiresUnsupportedOnInterface,
                "@requires",
            ),
            (
                f.provides.is_some(),
                ErrorCode::ProvidesUnsupportedOnInterface,
                "@provides",
            ),
        ] {
            if present {
                errors.push(
                    error(code, format!("{name} on interface field \"{coordinate}\" is not supported; put it on the implementations"), sg)
                        .with_coordinates([coordinate.to_owned()]),
                );
            }
        }
    }
    if f.override_from.is_some() && f.external {
        errors.push(
            error(
                ErrorCode::OverrideCollisionWithAnotherDirective,
                format!(
                    "\"{coordinate}\" is both @external and @override in subgraph \"{}\"",
                    sg.name
                ),
                sg,
            )
            .with_coordinates([coordinate.to_owned()]),
        );
    }
}
