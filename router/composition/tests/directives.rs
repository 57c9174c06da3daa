//! What each federation feature becomes in the supergraph, on minimal subgraphs.

mod common;

use common::{compose_ok, fed, field_line, type_header};

#[test]
fn single_compound_nested_and_multiple_keys() {
    let s = common::compose_case("single_compound_nested_and_multiple_keys");
    assert_eq!(
        type_header(&s.sdl, "Product"),
        "type Product @join__type(graph: A, key: \"id\") @join__type(graph: A, key: \"sku variant { code }\") @join__type(graph: B, key: \"id\")"
    );
    assert_eq!(field_line(&s.sdl, "Product", "id"), "id: ID!");
    assert_eq!(
        field_line(&s.sdl, "Product", "stock"),
        "stock: Int @join__field(graph: B)"
    );
}

#[test]
fn unresolvable_key() {
    let s = common::compose_case("unresolvable_key");
    assert!(
        type_header(&s.sdl, "Product")
            .contains("@join__type(graph: B, key: \"id\", resolvable: false)"),
        "{}",
        s.sdl
    );
}

#[test]
fn shareable_on_type_and_field() {
    let s = common::compose_case("shareable_on_type_and_field");
    assert_eq!(field_line(&s.sdl, "Money", "amount"), "amount: String!");
    // Defined alike by every subgraph of `Query`: no `@join__field` needed.
    assert_eq!(field_line(&s.sdl, "Query", "v"), "v: String");
    assert_eq!(
        type_header(&s.sdl, "Money"),
        "type Money @join__type(graph: A) @join__type(graph: B)"
    );
}

#[test]
fn key_fields_are_implicitly_shareable() {
    let s = common::compose_case("key_fields_are_implicitly_shareable");
    assert_eq!(field_line(&s.sdl, "Product", "id"), "id: ID!");
}

#[test]
fn external_requires_with_arguments_and_nested_selection() {
    let s = common::compose_case("external_requires_with_arguments_and_nested_selection");
    assert_eq!(
        field_line(&s.sdl, "Product", "weight"),
        "weight: Int @join__field(graph: A) @join__field(graph: B, external: true)"
    );
    assert_eq!(
        field_line(&s.sdl, "Product", "ship"),
        "ship(zone: String! = \"EU\"): Int @join__field(graph: B, requires: \"weight price { amount unit }\")"
    );
}

#[test]
fn provides() {
    let s = common::compose_case("provides");
    assert_eq!(
        field_line(&s.sdl, "Review", "author"),
        "author: User @join__field(graph: B, provides: \"name\")"
    );
    assert_eq!(
        field_line(&s.sdl, "User", "name"),
        "name: String @join__field(graph: A) @join__field(graph: B, external: true)"
    );
}

#[test]
fn override_drops_the_unused_source() {
    let s = common::compose_case("override_drops_the_unused_source");
    assert_eq!(
        field_line(&s.sdl, "Product", "stock"),
        "stock: Int @join__field(graph: B, override: \"a\")"
    );
}

