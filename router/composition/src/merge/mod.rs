//! Merging: the normalised subgraphs become one supergraph model, type by type, with the
//! `@join__*` metadata that tells the query planner which subgraph provides what.
//!
//! Each kind has its own rules (see the submodules); this module holds the shared model
//! and dispatches.

pub(crate) mod composite;
mod enums;
mod inputs;
mod leaf;

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{CompositionError, ErrorCode};
use crate::subgraph::{Exposure, Kind, Subgraph, TypeDef};
use crate::types::TypeRef;

/// `@join__type` on a supergraph type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JoinType {
    pub graph: String,
    pub key: Option<String>,
    pub extension: bool,
    pub resolvable: bool,
    pub interface_object: bool,
}

/// `@join__field` on a supergraph field. `graph: None` is the bare `@join__field` that
/// marks a field no subgraph resolves on this type directly (it comes from an
/// `@interfaceObject`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JoinField {
    pub graph: Option<String>,
    pub requires: Option<String>,
    pub provides: Option<String>,
    pub ty: Option<String>,
    pub external: bool,
    pub override_from: Option<String>,
    /// A progressive override's label (`percent(5)` or a flag name).
    pub override_label: Option<String>,
    pub used_overridden: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct SuperInputValue {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    pub default: Option<String>,
    /// For input fields whose type differs between subgraphs: the type in each.
    pub join: Option<Vec<JoinField>>,
    pub exposure: Exposure,
}

#[derive(Debug, Clone)]
pub(crate) struct SuperField {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    pub args: Vec<SuperInputValue>,
    /// `None` when every subgraph of the parent type resolves the field the same way, so
    /// no `@join__field` is needed.
    pub join: Option<Vec<JoinField>>,
    pub exposure: Exposure,
}

#[derive(Debug, Clone)]
pub(crate) struct SuperEnumValue {
    pub name: String,
    pub description: Option<String>,
    pub graphs: Vec<String>,
    pub exposure: Exposure,
}

/// One supergraph type.
#[derive(Debug, Clone)]
pub(crate) struct SuperType {
    pub name: String,
    pub kind: Kind,
    pub description: Option<String>,
    pub join_types: Vec<JoinType>,
    /// Implemented interfaces, each with the graphs declaring the implementation.
    pub implements: Vec<(String, Vec<String>)>,
    pub fields: Vec<SuperField>,
    pub input_fields: Vec<SuperInputValue>,
    /// Union members, each with the graphs declaring the membership.
    pub members: Vec<(String, Vec<String>)>,
    pub values: Vec<SuperEnumValue>,
    pub exposure: Exposure,
    pub specified_by: Option<String>,
}

impl SuperType {
    fn new(name: &str, kind: Kind) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            description: None,
            join_types: Vec::new(),
            implements: Vec::new(),
            fields: Vec::new(),
            input_fields: Vec::new(),
            members: Vec::new(),
            values: Vec::new(),
            exposure: Exposure::default(),
            specified_by: None,
        }
    }

    pub(crate) fn field(&self, name: &str) -> Option<&SuperField> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The merged supergraph, before printing.
#[derive(Debug, Clone)]
pub(crate) struct SupergraphModel {
    /// `(graph enum value, subgraph name, url)`, sorted by enum value.
    pub graphs: Vec<(String, String, String)>,
    pub types: BTreeMap<String, SuperType>,
    /// Whether any subgraph applies `@tag` / `@inaccessible` anywhere, even on an element
    /// the merge left out: the supergraph links those specs all the same.
    pub subgraphs_tag: bool,
    pub subgraphs_inaccessible: bool,
}

/// A type as one subgraph defines it.
pub(crate) type Source<'a> = (&'a Subgraph, &'a TypeDef);

