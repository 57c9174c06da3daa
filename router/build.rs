//! Generates one test function per graph folder of the conformance corpus
//! (`tests/conformance/graphs/<name>/`), so each graph is reported on its own.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let graphs = Path::new("tests/conformance/graphs");
    println!("cargo:rerun-if-changed={}", graphs.display());
    let mut names: Vec<String> = std::fs::read_dir(graphs)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut code = String::new();
    for name in &names {
        let ident: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let _ = writeln!(
            code,
            "#[tokio::test(flavor = \"multi_thread\", worker_threads = 2)]\n\
             async fn graph_{ident}() {{ crate::runner::check_graph({name:?}).await; }}\n"
        );
    }
    let _ = writeln!(
        code,
        "/// Every graph folder a test was generated for.\npub const GRAPHS: &[&str] = &{names:?};"
    );
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("conformance_graphs.rs");
    std::fs::write(out, code).expect("write the generated conformance tests");
}