#[test]
fn progressive_override_labels_both_sides_and_links_join_v04() {
    let s = common::compose_case("progressive_override");
    assert_eq!(
        field_line(&s.sdl, "Product", "name"),
        "name: String @join__field(graph: A, override: \"b\", overrideLabel: \"percent(10)\") @join__field(graph: B, overrideLabel: \"percent(10)\")"
    );
    assert!(
        s.sdl
            .contains("@link(url: \"https://specs.apollo.dev/join/v0.4\", for: EXECUTION)")
    );
    assert!(s.sdl.contains("  overrideLabel: String\n"));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn override_keeps_a_source_still_used_by_its_key() {
    let s = common::compose_case("override_keeps_a_source_still_used_by_its_key");
    assert_eq!(
        field_line(&s.sdl, "Product", "sku"),
        "sku: String! @join__field(graph: A, usedOverridden: true) @join__field(graph: B, override: \"a\")"
    );
}

#[test]
fn inaccessible_and_tag_are_kept_with_their_links() {
    let s = common::compose_case("inaccessible_and_tag_are_kept_with_their_links");
    assert!(
        s.sdl
            .contains("@link(url: \"https://specs.apollo.dev/tag/v0.3\")")
    );
    assert!(
        s.sdl
            .contains("@link(url: \"https://specs.apollo.dev/inaccessible/v0.2\", for: SECURITY)")
    );
    assert!(s.sdl.contains("directive @inaccessible on"));
    assert_eq!(
        field_line(&s.sdl, "P", "secret"),
        "secret: String @inaccessible"
    );
    assert_eq!(
        field_line(&s.sdl, "P", "f"),
        "f(arg: Int @tag(name: \"arg\")): Int"
    );
    assert_eq!(
        field_line(&s.sdl, "E", "B"),
        "B @join__enumValue(graph: A) @inaccessible"
    );
    assert_eq!(field_line(&s.sdl, "I", "x"), "x: Int @tag(name: \"x\")");
    assert!(type_header(&s.sdl, "P").ends_with("@tag(name: \"t\")"));
}

#[test]
fn links_are_left_out_when_unused() {
    let s = compose_ok(&[("a", &fed("type Query { a: Int }"))]);
    assert!(!s.sdl.contains("specs.apollo.dev/tag"));
    assert!(!s.sdl.contains("specs.apollo.dev/inaccessible"));
}

#[test]
fn interface_object_adds_fields_to_implementations() {
    let s = common::compose_case("interface_object_adds_fields_to_implementations");
    assert_eq!(
        type_header(&s.sdl, "Media"),
        "interface Media @join__type(graph: A, key: \"id\") @join__type(graph: B, key: \"id\", isInterfaceObject: true)"
    );
    assert_eq!(
        field_line(&s.sdl, "Media", "views"),
        "views: Int @join__field(graph: B)"
    );
    assert_eq!(
        field_line(&s.sdl, "Media", "title"),
        "title: String @join__field(graph: A)"
    );
    assert_eq!(
        field_line(&s.sdl, "Image", "views"),
        "views: Int @join__field"
    );
}

#[test]
fn interfaces_and_unions_across_subgraphs() {
    let s = common::compose_case("interfaces_and_unions_across_subgraphs");
    assert_eq!(
        type_header(&s.sdl, "R"),
        "union R @join__type(graph: A) @join__type(graph: B) @join__unionMember(graph: A, member: \"X\") @join__unionMember(graph: B, member: \"Y\") = X | Y"
    );
    assert_eq!(
        type_header(&s.sdl, "Y"),
        "type Y implements Node @join__type(graph: B) @join__implements(graph: B, interface: \"Node\")"
    );
}

#[test]
fn enums_merge_by_usage() {
    let s = common::compose_case("enums_merge_by_usage");
    // Input only: intersection.
    assert!(!s.sdl.contains("TOP"), "{}", s.sdl);
    assert_eq!(
        field_line(&s.sdl, "Sort", "ASC"),
        "ASC @join__enumValue(graph: A) @join__enumValue(graph: B)"
    );
    // Output only: union.
    assert_eq!(
        field_line(&s.sdl, "Color", "RED"),
        "RED @join__enumValue(graph: A)"
    );
    assert_eq!(
        field_line(&s.sdl, "Color", "BLUE"),
        "BLUE @join__enumValue(graph: B)"
    );
}

#[test]
fn input_objects_and_arguments_intersect() {
    let s = common::compose_case("input_objects_and_arguments_intersect");
    assert_eq!(
        field_line(&s.sdl, "F", "x"),
        "x: Int! @join__field(graph: A, type: \"Int\") @join__field(graph: B, type: \"Int!\")"
    );
    assert_eq!(field_line(&s.sdl, "F", "y"), "y: Int = 3");
    assert!(!s.sdl.contains("  z: Int"), "{}", s.sdl);
    assert_eq!(field_line(&s.sdl, "T", "g"), "g(x: Int!): Int");
}

#[test]
fn output_types_merge_to_the_nullable_one() {
    let s = common::compose_case("output_types_merge_to_the_nullable_one");
    assert_eq!(
        field_line(&s.sdl, "T", "v"),
        "v: String @join__field(graph: A, type: \"String!\") @join__field(graph: B, type: \"String\")"
    );
}

#[test]
fn extensions_are_marked() {
    let s = common::compose_case("extensions_are_marked");
    assert!(
        type_header(&s.sdl, "Product")
            .contains("@join__type(graph: B, key: \"id\", extension: true)"),
        "{}",
        s.sdl
    );
    assert!(
        type_header(&s.sdl, "C").contains("@join__type(graph: B, key: \"id\", extension: true)"),
        "{}",
        s.sdl
    );
    // The key of an extension is owned, not external.
    assert_eq!(field_line(&s.sdl, "Product", "id"), "id: ID!");
}

#[test]
fn renamed_root_types() {
    let s = common::compose_case("renamed_root_types");
    assert!(
        s.sdl.contains("  query: Query\n  mutation: Mutation\n"),
        "{}",
        s.sdl
    );
    assert!(!s.sdl.contains("RootQuery"), "{}", s.sdl);
    assert_eq!(field_line(&s.sdl, "Mutation", "m"), "m: Int");
}

#[test]
fn descriptions_deprecations_and_defaults() {
    let s = common::compose_case("descriptions_deprecations_and_defaults");
    assert!(
        s.sdl.contains("\"\"\"\nThe root.\n\"\"\"\ntype Query"),
        "{}",
        s.sdl
    );
    assert!(s.sdl.contains("  \"\"\"\n  Look one up.\n  \"\"\"\n  p(\n    \"\"\"\n    Which one.\n    \"\"\"\n    id: ID! = \"1\"\n  ): Int @deprecated(reason: \"no\")"), "{}", s.sdl);
    assert_eq!(field_line(&s.sdl, "Query", "old"), "old: Int @deprecated");
    assert_eq!(
        type_header(&s.sdl, "Date"),
        "scalar Date @join__type(graph: A) @specifiedBy(url: \"https://example.com\")"
    );
}

#[test]
fn async_graphql_output_is_accepted() {
    // Shape of `sdl_with_options(SDLExportOptions::new().federation())` from async-graphql 7.
    let a = "type Query {\n\tproduct(id: ID!): Product\n}\n\ntype Product @key(fields: \"id\") {\n\tid: ID!\n\tname: String! @shareable\n}\n\n\
             directive @include(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n\
             directive @skip(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n\
             extend schema @link(\n\turl: \"https://specs.apollo.dev/federation/v2.5\",\n\timport: [\"@key\", \"@tag\", \"@shareable\", \"@inaccessible\", \"@override\", \"@external\", \"@provides\", \"@requires\", \"@composeDirective\", \"@interfaceObject\"]\n)\n";
    let s = compose_ok(&[("a", a)]);
    assert_eq!(field_line(&s.sdl, "Product", "name"), "name: String!");
    assert!(!s.sdl.contains("directive @include"));
}

#[test]
fn output_is_deterministic_and_order_independent() {
    let mut subgraphs = common::fixtures();
    let first = composition::compose(&subgraphs)
        .expect("fixtures compose")
        .sdl;
    subgraphs.reverse();
    let second = composition::compose(&subgraphs)
        .expect("fixtures compose")
        .sdl;
    assert_eq!(first, second);
}

#[test]
fn interface_object_external_field_keeps_its_join_field() {
    // The Guild's composition prints `name` here without any `@join__field`, which tells
    // the planner that subgraph `b` resolves it although `b` declares it `@external`. This
    // crate keeps the per-subgraph view, as for any other external field.
    let a = fed(
        "type Query { all: [Item] } interface Item @key(fields: \"id\") { id: ID! name: String } \
         type Book implements Item @key(fields: \"id\") { id: ID! name: String pages: Int }",
    );
    let b = fed(
        "type Item @key(fields: \"id\") @interfaceObject { id: ID! name: String @external label: String @requires(fields: \"name\") }",
    );
    let s = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(
        field_line(&s.sdl, "Item", "name"),
        "name: String @join__field(graph: A) @join__field(graph: B, external: true)"
    );
    assert_eq!(
        field_line(&s.sdl, "Item", "label"),
        "label: String @join__field(graph: B, requires: \"name\")"
    );
    assert_eq!(
        field_line(&s.sdl, "Book", "label"),
        "label: String @join__field"
    );
}

#[test]
fn narrowed_field_keeps_the_wider_type_and_each_subgraph_its_own() {
    let sdl = common::compose_case("field_narrowed_to_an_implementation").sdl;
    let line = common::field_line(&sdl, "Desk", "featured");
    assert!(line.starts_with("featured: Media "), "{line}");
    assert!(
        line.contains("@join__field(graph: A, type: \"Media\")"),
        "{line}"
    );
    assert!(
        line.contains("@join__field(graph: B, type: \"Book\")"),
        "{line}"
    );
}

#[test]
fn federation_1_subgraphs_share_fields_and_own_their_extension_keys() {
    let sdl = common::compose_case("federation_1_beside_federation_2").sdl;
    // `extend type` in a federation 1 subgraph is not an extension and its `@external`
    // key is its own; `@requires` still reads the external `name`.
    let shop = common::type_header(&sdl, "Shop");
    assert!(
        shop.contains("@join__type(graph: B, key: \"id\")"),
        "{shop}"
    );
    assert!(!shop.contains("extension"), "{shop}");
    assert_eq!(common::field_line(&sdl, "Shop", "id"), "id: ID!");
    let rating = common::field_line(&sdl, "Shop", "rating");
    assert!(rating.contains("requires: \"name\""), "{rating}");
    // The root field and the value type both federation 1 subgraphs define are shared.
    assert_eq!(
        common::field_line(&sdl, "Query", "version"),
        "version: String @join__field(graph: A) @join__field(graph: B)"
    );
    assert_eq!(common::field_line(&sdl, "Hours", "open"), "open: Int");
}

#[test]
fn fields_of_an_external_type_are_external() {
    let sdl = common::compose_case("external_type_and_list_key").sdl;
    let w = common::field_line(&sdl, "Size", "w");
    assert!(w.contains("@join__field(graph: B, external: true)"), "{w}");
    assert!(
        common::type_header(&sdl, "Crate").contains("key: \"codes\""),
        "{sdl}"
    );
}
