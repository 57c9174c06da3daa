//! Integration tests of the orders service over real HTTP, PostgreSQL and NATS JetStream.

mod cases;
mod support;
