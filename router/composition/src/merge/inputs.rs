//! Input objects and field arguments: both merge by intersection, since the router may
//! only send what every subgraph understands. Dropping a value some subgraph requires
//! would make that subgraph unusable, so that is an error.

use super::{JoinField, Source, SuperInputValue, SuperType, join_types_of, merge_exposure};
use crate::error::{CompositionError, ErrorCode};
use crate::subgraph::{InputValueDef, Subgraph};

/// What the merged values are, for coordinates and error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValuesOf<'a> {
    /// Arguments of `Type.field`.
    Arguments(&'a str),
    /// Fields of an input object.
    InputFields(&'a str),
}

impl ValuesOf<'_> {
    fn coordinate(&self, name: &str) -> String {
        match self {
            ValuesOf::Arguments(field) => format!("{field}({name}:)"),
            ValuesOf::InputFields(ty) => format!("{ty}.{name}"),
        }
    }
}

/// Intersects the value definitions of several subgraphs.
pub(crate) fn merge_values(
    of: ValuesOf<'_>,
    sources: &[(&Subgraph, &[InputValueDef])],
    errors: &mut Vec<CompositionError>,
) -> Vec<SuperInputValue> {
    let mut names: Vec<&str> = Vec::new();
    for (_, values) in sources {
        for v in values.iter() {
            if !names.contains(&v.name.as_str()) {
                names.push(&v.name);
            }
        }
    }
    let mut out = Vec::new();
    for name in names {
        let coordinate = of.coordinate(name);
        let present: Vec<(&Subgraph, &InputValueDef)> = sources
            .iter()
            .filter_map(|(sg, values)| values.iter().find(|v| v.name == name).map(|v| (*sg, v)))
            .collect();
        if present.len() < sources.len() {
            if let Some((sg, _)) = present.iter().find(|(_, v)| v.is_required()) {
                let missing: Vec<&str> = sources
                    .iter()
                    .filter(|(s, _)| !present.iter().any(|(p, _)| p.name == s.name))
                    .map(|(s, _)| s.name.as_str())
                    .collect();
                let (code, what) = match of {
                    ValuesOf::Arguments(_) => {
                        (ErrorCode::RequiredArgumentMissingInSomeSubgraph, "argument")
                    }
                    ValuesOf::InputFields(_) => (
                        ErrorCode::RequiredInputFieldMissingInSomeSubgraph,
                        "input field",
                    ),
                };
                errors.push(
                    CompositionError::new(
                        code,
                        format!(
                            "{what} \"{coordinate}\" is required in subgraph \"{}\" but missing in {}",
                            sg.name,
                            quote_list(&missing)
                        ),
                    )
                    .with_subgraphs(sources.iter().map(|(s, _)| s.name.clone()))
                    .with_coordinates([coordinate.clone()]),
                );
            }
            continue;
        }
        let Some(((_, first), rest)) = present.split_first() else {
            continue;
        };
        let mut ty = first.ty.clone();
        let mut compatible = true;
        for (_, v) in rest {
            match ty.merge_input(&v.ty) {
                Some(t) => ty = t,
                None => compatible = false,
            }
        }
        if !compatible {
            let detail = present
                .iter()
                .map(|(s, v)| format!("\"{}\" in \"{}\"", v.ty, s.name))
                .collect::<Vec<_>>()
                .join(", ");
            errors.push(
                CompositionError::new(
                    ErrorCode::FieldArgumentTypeMismatch,
                    format!("\"{coordinate}\" has incompatible types: {detail}"),
                )
                .with_subgraphs(present.iter().map(|(s, _)| s.name.clone()))
                .with_coordinates([coordinate.clone()]),
            );
            continue;
        }
        let mut defaults: Vec<(&str, &str)> = present
            .iter()
            .filter_map(|(s, v)| v.default.as_deref().map(|d| (s.name.as_str(), d)))
            .collect();
        let default = defaults.first().map(|(_, d)| (*d).to_owned());
        defaults.sort_by_key(|(_, d)| *d);
        defaults.dedup_by_key(|(_, d)| *d);
        if defaults.len() > 1 {
            let code = match of {
                ValuesOf::Arguments(_) => ErrorCode::ArgumentDefaultMismatch,
                ValuesOf::InputFields(_) => ErrorCode::InputFieldDefaultMismatch,
            };
            let detail = defaults
                .iter()
                .map(|(s, d)| format!("{d} in \"{s}\""))
                .collect::<Vec<_>>()
                .join(", ");
            errors.push(
                CompositionError::new(
                    code,
                    format!("\"{coordinate}\" has different default values: {detail}"),
                )
                .with_subgraphs(present.iter().map(|(s, _)| s.name.clone()))
                .with_coordinates([coordinate.clone()]),
            );
        }
        // Arguments cannot carry `@join__field`; an input field records its type per
        // subgraph when they differ, as output fields do.
        let join = (matches!(of, ValuesOf::InputFields(_))
            && present.iter().any(|(_, v)| v.ty != ty))
        .then(|| {
            present
                .iter()
                .map(|(sg, v)| JoinField {
                    graph: Some(sg.graph.clone()),
                    ty: Some(v.ty.to_string()),
                    ..JoinField::default()
                })
                .collect()
        });
        out.push(SuperInputValue {
            name: name.to_owned(),
            description: present.iter().find_map(|(_, v)| v.description.clone()),
            ty,
            default,
            join,
            exposure: merge_exposure(present.iter().map(|(_, v)| &v.exposure)),
        });
    }
    out
}

pub(super) fn merge(
    out: &mut SuperType,
    sources: &[Source<'_>],
    errors: &mut Vec<CompositionError>,
) {
    for (sg, ty) in sources {
        out.join_types.extend(join_types_of(sg, ty));
    }
    let values: Vec<(&Subgraph, &[InputValueDef])> = sources
        .iter()
        .map(|(sg, ty)| (*sg, ty.input_fields.as_slice()))
        .collect();
    let before = errors.len();
    out.input_fields = merge_values(ValuesOf::InputFields(&out.name), &values, errors);
    if out.input_fields.is_empty() && errors.len() == before {
        errors.push(
            CompositionError::new(
                ErrorCode::EmptyMergedInputType,
                format!(
                    "input type \"{}\" has no field defined in every subgraph that defines it",
                    out.name
                ),
            )
            .with_subgraphs(sources.iter().map(|(sg, _)| sg.name.clone()))
            .with_coordinates([out.name.clone()]),
        );
    }
}

pub(crate) fn quote_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => format!("subgraph {}", quoted[0]),
        _ => format!("subgraphs {}", quoted.join(", ")),
    }
}
