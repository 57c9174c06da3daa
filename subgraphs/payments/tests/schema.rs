//! `schema/payments.graphql` is what the code prints, and the binary's command line.

#[test]
fn schema_file_matches_the_code() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/payments.graphql");
    kit::testing::check_schema_file(&path, &payments::graphql::sdl());
}

#[test]
fn the_command_line_has_help_a_version_and_refuses_unknown_flags() {
    kit::testing::check_command_line(kit::testing::CommandLine {
        binary: env!("CARGO_BIN_EXE_payments"),
        version: concat!("payments ", env!("CARGO_PKG_VERSION")),
        help_mentions: &["serve", "migrate", "print-schema"],
        bogus: &["serve", "--bogus"],
    });
}
