//! The checked-in fixtures in `tests/fixtures/` must match the test subgraphs.
//!
//! `supergraph.graphql` there is composed from these SDL files; when a test subgraph
//! changes, run this test with `UPDATE_FIXTURES=1` and compose the supergraph again
//! (see `tests/fixtures/README.md`).

use std::path::PathBuf;

#[test]
fn subgraph_sdl_fixtures_match_the_test_subgraphs() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    for (name, sdl) in crate::common::subgraphs::sdls() {
        let path = dir.join(format!("{name}.graphql"));
        if update {
            std::fs::write(&path, &sdl).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            on_disk,
            sdl,
            "{} is stale; run with UPDATE_FIXTURES=1",
            path.display()
        );
    }
}
