//! Enums merge according to where they are used: an enum only returned by fields takes
//! every value (a client must be ready for any of them), one only accepted as input takes
//! the values all subgraphs accept, and one used both ways must be identical everywhere,
//! except for values hidden with `@inaccessible`, which clients never see.

use std::collections::BTreeSet;

use super::{Source, SuperEnumValue, SuperType, join_types_of, merge_exposure};
use crate::error::{CompositionError, ErrorCode};
use crate::merge::inputs::quote_list;
use crate::subgraph::{Kind, Subgraph};

/// Which type names appear in input and in output positions, across all subgraphs.
#[derive(Debug, Default)]
pub(super) struct Usage {
    input: BTreeSet<String>,
    output: BTreeSet<String>,
}

impl Usage {
    pub(super) fn collect(subgraphs: &[Subgraph]) -> Self {
        let mut usage = Usage::default();
        for sg in subgraphs {
            for ty in sg.types.values() {
                match ty.kind {
                    Kind::Object | Kind::Interface => {
                        for f in &ty.fields {
                            usage.output.insert(f.ty.base().to_owned());
                            for a in &f.args {
                                usage.input.insert(a.ty.base().to_owned());
                            }
                        }
                    }
                    Kind::InputObject => {
                        for f in &ty.input_fields {
                            usage.input.insert(f.ty.base().to_owned());
                        }
                    }
                    Kind::Scalar | Kind::Union | Kind::Enum => {}
                }
            }
        }
        usage
    }
}

pub(super) fn merge(
    out: &mut SuperType,
    sources: &[Source<'_>],
    usage: &Usage,
    errors: &mut Vec<CompositionError>,
) {
    for (sg, ty) in sources {
        out.join_types.extend(join_types_of(sg, ty));
    }
    let mut names: Vec<&str> = Vec::new();
    for (_, ty) in sources {
        for v in &ty.values {
            if !names.contains(&v.name.as_str()) {
                names.push(&v.name);
            }
        }
    }
    let as_input = usage.input.contains(&out.name);
    let as_output = usage.output.contains(&out.name);
    for name in names {
        let present: Vec<_> = sources
            .iter()
            .filter_map(|(sg, ty)| ty.values.iter().find(|v| v.name == name).map(|v| (*sg, v)))
            .collect();
        let everywhere = present.len() == sources.len();
        // A value hidden with `@inaccessible` can neither be sent nor returned by a
        // client, so a subgraph lacking it cannot receive it through the router.
        let hidden = present.iter().any(|(_, v)| v.exposure.inaccessible);
        if !everywhere && as_input && !(as_output && hidden) {
            if as_output {
                let missing: Vec<&str> = sources
                    .iter()
                    .filter(|(sg, _)| !present.iter().any(|(p, _)| p.name == sg.name))
                    .map(|(sg, _)| sg.name.as_str())
                    .collect();
                errors.push(
                    CompositionError::new(
                        ErrorCode::EnumValueMismatch,
                        format!(
                            "enum \"{}\" is used as input and output, so all subgraphs must define the same values, but \"{name}\" is missing in {}",
                            out.name,
                            quote_list(&missing)
                        ),
                    )
                    .with_subgraphs(sources.iter().map(|(sg, _)| sg.name.clone()))
                    .with_coordinates([format!("{}.{name}", out.name)]),
                );
            }
            // Input only: values some subgraph would reject are left out.
            continue;
        }
        out.values.push(SuperEnumValue {
            name: name.to_owned(),
            description: present.iter().find_map(|(_, v)| v.description.clone()),
            graphs: present.iter().map(|(sg, _)| sg.graph.clone()).collect(),
            exposure: merge_exposure(present.iter().map(|(_, v)| &v.exposure)),
        });
    }
    if out.values.is_empty()
        && !errors.iter().any(|e| {
            e.coordinates
                .iter()
                .any(|c| c.starts_with(&format!("{}.", out.name)))
        })
    {
        errors.push(
            CompositionError::new(
                ErrorCode::EmptyMergedEnumType,
                format!(
                    "enum \"{}\" has no value defined in every subgraph that defines it",
                    out.name
                ),
            )
            .with_subgraphs(sources.iter().map(|(sg, _)| sg.name.clone()))
            .with_coordinates([out.name.clone()]),
        );
    }
}