/// Merges the subgraphs (already sorted by name).
pub(crate) fn merge(subgraphs: &[Subgraph], errors: &mut Vec<CompositionError>) -> SupergraphModel {
    let mut by_name: BTreeMap<&str, Vec<Source<'_>>> = BTreeMap::new();
    for sg in subgraphs {
        for (name, ty) in &sg.types {
            by_name.entry(name.as_str()).or_default().push((sg, ty));
        }
    }
    let usage = enums::Usage::collect(subgraphs);
    let subtypes = composite::Subtypes::collect(subgraphs);

    let mut types = BTreeMap::new();
    for (name, sources) in &by_name {
        let Some(kind) = common_kind(name, sources, errors) else {
            continue;
        };
        let mut out = SuperType::new(name, kind);
        out.description = sources.iter().find_map(|(_, t)| t.description.clone());
        out.exposure = merge_exposure(sources.iter().map(|(_, t)| &t.exposure));
        match kind {
            Kind::Object | Kind::Interface => {
                composite::merge(&mut out, sources, &subtypes, errors)
            }
            Kind::Union => leaf::merge_union(&mut out, sources),
            Kind::Scalar => leaf::merge_scalar(&mut out, sources),
            Kind::Enum => enums::merge(&mut out, sources, &usage, errors),
            Kind::InputObject => inputs::merge(&mut out, sources, errors),
        }
        types.insert((*name).to_owned(), out);
    }
    composite::add_interface_object_fields(&mut types);

    let graphs = subgraphs
        .iter()
        .map(|s| (s.graph.clone(), s.name.clone(), s.url.clone()))
        .collect();
    let exposures: Vec<&Exposure> = subgraphs
        .iter()
        .flat_map(|sg| sg.types.values())
        .flat_map(|t| {
            std::iter::once(&t.exposure)
                .chain(t.fields.iter().flat_map(|f| {
                    std::iter::once(&f.exposure).chain(f.args.iter().map(|a| &a.exposure))
                }))
                .chain(t.input_fields.iter().map(|f| &f.exposure))
                .chain(t.values.iter().map(|v| &v.exposure))
        })
        .collect();
    SupergraphModel {
        graphs,
        types,
        subgraphs_tag: exposures.iter().any(|e| !e.tags.is_empty()),
        subgraphs_inaccessible: exposures.iter().any(|e| e.inaccessible),
    }
}

fn common_kind(
    name: &str,
    sources: &[Source<'_>],
    errors: &mut Vec<CompositionError>,
) -> Option<Kind> {
    let kinds: BTreeSet<Kind> = sources.iter().map(|(_, t)| t.merged_kind()).collect();
    if kinds.len() == 1 {
        return kinds.into_iter().next();
    }
    let detail = sources
        .iter()
        .map(|(sg, t)| format!("{} in \"{}\"", t.merged_kind().describe(), sg.name))
        .collect::<Vec<_>>()
        .join(", ");
    errors.push(
        CompositionError::new(
            ErrorCode::TypeKindMismatch,
            format!("type \"{name}\" has different kinds: {detail}"),
        )
        .with_subgraphs(sources.iter().map(|(sg, _)| sg.name.clone()))
        .with_coordinates([name]),
    );
    None
}

/// `@inaccessible` anywhere hides the element; tags accumulate; the first deprecation wins.
pub(crate) fn merge_exposure<'e>(all: impl Iterator<Item = &'e Exposure>) -> Exposure {
    let mut out = Exposure::default();
    for e in all {
        out.inaccessible |= e.inaccessible;
        out.tags.extend(e.tags.iter().cloned());
        if out.deprecated.is_none() {
            out.deprecated.clone_from(&e.deprecated);
        }
    }
    out
}

/// A join type entry per key, or one without a key.
pub(crate) fn join_types_of(sg: &Subgraph, ty: &TypeDef) -> Vec<JoinType> {
    let base = JoinType {
        graph: sg.graph.clone(),
        key: None,
        extension: ty.extension,
        resolvable: true,
        interface_object: ty.interface_object,
    };
    if ty.keys.is_empty() {
        // `extension` only tells the planner how to treat the key of an entity declared
        // elsewhere; on a type without a key it means nothing and is left out.
        return vec![JoinType {
            extension: false,
            ..base
        }];
    }
    ty.keys
        .iter()
        .map(|k| JoinType {
            key: Some(k.fields.clone()),
            resolvable: k.resolvable,
            ..base.clone()
        })
        .collect()
}
