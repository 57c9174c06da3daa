//! Composition errors: every problem carries a stable code, the subgraphs and the schema
//! coordinates involved, so an operator can find it in the subgraph sources.

use std::fmt;

/// Stable identifiers of composition problems. The strings (see [`ErrorCode::as_str`])
/// follow the names the federation ecosystem uses where one exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A subgraph name is empty or used twice.
    InvalidSubgraphName,
    /// A subgraph SDL does not parse or is not a valid schema.
    InvalidGraphql,
    /// A subgraph references a type it does not define.
    UnknownType,
    /// A subgraph renames a root type but also defines a type with the default root name.
    RootTypeUsed,
    /// No subgraph defines a query root field.
    NoQueries,
    /// A type is defined with different kinds in different subgraphs.
    TypeKindMismatch,
    /// A field has incompatible types in different subgraphs.
    FieldTypeMismatch,
    /// An argument or input field has incompatible types in different subgraphs.
    FieldArgumentTypeMismatch,
    /// A required argument is not defined by every subgraph that resolves the field.
    RequiredArgumentMissingInSomeSubgraph,
    /// An argument has different default values in different subgraphs.
    ArgumentDefaultMismatch,
    /// An input field has different default values in different subgraphs.
    InputFieldDefaultMismatch,
    /// A required input field is not defined by every subgraph that defines the input type.
    RequiredInputFieldMissingInSomeSubgraph,
    /// An input type has no field common to all subgraphs.
    EmptyMergedInputType,
    /// An enum used as input and output has different values in different subgraphs.
    EnumValueMismatch,
    /// An input-only enum has no value common to all subgraphs.
    EmptyMergedEnumType,
    /// A field is resolved by several subgraphs but is not shareable in all of them.
    InvalidFieldSharing,
    /// A @key selects fields that do not exist or cannot be selected.
    KeyInvalidFields,
    /// A @key selects a field that takes arguments.
    KeyFieldsHasArgs,
    /// A @key selects an interface or union field.
    KeyFieldsSelectInvalidType,
    /// A @requires on an interface field.
    RequiresUnsupportedOnInterface,
    /// A @provides on an interface field.
    ProvidesUnsupportedOnInterface,
    /// An @override on an @external field.
    OverrideCollisionWithAnotherDirective,
    /// A @requires selects fields that do not exist.
    RequiresInvalidFields,
    /// A @requires selects a field that is not @external.
    RequiresFieldsMissingExternal,
    /// A @provides selects fields that do not exist.
    ProvidesInvalidFields,
    /// A @provides is put on a field that does not return a composite type.
    ProvidesOnNonObjectField,
    /// A @provides selects a field that is not @external.
    ProvidesFieldsMissingExternal,
    /// An @external field is used by no @key, @requires or @provides.
    ExternalUnused,
    /// A field is @external in every subgraph that defines it.
    ExternalMissingOnBase,
    /// A field overrides its own subgraph.
    OverrideFromSelf,
    /// Overrides of a field form a chain or a cycle.
    OverrideSourceHasOverride,
    /// (warning) @override names a subgraph that is not composed.
    OverrideFromUnknownSubgraph,
    /// A progressive `@override(label:)` is neither `percent(0..=100)` nor a flag name.
    OverrideLabelInvalid,
    /// An object type lacks a field of an interface it implements.
    InterfaceFieldNoImplem,
    /// An implementation of an entity interface lacks the interface's @key.
    InterfaceKeyNotOnImplementations,
    /// An @interfaceObject has no entity interface behind it.
    InterfaceObjectUsageError,
    /// A field can be reached but no subgraph can resolve it from there.
    SatisfiabilityError,
    /// An element that stays visible refers to a type hidden with `@inaccessible`.
    ReferencedInaccessible,
    /// (warning) a federation directive that composition does not carry (for example
    /// `@authenticated`) is used and has no effect.
    UnsupportedDirective,
}

