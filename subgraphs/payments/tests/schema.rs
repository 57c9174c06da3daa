//! `schema/payments.graphql` is what the code prints.

#[test]
fn schema_file_matches_the_code() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/payments.graphql");
    kit::testing::check_schema_file(&path, &payments::graphql::sdl());
}
