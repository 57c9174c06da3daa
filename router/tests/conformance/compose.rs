//! Composing a graph twice: with The Guild's `@theguild/federation-composition` (the
//! reference, run through node with `router/composition/tests/guild/compose.mjs`) and with
//! this repository's `composition` crate.

use composition::SubgraphSdl;
use composition::reference::Answer;

/// The reference's supergraph, or its error messages (with codes).
pub fn reference(subgraphs: &[SubgraphSdl]) -> Result<String, Vec<String>> {
    match composition::reference::compose(subgraphs) {
        Answer::Supergraph(sdl) => Ok(sdl),
        Answer::Errors(errors) => Err(errors
            .into_iter()
            .map(|(code, message)| format!("[{}] {message}", code.as_deref().unwrap_or("-")))
            .collect()),
    }
}

/// Our supergraph, or the composition errors as text.
pub fn ours(subgraphs: &[SubgraphSdl]) -> Result<String, String> {
    composition::compose(subgraphs)
        .map(|supergraph| supergraph.sdl)
        .map_err(|errors| errors.to_string())
}
