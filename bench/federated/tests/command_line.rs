//! The `federated-bench` command line: help, version, and clap's refusal of an unknown flag.

#[test]
fn the_command_line_has_help_a_version_and_refuses_unknown_flags() {
    platform::testing::check_command_line(platform::testing::CommandLine {
        binary: env!("CARGO_BIN_EXE_federated-bench"),
        version: concat!("federated-bench ", env!("CARGO_PKG_VERSION")),
        help_mentions: &["--router", "[default: 10]"],
        bogus: &["--router", "x", "--bogus"],
    });
}
