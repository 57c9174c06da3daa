//! The users service's side of the bus: empty. It neither publishes nor consumes events;
//! other services learn about users through federation and verify tokens with the JWKS.
//!
//! A consumer added here follows the other services' `events` modules: one submodule per
//! consumer, subscribed by an `events::start` whose workers `service::start` hands to the
//! builder (which also needs the bus in the service's `Deps`).
