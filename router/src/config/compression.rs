//! `compression`: response compression by `Accept-Encoding` (gzip, Brotli, zstd).
//!
//! Responses smaller than `min_size_bytes` are sent as they are: compressing a few hundred
//! bytes costs more CPU than it saves on the wire. Applies to `/graphql`, the GraphiQL page
//! and `/schema.graphql`; never to `/metrics` or the health probes.
//!
//! Environment: `ROUTER_COMPRESSION_ENABLED`, `ROUTER_COMPRESSION_MIN_SIZE_BYTES`.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompressionConfig {
    pub enabled: bool,
    /// Smallest response body that is compressed, in bytes.
    pub min_size_bytes: u16,
}

impl Default for CompressionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            min_size_bytes: 1_024,
        }
    }
}
