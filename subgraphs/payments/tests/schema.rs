//! `schema/payments.graphql` is what the code prints, and the binary's command line.

#[test]
fn schema_file_matches_the_code() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/payments.graphql");
    kit::testing::check_schema_file(&path, &payments::graphql::sdl());
}

#[test]
fn the_command_line_has_help_a_version_and_refuses_unknown_flags() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_payments"))
            .args(args)
            .env_clear()
            .output()
            .expect("runs")
    };
    let out = run(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && help.contains("serve")
            && help.contains("migrate")
            && help.contains("print-schema"),
        "{help}"
    );
    let out = run(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        concat!("payments ", env!("CARGO_PKG_VERSION"))
    );
    let out = run(&["serve", "--bogus"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unexpected argument '--bogus'") && stderr.contains("Usage:"),
        "{stderr}"
    );
}
