//! Valid compositions exercising one feature each, shared by the directive tests (which
//! check what the feature becomes) and the comparison with the reference composition.

#![allow(dead_code)]

fn fed(body: &str) -> String {
    crate::common::fed(body)
}

const FED_2_7: &str = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.7\", import: [\"@key\", \"@override\"])\n";

pub fn valid() -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    vec![
        (
            "single_compound_nested_and_multiple_keys",
            vec![
                (
                    "a",
                    fed("type Query { p: Product } \
         type Product @key(fields: \"id\") @key(fields: \"sku variant { code }\") { id: ID! sku: String! variant: Variant! } \
         type Variant { code: String! }"),
                ),
                (
                    "b",
                    fed("type Product @key(fields: \"id\") { id: ID! stock: Int }"),
                ),
            ],
        ),
        (
            "unresolvable_key",
            vec![
                (
                    "a",
                    fed(
                        "type Query { p: Product } type Product @key(fields: \"id\") { id: ID! name: String }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { r: Review } type Review { product: Product } type Product @key(fields: \"id\", resolvable: false) { id: ID! }",
                    ),
                ),
            ],
        ),
        (
            "shareable_on_type_and_field",
            vec![
                (
                    "a",
                    fed(
                        "type Query { a: Money v: String @shareable } type Money @shareable { amount: String! }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { b: Money v: String @shareable } type Money @shareable { amount: String! }",
                    ),
                ),
            ],
        ),
        (
            "external_requires_with_arguments_and_nested_selection",
            vec![
                (
                    "a",
                    fed(
                        "type Query { p: Product } type Product @key(fields: \"id\") { id: ID! weight: Int price: Money } type Money @shareable { amount: Int unit: String }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Product @key(fields: \"id\") { id: ID! weight: Int @external price: Money @external \
         ship(zone: String! = \"EU\"): Int @requires(fields: \"weight price { amount unit }\") } \
         type Money @shareable { amount: Int unit: String }",
                    ),
                ),
            ],
        ),
        (
            "provides",
            vec![
                (
                    "a",
                    fed(
                        "type Query { u: User } type User @key(fields: \"id\") { id: ID! name: String @shareable }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { r: Review } type Review { author: User @provides(fields: \"name\") } type User @key(fields: \"id\") { id: ID! name: String @external }",
                    ),
                ),
            ],
        ),
        (
            "override_drops_the_unused_source",
            vec![
                (
                    "a",
                    fed(
                        "type Query { p: Product } type Product @key(fields: \"id\") { id: ID! stock: Int }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Product @key(fields: \"id\") { id: ID! stock: Int @override(from: \"a\") }",
                    ),
                ),
            ],
        ),
        (
            "override_keeps_a_source_still_used_by_its_key",
            vec![
                (
                    "a",
                    fed(
                        "type Query { p: Product } type Product @key(fields: \"id\") @key(fields: \"sku\") { id: ID! sku: String! }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Product @key(fields: \"id\") { id: ID! sku: String! @override(from: \"a\") }",
                    ),
                ),
            ],
        ),
        (
            "inaccessible_and_tag_are_kept_with_their_links",
            vec![(
                "a",
                fed(
                    "type Query { p: P @tag(name: \"public\") } type P @tag(name: \"t\") { secret: String @inaccessible \
         f(arg: Int @tag(name: \"arg\")): Int } enum E { A B @inaccessible } input I { x: Int @tag(name: \"x\") } \
         type Query2 { e(i: I): E }",
                ),
            )],
        ),
        (
            "interface_object_adds_fields_to_implementations",
            vec![
                (
                    "a",
                    fed(
                        "type Query { media: [Media] } interface Media @key(fields: \"id\") { id: ID! title: String } \
         type Image implements Media @key(fields: \"id\") { id: ID! title: String url: String }",
                    ),
                ),
                (
                    "b",
                    fed("type Media @key(fields: \"id\") @interfaceObject { id: ID! views: Int }"),
                ),
            ],
        ),
        (
            "interfaces_and_unions_across_subgraphs",
            vec![
                (
                    "a",
                    fed(
                        "type Query { a: [R] n: Node @shareable } interface Node { id: ID! } type X implements Node { id: ID! } union R = X",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { b: [R] n: Node @shareable } interface Node { id: ID! } type Y implements Node { id: ID! } union R = Y",
                    ),
                ),
            ],
        ),
        (
            "enums_merge_by_usage",
            vec![
                (
                    "a",
                    fed(
                        "type Query { a(s: Sort): Color } enum Sort { ASC DESC TOP } enum Color { RED }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { b(s: Sort): Color } enum Sort { ASC DESC } enum Color { BLUE }",
                    ),
                ),
            ],
        ),
        (
            "input_objects_and_arguments_intersect",
            vec![
                (
                    "a",
                    fed(
                        "type Query { a(f: F): Int } type T @shareable { g(x: Int, y: Int): Int } input F { x: Int y: Int = 3 }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { b(f: F): Int t: T } type T @shareable { g(x: Int!): Int } input F { x: Int! y: Int = 3 z: Int }",
                    ),
                ),
            ],
        ),
        (
            "output_types_merge_to_the_nullable_one",
            vec![
                (
                    "a",
                    fed("type Query { a: T } type T @shareable { v: String! }"),
                ),
                (
                    "b",
                    fed("type Query { b: T } type T @shareable { v: String }"),
                ),
            ],
        ),
        (
            "extensions_are_marked",
            vec![
                (
                    "a",
                    fed("type Query { p: Product } type Product @key(fields: \"id\") { id: ID! }"),
                ),
                (
                    "b",
                    fed(
                        "extend type Product @key(fields: \"id\") { id: ID! @external n: Int } type C @extends @key(fields: \"id\") { id: ID! @external m: Int }",
                    ),
                ),
                (
                    "c",
                    fed("type Query { c: C } type C @key(fields: \"id\") { id: ID! }"),
                ),
            ],
        ),
        (
            "renamed_root_types",
            vec![
                (
                    "a",
                    fed(
                        "schema { query: RootQuery mutation: RootMutation } type RootQuery { a: Int } type RootMutation { m: Int }",
                    ),
                ),
                ("b", fed("type Query { b: Int }")),
            ],
        ),
        (
            "descriptions_deprecations_and_defaults",
            vec![(
                "a",
                fed(
                    "\"The root.\" type Query { \"Look one up.\" p(\"Which one.\" id: ID! = \"1\"): Int @deprecated(reason: \"no\") old: Int @deprecated } \
         scalar Date @specifiedBy(url: \"https://example.com\") type X { d: Date }",
                ),
            )],
        ),
        (
            "key_fields_are_implicitly_shareable",
            vec![
                (
                    "a",
                    fed("type Query { a: Product } type Product @key(fields: \"id\") { id: ID! }"),
                ),
                (
                    "b",
                    fed(
                        "type Query { b: Product } type Product @key(fields: \"id\") { id: ID! n: Int }",
                    ),
                ),
            ],
        ),
        // The cases below are checked only against the reference composition.
        (
            "external_key_field_on_a_non_extension_type",
            vec![
                (
                    "a",
                    fed(
                        "type Query { p: Product } type Product @key(fields: \"id\") { id: ID! name: String }",
                    ),
                ),
                (
                    "b",
                    fed("type Product @key(fields: \"id\") { id: ID! @external stock: Int }"),
                ),
            ],
        ),
        (
            "interfaces_implementing_interfaces",
            vec![
                (
                    "a",
                    fed(
                        "type Query { n: Node } interface Node { id: ID! } interface Named implements Node { id: ID! name: String } type User implements Named & Node @key(fields: \"id\") { id: ID! name: String }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { m: Named @shareable } interface Node { id: ID! } interface Named implements Node { id: ID! name: String } type Team implements Named & Node { id: ID! name: String }",
                    ),
                ),
            ],
        ),
        (
            "entity_interface_in_two_subgraphs",
            vec![
                (
                    "a",
                    fed(
                        "type Query { a: Account } interface Account @key(fields: \"id\") { id: ID! } type Basic implements Account @key(fields: \"id\") { id: ID! plan: String }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { b: Account } interface Account @key(fields: \"id\") { id: ID! } type Basic implements Account @key(fields: \"id\") { id: ID! usage: Int }",
                    ),
                ),
            ],
        ),
        (
            "inaccessible_type_and_its_references",
            vec![(
                "a",
                fed(
                    "type Query { a: Int hidden: Secret @inaccessible } type Secret @inaccessible { v: String }",
                ),
            )],
        ),
        (
            "subscriptions_and_mutations_in_two_subgraphs",
            vec![
                (
                    "a",
                    fed(
                        "type Query { a: Int } type Mutation { doA: Int } type Subscription { ticks: Int }",
                    ),
                ),
                ("b", fed("type Query { b: Int } type Mutation { doB: Int }")),
            ],
        ),
        (
            "unused_enum_takes_every_value",
            vec![
                ("a", fed("type Query { a: Int } enum Level { LOW }")),
                ("b", fed("type Query { b: Int } enum Level { HIGH }")),
            ],
        ),
        (
            "provides_on_a_list_with_a_nested_selection",
            vec![
                (
                    "a",
                    fed(
                        "type Query { users: [User] } type User @key(fields: \"id\") { id: ID! profile: Profile @shareable } type Profile @shareable { bio: String }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { team: [User!]! @provides(fields: \"profile { bio }\") } type User @key(fields: \"id\") { id: ID! profile: Profile @external } type Profile @shareable { bio: String }",
                    ),
                ),
            ],
        ),
        (
            "requires_selecting_a_field_with_arguments",
            vec![
                (
                    "a",
                    fed(
                        "type Query { p: Product } type Product @key(fields: \"id\") { id: ID! size(unit: String): Int }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Product @key(fields: \"id\") { id: ID! size(unit: String): Int @external box: String @requires(fields: \"size(unit: \\\"cm\\\")\") }",
                    ),
                ),
            ],
        ),
        (
            "shareable_fields_with_differing_descriptions_and_arguments",
            vec![
                (
                    "a",
                    fed(
                        "type Query { a: T } type T @shareable { \"From a.\" f(\"x in a\" x: Int, y: Int = 1): Int }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { b: T } type T @shareable { \"From b.\" f(x: Int, y: Int = 1, z: String): Int }",
                    ),
                ),
            ],
        ),
        (
            "value_type_in_three_subgraphs_with_nullability_differences",
            vec![
                (
                    "a",
                    fed(
                        "type Query { a: Money } type Money @shareable { amount: String! currency: String! }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { b: Money } type Money @shareable { amount: String currency: String! }",
                    ),
                ),
                (
                    "c",
                    fed(
                        "type Query { c: [Money!] } type Money @shareable { amount: String! currency: String! }",
                    ),
                ),
            ],
        ),
        (
            "query_declared_as_an_extension",
            vec![
                ("a", fed("type Query { a: Int }")),
                ("b", fed("extend type Query { b: Int }")),
            ],
        ),
        (
            "value_type_declared_as_an_extension",
            vec![
                (
                    "a",
                    fed("type Query { a: Info } type Info @shareable { x: Int }"),
                ),
                (
                    "b",
                    fed("type Query { b: Info } extend type Info @shareable { x: Int }"),
                ),
            ],
        ),
        (
            "progressive_override",
            // Labels exist since federation v2.7.
            vec![
                (
                    "a",
                    format!(
                        "{FED_2_7}type Query {{ a: Product }} type Product @key(fields: \"id\") {{ id: ID! name: String @override(from: \"b\", label: \"percent(10)\") }}"
                    ),
                ),
                (
                    "b",
                    format!(
                        "{FED_2_7}type Query {{ b: Product }} type Product @key(fields: \"id\") {{ id: ID! name: String }}"
                    ),
                ),
            ],
        ),
        (
            "field_narrowed_to_an_implementation",
            // `a` (the wider type) comes first: the reference keeps the first subgraph's type.
            vec![
                (
                    "a",
                    fed(
                        "type Query { desk: Desk } type Desk @key(fields: \"id\") { id: ID! featured: Media @shareable } \
                         interface Media { id: ID! } type Book implements Media @key(fields: \"id\") { id: ID! } \
                         type Film implements Media @key(fields: \"id\") { id: ID! }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Desk @key(fields: \"id\") { id: ID! featured: Book @shareable } type Book @key(fields: \"id\") { id: ID! pages: Int }",
                    ),
                ),
            ],
        ),
        (
            "federation_1_beside_federation_2",
            vec![
                (
                    "a",
                    "type Query { shops: [Shop] version: String } type Shop @key(fields: \"id\") { id: ID! name: String hours: Hours } type Hours { open: Int }".to_owned(),
                ),
                (
                    "b",
                    "type Query { version: String } extend type Shop @key(fields: \"id\") { id: ID! @external name: String @external rating: Int @requires(fields: \"name\") } type Hours { open: Int }".to_owned(),
                ),
                (
                    "c",
                    fed(
                        "type Shop @key(fields: \"id\") { id: ID! staff: Int }",
                    ),
                ),
            ],
        ),
        (
            "external_type_and_list_key",
            vec![
                (
                    "a",
                    fed(
                        "type Query { crates: [Crate] } type Crate @key(fields: \"codes\") { codes: [String!]! size: Size } type Size { w: Int h: Int }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Crate @key(fields: \"codes\") { codes: [String!]! size: Size @external area: Int @requires(fields: \"size { w h }\") } type Size @external { w: Int h: Int }",
                    ),
                ),
            ],
        ),
        (
            "shareable_union_root_field_with_different_members",
            // The planner gives up on such a field (it keeps only members every candidate
            // subgraph has); satisfiability then falls back to the graph itself.
            vec![
                (
                    "a",
                    fed(
                        "type Query { find: [Hit!]! @shareable } union Hit = Book | Film type Book { title: String } type Film { reel: Int }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Query { find: [Hit!]! @shareable } union Hit = Song type Song { length: Int }",
                    ),
                ),
            ],
        ),
        (
            "interface_object_fragments",
            // Fields of an implementation under `... on Admin`, reached from the subgraph
            // that only knows the interface object.
            vec![
                (
                    "a",
                    fed(
                        "type Query { accounts: [Account!]! } type Account @key(fields: \"id\") @interfaceObject { id: ID! logins: Int }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "interface Account @key(fields: \"id\") { id: ID! } type Admin implements Account @key(fields: \"id\") { id: ID! level: Int } type Member implements Account @key(fields: \"id\") { id: ID! since: Int }",
                    ),
                ),
            ],
        ),
        (
            "federation_1_provides_interfaces_and_query_extensions",
            vec![
                (
                    "a",
                    "extend type Query { reviews: [Review] } type Query @extends { top: [Thing] } \
                     type Review @key(fields: \"id\") { id: ID! body: String author: User @provides(fields: \"name\") } \
                     extend type User @key(fields: \"id\") { id: ID! @external name: String @external reviews: [Review] } \
                     interface Named { name: String } union Found = Thing \
                     type Thing implements Named @key(fields: \"id\") { id: ID! name: String kind: Kind } enum Kind { BIG SMALL }"
                        .to_owned(),
                ),
                (
                    "b",
                    "extend type Query { me: User } type User @key(fields: \"id\") { id: ID! name: String username: String } \
                     extend type Thing @key(fields: \"id\") { id: ID! @external stock: Int dims: Dims } type Dims { w: Int h: Int } \
                     enum Kind { BIG SMALL }"
                        .to_owned(),
                ),
                (
                    "c",
                    "extend type Thing @key(fields: \"id\") { id: ID! @external dims: Dims @external volume: Int @requires(fields: \"dims { w h }\") } \
                     type Dims { w: Int h: Int }"
                        .to_owned(),
                ),
            ],
        ),
        (
            "inaccessible_value_left_out_still_links_the_spec",
            // `Z` is dropped (an input-only enum keeps the values every subgraph accepts),
            // and the supergraph still links the inaccessible spec, as the reference does.
            vec![
                (
                    "a",
                    fed("type Query { a(k: K): Int } enum K { X Y Z @inaccessible }"),
                ),
                ("b", fed("type Query { b(k: K): Int } enum K { X Y }")),
            ],
        ),
        (
            "override_from_a_subgraph_that_only_declares_the_field",
            // `b` declares `owner` @external for its @requires; `a`'s override takes
            // nothing from it, so `b`'s declaration stays a plain external one.
            vec![
                (
                    "a",
                    fed(
                        "type Query { list: [Thing] } type Thing @key(fields: \"id\") { id: ID! owner: String @override(from: \"b\") }",
                    ),
                ),
                (
                    "b",
                    fed(
                        "type Thing @key(fields: \"id\") { id: ID! owner: String @external score: Int @requires(fields: \"owner\") }",
                    ),
                ),
            ],
        ),
    ]
}
