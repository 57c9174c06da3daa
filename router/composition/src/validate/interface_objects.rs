//! Across subgraphs: an `@interfaceObject` needs a subgraph that defines the type as an
//! interface with a `@key`, and a `@key` of its own.

use super::error;
use crate::error::{CompositionError, ErrorCode};
use crate::merge::Source;
use crate::subgraph::Kind;

pub(super) fn interface_object_usage(
    name: &str,
    sources: &[Source<'_>],
    errors: &mut Vec<CompositionError>,
) {
    let backed = sources
        .iter()
        .any(|(_, t)| t.kind == Kind::Interface && t.is_entity());
    if !backed {
        errors.push(
            CompositionError::new(
                ErrorCode::InterfaceObjectUsageError,
                format!("\"{name}\" is an @interfaceObject but no subgraph defines it as an interface with a @key"),
            )
            .with_subgraphs(sources.iter().map(|(sg, _)| sg.name.clone()))
            .with_coordinates([name]),
        );
    }
    for (sg, t) in sources {
        if t.interface_object && !t.is_entity() {
            errors.push(
                error(
                    ErrorCode::InterfaceObjectUsageError,
                    format!(
                        "@interfaceObject \"{name}\" in subgraph \"{}\" has no @key",
                        sg.name
                    ),
                    sg,
                )
                .with_coordinates([name]),
            );
        }
    }
}
