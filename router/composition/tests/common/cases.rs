#![allow(dead_code)]

//! Invalid compositions, one or more per error code, shared by the error tests and the
//! comparison with the reference composition (which rejects every one of them too).

use composition::ErrorCode;

pub struct Case {
    pub name: &'static str,
    pub code: ErrorCode,
    /// The coordinate the error must name.
    pub coordinate: &'static str,
    pub subgraphs: Vec<(&'static str, String)>,
}

fn fed(body: &str) -> String {
    crate::common::fed(body)
}

pub fn invalid() -> Vec<Case> {
    vec![
        Case {
            name: "kind mismatch",
            code: ErrorCode::TypeKindMismatch,
            coordinate: "Thing",
            subgraphs: vec![
                ("a", fed("type Query { a: Thing } type Thing { id: ID! }")),
                (
                    "b",
                    fed("type Query { b: Thing } interface Thing { id: ID! }"),
                ),
            ],
        },
        Case {
            name: "incompatible field types",
            code: ErrorCode::FieldTypeMismatch,
            coordinate: "Money.amount",
            subgraphs: vec![
                (
                    "a",
                    fed("type Query { a: Money } type Money @shareable { amount: String! }"),
                ),
                (
                    "b",
                    fed("type Query { b: Money } type Money @shareable { amount: Int! }"),
                ),
            ],
        },
        Case {
            name: "list against non-list",
            code: ErrorCode::FieldTypeMismatch,
            coordinate: "T.tags",
            subgraphs: vec![
                (
                    "a",
                    fed("type Query { a: T } type T @shareable { tags: [String] }"),
                ),
                (
                    "b",
                    fed("type Query { b: T } type T @shareable { tags: String }"),
                ),
            ],
        },
        Case {
            name: "non-shareable field in two subgraphs",
            code: ErrorCode::InvalidFieldSharing,
            coordinate: "Product.name",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { a: Product } type Product @key(fields: \"id\") { id: ID! name: String }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { b: Product } type Product @key(fields: \"id\") { id: ID! name: String }",
                    ),
                ),
            ],
        },
        Case {
            name: "non-shareable root field in two subgraphs",
            code: ErrorCode::InvalidFieldSharing,
            coordinate: "Query.version",
            subgraphs: vec![
                ("a", fed("type Query { version: String }")),
                ("b", fed("type Query { version: String @shareable }")),
            ],
        },
        Case {
            name: "key on unknown field",
            code: ErrorCode::KeyInvalidFields,
            coordinate: "Product",
            subgraphs: vec![(
                "a",
                fed("type Query { a: Product } type Product @key(fields: \"upc\") { id: ID! }"),
            )],
        },
        Case {
            name: "key selecting a field with arguments",
            code: ErrorCode::KeyFieldsHasArgs,
            coordinate: "Product",
            subgraphs: vec![(
                "a",
                fed(
                    "type Query { a: Product } type Product @key(fields: \"id(x: 1)\") { id(x: Int): ID! }",
                ),
            )],
        },
        Case {
            name: "key selecting an interface",
            code: ErrorCode::KeyFieldsSelectInvalidType,
            coordinate: "Product",
            subgraphs: vec![(
                "a",
                fed(
                    "type Query { a: Product } type Product @key(fields: \"owner { id }\") { owner: Node! } interface Node { id: ID! } type U implements Node { id: ID! }",
                ),
            )],
        },
        Case {
            name: "requires on an interface field",
            code: ErrorCode::RequiresUnsupportedOnInterface,
            coordinate: "Node.label",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { n: Node } interface Node { id: ID! name: String @external label: String @requires(fields: \"name\") } type T implements Node @key(fields: \"id\") { id: ID! name: String @external label: String @requires(fields: \"name\") }",
                    ),
                ),
                (
                    "b",
                    fed("type T @key(fields: \"id\") { id: ID! name: String }"),
                ),
            ],
        },
        Case {
            name: "provides on an interface field",
            code: ErrorCode::ProvidesUnsupportedOnInterface,
            coordinate: "Node.owner",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { n: Node } interface Node { owner: User @provides(fields: \"name\") } type T implements Node { owner: User @provides(fields: \"name\") } type User @key(fields: \"id\") { id: ID! name: String @external }",
                    ),
                ),
                (
                    "b",
                    fed("type User @key(fields: \"id\") { id: ID! name: String @shareable }"),
                ),
            ],
        },
        Case {
            name: "override on an external field",
            code: ErrorCode::OverrideCollisionWithAnotherDirective,
            coordinate: "Product.name",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { a: Product } type Product @key(fields: \"id\") { id: ID! name: String }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Product @key(fields: \"id\") { id: ID! name: String @external @override(from: \"a\") size: Int @requires(fields: \"name\") }",
                    ),
                ),
            ],
        },
        Case {
            name: "requires an unknown field",
            code: ErrorCode::RequiresInvalidFields,
            coordinate: "Product.shipping",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { a: Product } type Product @key(fields: \"id\") { id: ID! weight: Int }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Product @key(fields: \"id\") { id: ID! shipping: Int @requires(fields: \"size\") }",
                    ),
                ),
            ],
        },
        Case {
            name: "requires a field that is not external",
            code: ErrorCode::RequiresFieldsMissingExternal,
            coordinate: "Product.shipping",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { a: Product } type Product @key(fields: \"id\") { id: ID! weight: Int }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Product @key(fields: \"id\") { id: ID! weight: Int @shareable shipping: Int @requires(fields: \"weight\") }",
                    ),
                ),
            ],
        },
        Case {
            name: "provides an unknown field",
            code: ErrorCode::ProvidesInvalidFields,
            coordinate: "Query.review",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { review: Review @provides(fields: \"author { nickname }\") } type Review { id: ID! author: User } type User @key(fields: \"id\") { id: ID! name: String @external }",
                    ),
                ),
                (
                    "b",
                    fed("type User @key(fields: \"id\") { id: ID! name: String }"),
                ),
            ],
        },
        Case {
            name: "provides on a scalar field",
            code: ErrorCode::ProvidesOnNonObjectField,
            coordinate: "Query.count",
            subgraphs: vec![(
                "a",
                fed("type Query { count: Int @provides(fields: \"x\") }"),
            )],
        },
        Case {
            name: "unused external",
            code: ErrorCode::ExternalUnused,
            coordinate: "Product.weight",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { a: Product } type Product @key(fields: \"id\") { id: ID! weight: Int }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { b: Product } type Product @key(fields: \"id\") { id: ID! weight: Int @external }",
                    ),
                ),
            ],
        },
        Case {
            name: "external everywhere",
            code: ErrorCode::ExternalMissingOnBase,
            coordinate: "Product.weight",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { a: Product } type Product @key(fields: \"id\") { id: ID! weight: Int @external shipping: Int @requires(fields: \"weight\") }",
                    ),
                ),
                (
                    "b",
                    fed("type Query { b: Product } type Product @key(fields: \"id\") { id: ID! }"),
                ),
            ],
        },
        Case {
            name: "override from itself",
            code: ErrorCode::OverrideFromSelf,
            coordinate: "Product.name",
            subgraphs: vec![(
                "a",
                fed(
                    "type Query { a: Product } type Product @key(fields: \"id\") { id: ID! name: String @override(from: \"a\") }",
                ),
            )],
        },
        Case {
            name: "invalid override label",
            code: ErrorCode::OverrideLabelInvalid,
            coordinate: "Product.name",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { a: Product } type Product @key(fields: \"id\") { id: ID! name: String @override(from: \"b\", label: \"percent(150)\") }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { b: Product } type Product @key(fields: \"id\") { id: ID! name: String }",
                    ),
                ),
            ],
        },
        Case {
            name: "circular overrides",
            code: ErrorCode::OverrideSourceHasOverride,
            coordinate: "Product.name",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { a: Product } type Product @key(fields: \"id\") { id: ID! name: String @override(from: \"b\") }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { b: Product } type Product @key(fields: \"id\") { id: ID! name: String @override(from: \"a\") }",
                    ),
                ),
            ],
        },
        Case {
            name: "field only in a subgraph without resolvable key",
            code: ErrorCode::SatisfiabilityError,
            coordinate: "Product.shipping",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { products: [Product] } type Product @key(fields: \"id\") { id: ID! name: String }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { b: Int } type Product @key(fields: \"id\", resolvable: false) { id: ID! shipping: Int }",
                    ),
                ),
            ],
        },
        Case {
            name: "value type field only in one subgraph",
            code: ErrorCode::SatisfiabilityError,
            coordinate: "Money.currency",
            subgraphs: vec![
                (
                    "a",
                    fed("type Query { a: Money } type Money @shareable { amount: Int }"),
                ),
                (
                    "b",
                    fed(
                        "type Query { b: Money } type Money @shareable { amount: Int currency: String }",
                    ),
                ),
            ],
        },
        Case {
            name: "field of a nested key type that is not in the key",
            code: ErrorCode::InvalidFieldSharing,
            coordinate: "ItemId.note",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { items: [Item] } type Item @key(fields: \"id { one }\") { id: ItemId! } type ItemId { one: String! note: String }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Item @key(fields: \"id { one }\") { id: ItemId! size: Int } type ItemId { one: String! note: String }",
                    ),
                ),
            ],
        },
        Case {
            name: "narrower output type that is not a member",
            code: ErrorCode::FieldTypeMismatch,
            coordinate: "Shelf.top",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { shelves: [Shelf] } type Shelf @key(fields: \"id\") { id: ID! top: Item @shareable } union Item = Book | Vinyl type Book { title: String } type Vinyl { artist: String }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Shelf @key(fields: \"id\") { id: ID! top: Tape @shareable } type Tape { length: Int }",
                    ),
                ),
            ],
        },
        Case {
            name: "provides on a union field selecting a field that is not external",
            code: ErrorCode::ProvidesFieldsMissingExternal,
            coordinate: "Query.search",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { search: [Hit] @provides(fields: \"... on Book { title }\") } union Hit = Book type Book @key(fields: \"id\") { id: ID! title: String }",
                    ),
                ),
                (
                    "b",
                    fed("type Book @key(fields: \"id\") { id: ID! title: String @shareable }"),
                ),
            ],
        },
        Case {
            name: "enum used both ways with different values",
            code: ErrorCode::EnumValueMismatch,
            coordinate: "Status.GONE",
            subgraphs: vec![
                (
                    "a",
                    fed("type Query { a(s: Status): Status } enum Status { OK GONE }"),
                ),
                (
                    "b",
                    fed("type Query { b(s: Status): Status } enum Status { OK }"),
                ),
            ],
        },
        Case {
            name: "input-only enum without common values",
            code: ErrorCode::EmptyMergedEnumType,
            coordinate: "Sort",
            subgraphs: vec![
                ("a", fed("type Query { a(s: Sort): Int } enum Sort { ASC }")),
                (
                    "b",
                    fed("type Query { b(s: Sort): Int } enum Sort { DESC }"),
                ),
            ],
        },
        Case {
            name: "required input field missing in a subgraph",
            code: ErrorCode::RequiredInputFieldMissingInSomeSubgraph,
            coordinate: "Filter.term",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { a(f: Filter): Int } input Filter { term: String! limit: Int }",
                    ),
                ),
                (
                    "b",
                    fed("type Query { b(f: Filter): Int } input Filter { limit: Int }"),
                ),
            ],
        },
        Case {
            name: "input without common fields",
            code: ErrorCode::EmptyMergedInputType,
            coordinate: "Filter",
            subgraphs: vec![
                (
                    "a",
                    fed("type Query { a(f: Filter): Int } input Filter { x: Int }"),
                ),
                (
                    "b",
                    fed("type Query { b(f: Filter): Int } input Filter { y: Int }"),
                ),
            ],
        },
        Case {
            name: "input field types differ",
            code: ErrorCode::FieldArgumentTypeMismatch,
            coordinate: "Filter.limit",
            subgraphs: vec![
                (
                    "a",
                    fed("type Query { a(f: Filter): Int } input Filter { limit: Int }"),
                ),
                (
                    "b",
                    fed("type Query { b(f: Filter): Int } input Filter { limit: String }"),
                ),
            ],
        },
        Case {
            name: "input field defaults differ",
            code: ErrorCode::InputFieldDefaultMismatch,
            coordinate: "Filter.limit",
            subgraphs: vec![
                (
                    "a",
                    fed("type Query { a(f: Filter): Int } input Filter { limit: Int = 10 }"),
                ),
                (
                    "b",
                    fed("type Query { b(f: Filter): Int } input Filter { limit: Int = 20 }"),
                ),
            ],
        },
        Case {
            name: "required argument missing in a subgraph",
            code: ErrorCode::RequiredArgumentMissingInSomeSubgraph,
            coordinate: "T.f(x:)",
            subgraphs: vec![
                (
                    "a",
                    fed("type Query { a: T } type T @shareable { f(x: Int!): Int }"),
                ),
                ("b", fed("type Query { b: T } type T @shareable { f: Int }")),
            ],
        },
        Case {
            name: "argument defaults differ",
            code: ErrorCode::ArgumentDefaultMismatch,
            coordinate: "T.f(x:)",
            subgraphs: vec![
                (
                    "a",
                    fed("type Query { a: T } type T @shareable { f(x: Int = 1): Int }"),
                ),
                (
                    "b",
                    fed("type Query { b: T } type T @shareable { f(x: Int = 2): Int }"),
                ),
            ],
        },
        Case {
            name: "interface field not implemented",
            code: ErrorCode::InterfaceFieldNoImplem,
            coordinate: "Book.title",
            subgraphs: vec![(
                "a",
                fed(
                    "type Query { a: Node } interface Node { id: ID! title: String } type Book implements Node { id: ID! }",
                ),
            )],
        },
        Case {
            name: "entity interface key missing on an implementation",
            code: ErrorCode::InterfaceKeyNotOnImplementations,
            coordinate: "Book",
            subgraphs: vec![(
                "a",
                fed(
                    "type Query { a: Media } interface Media @key(fields: \"id\") { id: ID! } type Book implements Media { id: ID! }",
                ),
            )],
        },
        Case {
            name: "interface object without an entity interface",
            code: ErrorCode::InterfaceObjectUsageError,
            coordinate: "Media",
            subgraphs: vec![
                (
                    "a",
                    fed(
                        "type Query { a: Media } interface Media { id: ID! } type Book implements Media { id: ID! }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { b: Media } type Media @key(fields: \"id\") @interfaceObject { id: ID! views: Int }",
                    ),
                ),
            ],
        },
        Case {
            name: "unknown type",
            code: ErrorCode::UnknownType,
            coordinate: "Query.a",
            subgraphs: vec![("a", fed("type Query { a: Missing }"))],
        },
        Case {
            name: "input object used as an output type",
            code: ErrorCode::InvalidGraphql,
            coordinate: "Query.a",
            subgraphs: vec![("a", fed("type Query { a: In } input In { x: Int }"))],
        },
        Case {
            name: "object type used as an argument type",
            code: ErrorCode::InvalidGraphql,
            coordinate: "Query.a(o:)",
            subgraphs: vec![(
                "a",
                fed("type Query { a(o: Out): Int } type Out { x: Int }"),
            )],
        },
        Case {
            name: "field declared twice",
            code: ErrorCode::InvalidGraphql,
            coordinate: "Query.a",
            subgraphs: vec![(
                "a",
                fed("type Query { a: Int } extend type Query { a: Int }"),
            )],
        },
        Case {
            name: "invalid SDL",
            code: ErrorCode::InvalidGraphql,
            coordinate: "",
            subgraphs: vec![("a", fed("type Query { a: }"))],
        },
        Case {
            name: "renamed root clashing with a type named Query",
            code: ErrorCode::RootTypeUsed,
            coordinate: "Query",
            subgraphs: vec![(
                "a",
                fed("schema { query: Root } type Root { a: Query } type Query { b: Int }"),
            )],
        },
        Case {
            name: "visible field of an inaccessible type",
            code: ErrorCode::ReferencedInaccessible,
            coordinate: "Query.secret",
            subgraphs: vec![(
                "a",
                fed("type Query { secret: Secret } type Secret @inaccessible { v: String }"),
            )],
        },
        Case {
            name: "no query root",
            code: ErrorCode::NoQueries,
            coordinate: "",
            subgraphs: vec![("a", fed("type Product @key(fields: \"id\") { id: ID! }"))],
        },
    ]
}
