//! `limits`: request size and operation shape limits enforced before any planning.
//!
//! An oversized body is read and thrown away, up to `max_discard_bytes`, before the 413
//! answer: clients that send the whole body before reading the answer (browsers, Node's
//! `fetch`, anything not using `Expect: 100-continue`) would otherwise see the connection
//! reset instead of the error. A body declared (or found) larger than that is answered at
//! once and the connection closed.
//!
//! Environment: `ROUTER_MAX_BODY_BYTES`, `ROUTER_MAX_DISCARD_BYTES`, `ROUTER_MAX_DEPTH`,
//! `ROUTER_MAX_ALIASES`, `ROUTER_MAX_ROOT_FIELDS`, `ROUTER_MAX_TOKENS`. A limit of 0 is refused: turning a
//! limit off is done by raising it, so nobody disables one by accident with an empty value.

use serde::Deserialize;

use super::ConfigError;

/// Deepest bracket nesting (`{`, `(`, `[`) the GraphQL parser accepts; deeper documents
/// are refused with `MAX_DEPTH_EXCEEDED` before parsing, so depth limits stay below it.
pub const PARSER_NESTING_LIMIT: usize = 48;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest accepted request body (POST) or query string (GET), in bytes.
    pub max_body_bytes: usize,
    /// Most bytes of an oversized body read and discarded so the client sees the 413.
    pub max_discard_bytes: usize,
    /// Deepest field nesting, counting the root field as depth 1 and following fragments.
    pub max_depth: usize,
    /// Most aliases in the whole document.
    pub max_aliases: usize,
    /// Most fields selected at the root of the operation (after inlining fragments).
    pub max_root_fields: usize,
    /// Most lexical tokens in the document; checked before parsing.
    pub max_tokens: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_discard_bytes: 16 << 20,
            max_depth: 12,
            max_aliases: 30,
            max_root_fields: 20,
            max_tokens: 4_000,
        }
    }
}

impl LimitsConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let checks: [(&'static str, usize); 5] = [
            ("limits.max_body_bytes", self.max_body_bytes),
            ("limits.max_depth", self.max_depth),
            ("limits.max_aliases", self.max_aliases),
            ("limits.max_root_fields", self.max_root_fields),
            ("limits.max_tokens", self.max_tokens),
        ];
        for (key, value) in checks {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be greater than 0"));
            }
        }
        // The parser recurses per nesting level and gives up past 50; deeper documents
        // are refused before parsing, so a larger limit could never be reached.
        if self.max_depth > PARSER_NESTING_LIMIT {
            return Err(ConfigError::invalid(
                "limits.max_depth",
                format!("must be at most {PARSER_NESTING_LIMIT}"),
            ));
        }
        Ok(())
    }
}
