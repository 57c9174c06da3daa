//! The `bench` command line: help, version, and clap's refusal of an unknown flag.

#[test]
fn the_command_line_has_help_a_version_and_refuses_unknown_flags() {
    platform::testing::check_command_line(platform::testing::CommandLine {
        binary: env!("CARGO_BIN_EXE_bench"),
        version: concat!("bench ", env!("CARGO_PKG_VERSION")),
        help_mentions: &["--bin-dir", "--supergraph", "[default: 32]"],
        bogus: &["--bin-dir", "b", "--supergraph", "s", "--bogus"],
    });
}
