//! The `federated-bench` command line: help, version, and clap's refusal of an unknown flag.

#[test]
fn the_command_line_has_help_a_version_and_refuses_unknown_flags() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_federated-bench"))
            .args(args)
            .env_clear()
            .output()
            .expect("runs")
    };
    let out = run(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && help.contains("--router") && help.contains("[default: 10]"),
        "{help}"
    );
    let out = run(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        concat!("federated-bench ", env!("CARGO_PKG_VERSION"))
    );
    let out = run(&["--router", "x", "--bogus"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unexpected argument '--bogus'") && stderr.contains("Usage:"),
        "{stderr}"
    );
}