impl ErrorCode {
    /// The stable, upper snake case code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidSubgraphName => "INVALID_SUBGRAPH_NAME",
            ErrorCode::InvalidGraphql => "INVALID_GRAPHQL",
            ErrorCode::UnknownType => "UNKNOWN_TYPE",
            ErrorCode::RootTypeUsed => "ROOT_TYPE_USED",
            ErrorCode::NoQueries => "NO_QUERIES",
            ErrorCode::TypeKindMismatch => "TYPE_KIND_MISMATCH",
            ErrorCode::FieldTypeMismatch => "FIELD_TYPE_MISMATCH",
            ErrorCode::FieldArgumentTypeMismatch => "FIELD_ARGUMENT_TYPE_MISMATCH",
            ErrorCode::RequiredArgumentMissingInSomeSubgraph => {
                "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH"
            }
            ErrorCode::ArgumentDefaultMismatch => "ARGUMENT_DEFAULT_MISMATCH",
            ErrorCode::InputFieldDefaultMismatch => "INPUT_FIELD_DEFAULT_MISMATCH",
            ErrorCode::RequiredInputFieldMissingInSomeSubgraph => {
                "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH"
            }
            ErrorCode::EmptyMergedInputType => "EMPTY_MERGED_INPUT_TYPE",
            ErrorCode::EnumValueMismatch => "ENUM_VALUE_MISMATCH",
            ErrorCode::EmptyMergedEnumType => "EMPTY_MERGED_ENUM_TYPE",
            ErrorCode::InvalidFieldSharing => "INVALID_FIELD_SHARING",
            ErrorCode::KeyInvalidFields => "KEY_INVALID_FIELDS",
            ErrorCode::KeyFieldsHasArgs => "KEY_FIELDS_HAS_ARGS",
            ErrorCode::KeyFieldsSelectInvalidType => "KEY_FIELDS_SELECT_INVALID_TYPE",
            ErrorCode::RequiresUnsupportedOnInterface => "REQUIRES_UNSUPPORTED_ON_INTERFACE",
            ErrorCode::ProvidesUnsupportedOnInterface => "PROVIDES_UNSUPPORTED_ON_INTERFACE",
            ErrorCode::OverrideCollisionWithAnotherDirective => {
                "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE"
            }
            ErrorCode::RequiresInvalidFields => "REQUIRES_INVALID_FIELDS",
            ErrorCode::RequiresFieldsMissingExternal => "REQUIRES_FIELDS_MISSING_EXTERNAL",
            ErrorCode::ProvidesInvalidFields => "PROVIDES_INVALID_FIELDS",
            ErrorCode::ProvidesOnNonObjectField => "PROVIDES_ON_NON_OBJECT_FIELD",
            ErrorCode::ProvidesFieldsMissingExternal => "PROVIDES_FIELDS_MISSING_EXTERNAL",
            ErrorCode::ExternalUnused => "EXTERNAL_UNUSED",
            ErrorCode::ExternalMissingOnBase => "EXTERNAL_MISSING_ON_BASE",
            ErrorCode::OverrideFromSelf => "OVERRIDE_FROM_SELF_ERROR",
            ErrorCode::OverrideSourceHasOverride => "OVERRIDE_SOURCE_HAS_OVERRIDE",
            ErrorCode::OverrideFromUnknownSubgraph => "OVERRIDE_FROM_UNKNOWN_SUBGRAPH",
            ErrorCode::OverrideLabelInvalid => "OVERRIDE_LABEL_INVALID",
            ErrorCode::InterfaceFieldNoImplem => "INTERFACE_FIELD_NO_IMPLEM",
            ErrorCode::InterfaceKeyNotOnImplementations => "INTERFACE_KEY_NOT_ON_IMPLEMENTATIONS",
            ErrorCode::InterfaceObjectUsageError => "INTERFACE_OBJECT_USAGE_ERROR",
            ErrorCode::SatisfiabilityError => "SATISFIABILITY_ERROR",
            ErrorCode::ReferencedInaccessible => "REFERENCED_INACCESSIBLE",
            ErrorCode::UnsupportedDirective => "UNSUPPORTED_DIRECTIVE",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One composition problem (or warning).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CompositionError {
    pub code: ErrorCode,
    pub message: String,
    /// The subgraphs involved, by name, sorted.
    pub subgraphs: Vec<String>,
    /// Schema coordinates involved (`Type`, `Type.field`, `Type.field(arg:)`), sorted.
    pub coordinates: Vec<String>,
}

impl CompositionError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            subgraphs: Vec::new(),
            coordinates: Vec::new(),
        }
    }

    pub(crate) fn with_subgraphs<I, S>(mut self, subgraphs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.subgraphs.extend(subgraphs.into_iter().map(Into::into));
        self.subgraphs.sort();
        self.subgraphs.dedup();
        self
    }

    pub(crate) fn with_coordinates<I, S>(mut self, coordinates: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.coordinates
            .extend(coordinates.into_iter().map(Into::into));
        self.coordinates.sort();
        self.coordinates.dedup();
        self
    }
}

impl fmt::Display for CompositionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line per error, whatever the message (parser errors span several lines).
        let message = self
            .message
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        write!(f, "[{}] {message}", self.code)?;
        if !self.coordinates.is_empty() {
            write!(f, " (at {})", self.coordinates.join(", "))?;
        }
        if !self.subgraphs.is_empty() {
            write!(f, " (subgraphs: {})", self.subgraphs.join(", "))?;
        }
        Ok(())
    }
}

/// Every error found while composing, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CompositionErrors {
    pub errors: Vec<CompositionError>,
}

impl CompositionErrors {
    pub(crate) fn new(mut errors: Vec<CompositionError>) -> Self {
        errors.sort_by(|a, b| {
            (a.code, &a.coordinates, &a.subgraphs, &a.message).cmp(&(
                b.code,
                &b.coordinates,
                &b.subgraphs,
                &b.message,
            ))
        });
        errors.dedup();
        Self { errors }
    }

    /// Whether an error with this code was reported.
    pub fn has(&self, code: ErrorCode) -> bool {
        self.errors.iter().any(|e| e.code == code)
    }
}

impl fmt::Display for CompositionErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_prints_one_error_per_line() {
        let errors = CompositionErrors::new(vec![
            CompositionError::new(ErrorCode::TypeKindMismatch, "b")
                .with_coordinates(["B"])
                .with_subgraphs(["y", "x"]),
            CompositionError::new(ErrorCode::FieldTypeMismatch, "a").with_coordinates(["A.f"]),
        ]);
        assert_eq!(
            errors.to_string(),
            "[TYPE_KIND_MISMATCH] b (at B) (subgraphs: x, y)\n[FIELD_TYPE_MISMATCH] a (at A.f)"
        );
    }
}
