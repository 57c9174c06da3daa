//! Integration tests of the users service over real HTTP, against the MongoDB server
//! `TEST_MONGODB_URL` names (one fresh database per test), plus one run of the main
//! flows on the embedded store. One test binary, so the tree links once.

#[path = "../support/mod.rs"]
mod support;

mod accounts;
mod admin;
mod embedded;
mod federation;
mod sessions;
mod tokens;
