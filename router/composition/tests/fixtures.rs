//! The fixture subgraphs compose into the supergraph checked in beside this test, so any
//! change of output is seen in review. Set `UPDATE_SNAPSHOTS=1` to rewrite it.

mod common;

use std::path::Path;

use composition::compose;

#[test]
fn fixtures_compose_to_the_checked_in_supergraph() {
    let supergraph =
        compose(&common::fixtures()).unwrap_or_else(|e| panic!("fixtures do not compose:\n{e}"));
    assert!(supergraph.warnings.is_empty(), "{:?}", supergraph.warnings);
    graphql_parser::parse_schema::<String>(&supergraph.sdl).expect("the supergraph parses");

    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/fixtures.supergraph.graphql");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a parent folder"))
            .expect("create the snapshot folder");
        std::fs::write(&path, &supergraph.sdl).expect("write the snapshot");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (run with UPDATE_SNAPSHOTS=1 to create it)",
            path.display()
        )
    });
    assert!(
        expected == supergraph.sdl,
        "the composed fixtures differ from {}; review and rerun with UPDATE_SNAPSHOTS=1",
        path.display()
    );
}
