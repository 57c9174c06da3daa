//! Each error code, triggered by a minimal composition (see `common/cases.rs`), plus the
//! warnings and the subgraph-name checks.

mod common;

use composition::{ErrorCode, SubgraphSdl, compose};

fn run_case(name: &str) {
    let case = common::cases::invalid()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"));
    let list: Vec<(&str, &str)> = case
        .subgraphs
        .iter()
        .map(|(n, s)| (*n, s.as_str()))
        .collect();
    let errors = common::compose_err(&list);
    let found = errors
        .errors
        .iter()
        .find(|e| e.code == case.code)
        .unwrap_or_else(|| panic!("case \"{name}\": expected {} but got:\n{errors}", case.code));
    if !case.coordinate.is_empty() {
        assert!(
            found.coordinates.iter().any(|c| c == case.coordinate),
            "case \"{name}\": {} does not name {}: {found}",
            case.code,
            case.coordinate
        );
    }
    assert!(!found.message.is_empty());
    // Display prints one line per error, each starting with its code.
    for line in errors.to_string().lines() {
        assert!(line.starts_with('['), "{line}");
    }
}

macro_rules! case_test {
    ($fn:ident, $name:literal) => {
        #[test]
        fn $fn() {
            run_case($name);
        }
    };
}

case_test!(kind_mismatch, "kind mismatch");
case_test!(incompatible_field_types, "incompatible field types");
case_test!(list_against_non_list, "list against non-list");
case_test!(
    non_shareable_field_in_two_subgraphs,
    "non-shareable field in two subgraphs"
);
case_test!(
    non_shareable_root_field_in_two_subgraphs,
    "non-shareable root field in two subgraphs"
);
case_test!(key_on_unknown_field, "key on unknown field");
case_test!(
    key_selecting_a_field_with_arguments,
    "key selecting a field with arguments"
);
case_test!(key_selecting_an_interface, "key selecting an interface");
case_test!(
    requires_on_an_interface_field,
    "requires on an interface field"
);
case_test!(
    provides_on_an_interface_field,
    "provides on an interface field"
);
case_test!(
    override_on_an_external_field,
    "override on an external field"
);
case_test!(requires_an_unknown_field, "requires an unknown field");
case_test!(
    requires_a_field_that_is_not_external,
    "requires a field that is not external"
);
case_test!(provides_an_unknown_field, "provides an unknown field");
case_test!(provides_on_a_scalar_field, "provides on a scalar field");
case_test!(unused_external, "unused external");
case_test!(external_everywhere, "external everywhere");
case_test!(override_from_itself, "override from itself");
case_test!(invalid_override_label, "invalid override label");
case_test!(circular_overrides, "circular overrides");
case_test!(
    field_only_in_a_subgraph_without_resolvable_key,
    "field only in a subgraph without resolvable key"
);
case_test!(
    value_type_field_only_in_one_subgraph,
    "value type field only in one subgraph"
);
case_test!(
    enum_used_both_ways_with_different_values,
    "enum used both ways with different values"
);
case_test!(
    input_only_enum_without_common_values,
    "input-only enum without common values"
);
case_test!(
    required_input_field_missing_in_a_subgraph,
    "required input field missing in a subgraph"
);
case_test!(input_without_common_fields, "input without common fields");
case_test!(input_field_types_differ, "input field types differ");
case_test!(input_field_defaults_differ, "input field defaults differ");
case_test!(
    required_argument_missing_in_a_subgraph,
    "required argument missing in a subgraph"
);
case_test!(argument_defaults_differ, "argument defaults differ");
case_test!(
    interface_field_not_implemented,
    "interface field not implemented"
);
case_test!(
    entity_interface_key_missing_on_an_implementation,
    "entity interface key missing on an implementation"
);
case_test!(
    interface_object_without_an_entity_interface,
    "interface object without an entity interface"
);
case_test!(unknown_type, "unknown type");
case_test!(
    input_object_used_as_an_output_type,
    "input object used as an output type"
);
case_test!(
    object_type_used_as_an_argument_type,
    "object type used as an argument type"
);
case_test!(field_declared_twice, "field declared twice");
case_test!(invalid_sdl, "invalid SDL");
case_test!(
    renamed_root_clashing_with_a_type_named_query,
    "renamed root clashing with a type named Query"
);
case_test!(
    visible_field_of_an_inaccessible_type,
    "visible field of an inaccessible type"
);
case_test!(no_query_root, "no query root");
case_test!(
    field_of_a_nested_key_type_that_is_not_in_the_key,
    "field of a nested key type that is not in the key"
);
case_test!(
    narrower_output_type_that_is_not_a_member,
    "narrower output type that is not a member"
);
case_test!(
    provides_on_a_union_field_selecting_a_field_that_is_not_external,
    "provides on a union field selecting a field that is not external"
);

#[test]
fn override_from_unknown_subgraph_is_a_warning() {
    let a = common::fed(
        "type Query { a: Product } type Product @key(fields: \"id\") { id: ID! name: String @override(from: \"legacy\") }",
    );
    let supergraph = common::compose_ok(&[("a", &a)]);
    assert_eq!(supergraph.warnings.len(), 1, "{:?}", supergraph.warnings);
    assert_eq!(
        supergraph.warnings[0].code,
        ErrorCode::OverrideFromUnknownSubgraph
    );
    assert_eq!(
        supergraph.warnings[0].coordinates,
        vec!["Product.name".to_owned()]
    );
}

