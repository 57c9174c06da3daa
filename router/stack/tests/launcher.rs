//! The `commerce` launcher's command line; and its refusal of the payment sandbox when its
//! router runs the production profile, before any service starts: the sandbox's Pay page
//! marks orders paid without money, so it must never be reachable by a misconfiguration.

use std::process::Command;

/// Runs `commerce` with only `vars` (and `PATH`) in its environment and an empty data
/// folder; returns whether it succeeded, what it printed on stderr, and what it left in
/// the data folder.
fn run_commerce(vars: &[(&str, &str)]) -> (bool, String, Vec<String>) {
    let data = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_commerce"))
        .arg("--data-dir")
        .arg(data.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(vars.iter().copied())
        .output()
        .expect("commerce runs");
    let left = std::fs::read_dir(data.path())
        .expect("data dir readable")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        left,
    )
}

const SECRET: &str = "a-shared-secret-of-at-least-32-characters";

#[test]
fn a_production_router_refuses_the_sandbox_before_anything_starts() {
    for provider in [None, Some("sandbox")] {
        let mut vars = vec![
            ("ROUTER_PROFILE", "production"),
            ("ROUTER_SUBGRAPH_SECRET", SECRET),
            ("SUBGRAPH_SHARED_SECRET", SECRET),
        ];
        if let Some(provider) = provider {
            vars.push(("PAYMENTS_PROVIDER", provider));
        }
        let (ok, stderr, left) = run_commerce(&vars);
        assert!(
            !ok,
            "commerce started with the sandbox under a production router ({provider:?})"
        );
        assert!(
            stderr.contains("PAYMENTS_PROVIDER"),
            "the refusal names the setting: {stderr}"
        );
        assert!(
            left.is_empty(),
            "no service ran before the refusal, yet the data folder holds {left:?}"
        );
    }
}

#[test]
fn the_command_line_has_help_a_version_and_refuses_unknown_flags() {
    kit::testing::check_command_line(kit::testing::CommandLine {
        binary: env!("CARGO_BIN_EXE_commerce"),
        version: concat!("commerce ", env!("CARGO_PKG_VERSION")),
        help_mentions: &["--demo", "--data-dir", "[env: DATA_DIR"],
        bogus: &["--bogus"],
    });
}
