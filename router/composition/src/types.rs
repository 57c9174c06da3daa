//! Type references (`[Int!]!`) and the merge rules federation applies to them.
//!
//! Output positions merge to the least restrictive type every subgraph can satisfy
//! (nullable wins); input positions merge to the most restrictive type (non-null wins), so
//! the router never sends a value some subgraph would reject.

use std::fmt;

use graphql_parser::schema::Type;

/// A GraphQL type reference, independent of the parser's lifetimes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    pub(crate) fn from_ast(ty: &Type<'_, String>) -> Self {
        match ty {
            Type::NamedType(name) => TypeRef::Named(name.clone()),
            Type::ListType(inner) => TypeRef::List(Box::new(Self::from_ast(inner))),
            Type::NonNullType(inner) => TypeRef::NonNull(Box::new(Self::from_ast(inner))),
        }
    }

    /// The named type at the bottom of the wrappers.
    pub(crate) fn base(&self) -> &str {
        match self {
            TypeRef::Named(name) => name,
            TypeRef::List(inner) | TypeRef::NonNull(inner) => inner.base(),
        }
    }

    pub(crate) fn base_mut(&mut self) -> &mut String {
        match self {
            TypeRef::Named(name) => name,
            TypeRef::List(inner) | TypeRef::NonNull(inner) => inner.base_mut(),
        }
    }

    pub(crate) fn is_non_null(&self) -> bool {
        matches!(self, TypeRef::NonNull(_))
    }

    fn nullable(&self) -> &TypeRef {
        match self {
            TypeRef::NonNull(inner) => inner,
            other => other,
        }
    }

    /// Merges two output types: nullable where either is nullable. `None` when the shapes
    /// differ (a list against a non-list) or the named types differ and `common(x, y)`
    /// names no supertype of both (a field may return a narrower type in one subgraph than
    /// in another).
    pub(crate) fn merge_output_with(
        &self,
        other: &TypeRef,
        common: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Option<TypeRef> {
        Self::merge(self, other, false, common)
    }

    /// Merges two input types: non-null where either is non-null.
    pub(crate) fn merge_input(&self, other: &TypeRef) -> Option<TypeRef> {
        Self::merge(self, other, true, &|_, _| None)
    }

    fn merge(
        a: &TypeRef,
        b: &TypeRef,
        strict: bool,
        common: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Option<TypeRef> {
        let non_null = if strict {
            a.is_non_null() || b.is_non_null()
        } else {
            a.is_non_null() && b.is_non_null()
        };
        let inner = match (a.nullable(), b.nullable()) {
            (TypeRef::Named(x), TypeRef::Named(y)) if x == y => TypeRef::Named(x.clone()),
            (TypeRef::Named(x), TypeRef::Named(y)) => TypeRef::Named(common(x, y)?),
            (TypeRef::List(x), TypeRef::List(y)) => {
                TypeRef::List(Box::new(Self::merge(x, y, strict, common)?))
            }
            _ => return None,
        };
        Some(if non_null {
            TypeRef::NonNull(Box::new(inner))
        } else {
            inner
        })
    }
}

impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeRef::Named(name) => f.write_str(name),
            TypeRef::List(inner) => write!(f, "[{inner}]"),
            TypeRef::NonNull(inner) => write!(f, "{inner}!"),
        }
    }
}

/// The scalars every GraphQL schema has without declaring them.
pub(crate) const BUILTIN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

#[cfg(test)]
mod tests {
    use super::*;

    fn named(n: &str) -> TypeRef {
        TypeRef::Named(n.to_owned())
    }
    fn nn(t: TypeRef) -> TypeRef {
        TypeRef::NonNull(Box::new(t))
    }
    fn list(t: TypeRef) -> TypeRef {
        TypeRef::List(Box::new(t))
    }

    #[test]
    fn output_merge_prefers_nullable() {
        let a = nn(list(nn(named("Int"))));
        let b = list(named("Int"));
        assert_eq!(
            a.merge_output_with(&b, &|_, _| None),
            Some(list(named("Int")))
        );
        assert_eq!(a.merge_input(&b), Some(nn(list(nn(named("Int"))))));
    }

    #[test]
    fn mismatched_shapes_do_not_merge() {
        let none = |_: &str, _: &str| None;
        assert_eq!(
            named("Int").merge_output_with(&named("String"), &none),
            None
        );
        assert_eq!(
            list(named("Int")).merge_output_with(&named("Int"), &none),
            None
        );
        let book_in_item = |a: &str, b: &str| (a == "Item" && b == "Book").then(|| a.to_owned());
        assert_eq!(
            nn(named("Item")).merge_output_with(&nn(named("Book")), &book_in_item),
            Some(nn(named("Item")))
        );
    }

    #[test]
    fn display_round_trips() {
        assert_eq!(nn(list(nn(named("ID")))).to_string(), "[ID!]!");
    }
}