#[test]
fn duplicate_subgraph_names_are_rejected() {
    let sdl = common::fed("type Query { a: Int }");
    let errors = compose(&[
        SubgraphSdl::new("a", "http://a", sdl.clone()),
        SubgraphSdl::new("a", "http://b", sdl.clone()),
    ])
    .expect_err("duplicate names");
    assert!(errors.has(ErrorCode::InvalidSubgraphName), "{errors}");
    let errors = compose(&[
        SubgraphSdl::new("my-graph", "http://a", sdl.clone()),
        SubgraphSdl::new("my_graph", "http://b", sdl),
    ])
    .expect_err("names mapping to the same graph");
    assert!(errors.has(ErrorCode::InvalidSubgraphName), "{errors}");
}

#[test]
fn empty_input_is_rejected() {
    let errors = compose(&[]).expect_err("nothing to compose");
    assert!(errors.has(ErrorCode::NoQueries), "{errors}");
}

#[test]
fn all_errors_are_reported_at_once() {
    let a = common::fed(
        "type Query { a: Product } type Product @key(fields: \"nope\") { id: ID! x: Int @external }",
    );
    let errors = common::compose_err(&[("a", &a)]);
    assert!(
        errors.has(ErrorCode::KeyInvalidFields) && errors.has(ErrorCode::ExternalUnused),
        "{errors}"
    );
    assert_eq!(errors.to_string().lines().count(), errors.errors.len());
}

#[test]
fn directives_that_are_not_composed_are_warned_about() {
    let a = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.5\", import: [\"@key\", \"@authenticated\"])\n\
             type Query { me: Int @authenticated }";
    let supergraph = common::compose_ok(&[("a", a)]);
    let warning = supergraph
        .warnings
        .iter()
        .find(|w| w.code == ErrorCode::UnsupportedDirective)
        .unwrap_or_else(|| panic!("no warning in {:?}", supergraph.warnings));
    assert_eq!(warning.coordinates, vec!["Query.me".to_owned()]);
    assert!(!supergraph.sdl.contains("authenticated"));
}

#[test]
fn key_selecting_a_list_composes() {
    // The reference composers accept a list in a key (the representation carries the list
    // whole); `orbit-list-key` in the router's conformance corpus executes one.
    let a = common::fed(
        "type Query { a: Product } type Product @key(fields: \"tags\") { tags: [String!]! }",
    );
    let supergraph = common::compose_ok(&[("a", &a)]);
    assert!(
        common::type_header(&supergraph.sdl, "Product").contains("key: \"tags\""),
        "{}",
        supergraph.sdl
    );
}

#[test]
fn unsatisfiable_field_names_an_operation_that_cannot_be_planned() {
    // `contents` lives in a subgraph whose only key (`serial`) the other subgraph cannot
    // supply, so no sequence of fetches reaches it from `boxes`.
    let boxes = common::fed(
        "type Query { boxes: [Box!]! } type Box @key(fields: \"id\") { id: ID! label: String! }",
    );
    let contents =
        common::fed("type Box @key(fields: \"serial\") { serial: ID! contents: String! }");
    let errors = common::compose_err(&[("boxes", &boxes), ("contents", &contents)]);
    let error = errors
        .errors
        .iter()
        .find(|e| e.coordinates == ["Box.contents"])
        .unwrap_or_else(|| panic!("no error at Box.contents in:\n{errors}"));
    assert_eq!(error.code, ErrorCode::SatisfiabilityError);
    assert!(
        error.message.contains("`query { boxes { contents } }`"),
        "{}",
        error.message
    );
}

#[test]
fn key_hops_through_a_third_subgraph_satisfy_a_field() {
    // `price` is only reachable by `upc` -> (bridge) -> `id`: two entity jumps.
    let catalog = common::fed(
        "type Query { gadgets: [Gadget!]! } type Gadget @key(fields: \"upc\") { upc: String! name: String! }",
    );
    let bridge = common::fed(
        "type Gadget @key(fields: \"upc\") @key(fields: \"id\") { upc: String! id: ID! }",
    );
    let pricing = common::fed("type Gadget @key(fields: \"id\") { id: ID! price: Int! }");
    common::compose_ok(&[
        ("catalog", &catalog),
        ("bridge", &bridge),
        ("pricing", &pricing),
    ]);
    // Without the bridge, the price cannot be reached.
    let errors = common::compose_err(&[("catalog", &catalog), ("pricing", &pricing)]);
    assert!(errors.has(ErrorCode::SatisfiabilityError), "{errors}");
}

#[test]
fn required_field_out_of_reach_makes_the_requiring_field_unsatisfiable() {
    // `freight` needs `weight`, which only a subgraph keyed by `lot` resolves; neither
    // other subgraph knows the lot, so `freight` and `weight` cannot be resolved.
    let sacks =
        common::fed("type Query { sacks: [Sack!]! } type Sack @key(fields: \"id\") { id: ID! }");
    let scales = common::fed("type Sack @key(fields: \"lot\") { lot: ID! weight: Int }");
    let freight = common::fed(
        "type Sack @key(fields: \"id\") { id: ID! weight: Int @external freight: Int @requires(fields: \"weight\") }",
    );
    let errors = common::compose_err(&[
        ("sacks", &sacks),
        ("scales", &scales),
        ("freight", &freight),
    ]);
    let coordinates: Vec<&str> = errors
        .errors
        .iter()
        .filter(|e| e.code == ErrorCode::SatisfiabilityError)
        .flat_map(|e| e.coordinates.iter().map(String::as_str))
        .collect();
    assert_eq!(
        coordinates,
        ["Sack.freight", "Sack.lot", "Sack.weight"],
        "{errors}"
    );
}
