//! The integration test cases, one module per feature.

mod browsing;
mod embedded;
mod lifecycle;
mod ordering;
mod outbox;
mod parking;
mod payments;
mod units_sold;
mod with_products;
