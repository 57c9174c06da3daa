//! Across subgraphs, one object field at a time: some subgraph must resolve it (not
//! `@external` everywhere), overrides do not chain, and a field resolved by several
//! subgraphs is `@shareable` (or a key field) in each of them.

use crate::error::{CompositionError, ErrorCode};
use crate::merge::Source;
use crate::merge::composite::{field_sources, key_field_coordinates};

pub(super) fn field_across(
    type_name: &str,
    sources: &[Source<'_>],
    field: &str,
    errors: &mut Vec<CompositionError>,
) {
    let coordinate = format!("{type_name}.{field}");
    let contributions = field_sources(sources, field);
    let all_subgraphs = || {
        contributions
            .iter()
            .map(|c| c.subgraph.name.clone())
            .collect::<Vec<_>>()
    };

    if contributions.iter().all(|c| c.external) {
        errors.push(
            CompositionError::new(
                ErrorCode::ExternalMissingOnBase,
                format!("field \"{coordinate}\" is @external in every subgraph that defines it, so none resolves it"),
            )
            .with_subgraphs(all_subgraphs())
            .with_coordinates([coordinate.clone()]),
        );
    }

    for c in &contributions {
        let Some(from) = &c.field.override_from else {
            continue;
        };
        if let Some(source) = contributions.iter().find(|o| o.subgraph.name == *from)
            && source.field.override_from.is_some()
        {
            errors.push(
                CompositionError::new(
                    ErrorCode::OverrideSourceHasOverride,
                    format!(
                        "field \"{coordinate}\" in subgraph \"{}\" overrides subgraph \"{from}\", which itself overrides it; overrides cannot be chained",
                        c.subgraph.name
                    ),
                )
                .with_subgraphs([c.subgraph.name.clone(), from.clone()])
                .with_coordinates([coordinate.clone()]),
            );
        }
    }

    let resolving: Vec<_> = contributions.iter().filter(|c| c.resolves()).collect();
    if resolving.len() > 1 {
        let unshareable: Vec<&str> = resolving
            .iter()
            .filter(|c| {
                !(c.field.shareable
                    || c.ty.shareable
                    || key_field_coordinates(c.subgraph)
                        .contains(&(type_name.to_owned(), field.to_owned())))
            })
            .map(|c| c.subgraph.name.as_str())
            .collect();
        if !unshareable.is_empty() {
            let names: Vec<&str> = resolving.iter().map(|c| c.subgraph.name.as_str()).collect();
            errors.push(
                CompositionError::new(
                    ErrorCode::InvalidFieldSharing,
                    format!(
                        "field \"{coordinate}\" is resolved by subgraphs {} but is not @shareable in {}",
                        quote_all(&names),
                        quote_all(&unshareable)
                    ),
                )
                .with_subgraphs(names.iter().map(|s| (*s).to_owned()))
                .with_coordinates([coordinate.clone()]),
            );
        }
    }
}

fn quote_all(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
