//! Integration tests of the router over real HTTP: test subgraphs on free ports, the
//! router on a free port in front of them, full JSON responses asserted.

mod auth;
mod client_address;
mod common;
mod csrf;
mod dedup;
mod execution;
mod fixtures;
mod frontend;
mod limits;
mod operations;
