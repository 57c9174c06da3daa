//! The model a subgraph is read into: its types with their fields, arguments, enum values
//! and the federation directives that apply to them, already resolved. The merge stage
//! and the validation read this model and never the AST.

use std::collections::{BTreeMap, BTreeSet};

use crate::types::TypeRef;

/// Which kind of definition a named type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl Kind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Scalar => "scalar",
            Kind::Object => "object type",
            Kind::Interface => "interface",
            Kind::Union => "union",
            Kind::Enum => "enum",
            Kind::InputObject => "input object",
        }
    }
}

/// `@key(fields: ..., resolvable: ...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub fields: String,
    pub resolvable: bool,
}

/// Directives that are carried to the supergraph as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Exposure {
    pub inaccessible: bool,
    pub tags: BTreeSet<String>,
    /// `Some(reason)` when `@deprecated`; the reason is `None` when not given.
    pub deprecated: Option<Option<String>>,
}

#[derive(Debug, Clone)]
pub(crate) struct InputValueDef {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    /// The default value, printed as GraphQL.
    pub default: Option<String>,
    pub exposure: Exposure,
}

impl InputValueDef {
    /// A value a caller must give: non-null and without a default.
    pub(crate) fn is_required(&self) -> bool {
        self.ty.is_non_null() && self.default.is_none()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    pub args: Vec<InputValueDef>,
    pub external: bool,
    pub shareable: bool,
    pub requires: Option<String>,
    pub provides: Option<String>,
    pub override_from: Option<String>,
    pub override_label: Option<String>,
    pub exposure: Exposure,
}

#[derive(Debug, Clone)]
pub(crate) struct EnumValueDef {
    pub name: String,
    pub description: Option<String>,
    pub exposure: Exposure,
}

#[derive(Debug, Clone)]
pub(crate) struct TypeDef {
    pub name: String,
    pub kind: Kind,
    pub description: Option<String>,
    /// Declared with `extend type` or `@extends`.
    pub extension: bool,
    pub keys: Vec<Key>,
    pub shareable: bool,
    /// An `@interfaceObject`: an object here, an interface in the supergraph.
    pub interface_object: bool,
    pub exposure: Exposure,
    pub implements: Vec<String>,
    pub fields: Vec<FieldDef>,
    pub input_fields: Vec<InputValueDef>,
    pub members: Vec<String>,
    pub values: Vec<EnumValueDef>,
    pub specified_by: Option<String>,
    /// `@external` on the type itself: every field of the type is external.
    pub external: bool,
    /// Marked `@extends` (rather than only written as `extend type`).
    pub extends_directive: bool,
}

impl TypeDef {
    pub(super) fn new(name: String, kind: Kind) -> Self {
        Self {
            name,
            kind,
            description: None,
            extension: false,
            keys: Vec::new(),
            shareable: false,
            interface_object: false,
            exposure: Exposure::default(),
            implements: Vec::new(),
            fields: Vec::new(),
            input_fields: Vec::new(),
            members: Vec::new(),
            values: Vec::new(),
            specified_by: None,
            external: false,
            extends_directive: false,
        }
    }

    pub(crate) fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The kind this type has in the supergraph.
    pub(crate) fn merged_kind(&self) -> Kind {
        if self.interface_object {
            Kind::Interface
        } else {
            self.kind
        }
    }

    pub(crate) fn is_entity(&self) -> bool {
        !self.keys.is_empty()
    }
}

/// One subgraph, normalised.
#[derive(Debug, Clone)]
pub(crate) struct Subgraph {
    pub name: String,
    /// Its value in the `join__Graph` enum.
    pub graph: String,
    pub url: String,
    pub types: BTreeMap<String, TypeDef>,
}

impl Subgraph {
    pub(crate) fn ty(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }
}
