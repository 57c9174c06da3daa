//! The GraphQL rules composition relies on, checked first: every referenced type exists
//! and has a kind that fits where it is used, and no type declares a field twice.

use std::collections::BTreeSet;

use super::error;
use crate::error::{CompositionError, ErrorCode};
use crate::subgraph::{Kind, Subgraph};
use crate::types::BUILTIN_SCALARS;

/// Where a type is used, which decides the kinds it may have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Position {
    Output,
    Input,
    UnionMember,
    Implements,
}

impl Position {
    fn allows(self, kind: Kind) -> bool {
        match self {
            Position::Output => !matches!(kind, Kind::InputObject),
            Position::Input => matches!(kind, Kind::Scalar | Kind::Enum | Kind::InputObject),
            Position::UnionMember => kind == Kind::Object,
            Position::Implements => kind == Kind::Interface,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Position::Output => "an output type",
            Position::Input => "an input type",
            Position::UnionMember => "an object type",
            Position::Implements => "an interface",
        }
    }
}

/// The schema rules composition relies on: every referenced type exists and has a kind
/// that fits where it is used, and no type declares a field twice.
pub(super) fn graphql_validity(sg: &Subgraph, errors: &mut Vec<CompositionError>) {
    let mut check = |coordinate: String, name: &str, position: Position| {
        if BUILTIN_SCALARS.contains(&name) && matches!(position, Position::Output | Position::Input)
        {
            return;
        }
        let Some(target) = sg.ty(name) else {
            errors.push(
                error(
                    ErrorCode::UnknownType,
                    format!(
                        "\"{coordinate}\" refers to unknown type \"{name}\" in subgraph \"{}\"",
                        sg.name
                    ),
                    sg,
                )
                .with_coordinates([coordinate]),
            );
            return;
        };
        // An `@interfaceObject` is an object type in its own subgraph.
        if !position.allows(target.kind) {
            errors.push(
                error(
                    ErrorCode::InvalidGraphql,
                    format!(
                        "\"{coordinate}\" in subgraph \"{}\" uses \"{name}\", a {}, where {} is required",
                        sg.name,
                        target.kind.describe(),
                        position.describe()
                    ),
                    sg,
                )
                .with_coordinates([coordinate]),
            );
        }
    };
    for ty in sg.types.values() {
        for f in &ty.fields {
            check(
                format!("{}.{}", ty.name, f.name),
                f.ty.base(),
                Position::Output,
            );
            for a in &f.args {
                check(
                    format!("{}.{}({}:)", ty.name, f.name, a.name),
                    a.ty.base(),
                    Position::Input,
                );
            }
        }
        for f in &ty.input_fields {
            check(
                format!("{}.{}", ty.name, f.name),
                f.ty.base(),
                Position::Input,
            );
        }
        for m in &ty.members {
            check(ty.name.clone(), m, Position::UnionMember);
        }
        for i in &ty.implements {
            check(ty.name.clone(), i, Position::Implements);
        }
    }
    for ty in sg.types.values() {
        let names = ty
            .fields
            .iter()
            .map(|f| &f.name)
            .chain(ty.input_fields.iter().map(|f| &f.name))
            .chain(ty.values.iter().map(|v| &v.name));
        let mut seen = BTreeSet::new();
        for name in names {
            if !seen.insert(name) {
                errors.push(
                    error(
                        ErrorCode::InvalidGraphql,
                        format!(
                            "\"{}\" declares \"{name}\" more than once in subgraph \"{}\"",
                            ty.name, sg.name
                        ),
                        sg,
                    )
                    .with_coordinates([format!("{}.{name}", ty.name)]),
                );
            }
        }
    }
}
