//! `@override(from:, label:)` on its own subgraph: it may not name its own subgraph, a
//! subgraph that is not composed makes it a no-op (a warning), and its label must be one
//! the query planner understands. Override chains show only across subgraphs (see
//! [`sharing`](super::sharing)).

use std::collections::BTreeSet;

use super::error;
use crate::error::{CompositionError, ErrorCode};
use crate::subgraph::Subgraph;

pub(super) fn override_check(
    sg: &Subgraph,
    coordinate: &str,
    from: &str,
    label: Option<&str>,
    names: &BTreeSet<&str>,
    errors: &mut Vec<CompositionError>,
    warnings: &mut Vec<CompositionError>,
) {
    if from == sg.name {
        errors.push(
            error(
                ErrorCode::OverrideFromSelf,
                format!("\"{coordinate}\" in subgraph \"{from}\" overrides its own subgraph"),
                sg,
            )
            .with_coordinates([coordinate.to_owned()]),
        );
    } else if !names.contains(from) {
        warnings.push(
            error(
                ErrorCode::OverrideFromUnknownSubgraph,
                format!("\"{coordinate}\" in subgraph \"{}\" overrides unknown subgraph \"{from}\"; the directive has no effect", sg.name),
                sg,
            )
            .with_coordinates([coordinate.to_owned()]),
        );
    }
    if let Some(label) = label
        && !valid_override_label(label)
    {
        errors.push(
            error(
                ErrorCode::OverrideLabelInvalid,
                format!(
                    "\"{coordinate}\" has @override(label: \"{label}\"); a label is `percent(p)` with 0 <= p <= 100 and at most 8 decimals, or a name of letters, digits, `_`, `-`, `.` and `:` starting with a letter"
                ),
                sg,
            )
            .with_coordinates([coordinate.to_owned()]),
        );
    }
}

/// The labels the query planner understands; it rejects (panics on) any other
/// `percent(...)`, so they are refused here.
fn valid_override_label(label: &str) -> bool {
    if let Some(value) = label
        .strip_prefix("percent(")
        .and_then(|l| l.strip_suffix(')'))
    {
        let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        let well_formed = match value.split_once('.') {
            Some((whole, decimals)) => digits(whole) && digits(decimals) && decimals.len() <= 8,
            None => digits(value),
        };
        return well_formed
            && value
                .parse::<f64>()
                .is_ok_and(|p| (0.0..=100.0).contains(&p));
    }
    let mut chars = label.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

#[cfg(test)]
mod tests {
    use super::valid_override_label;

    #[test]
    fn override_labels() {
        for ok in [
            "percent(0)",
            "percent(100)",
            "percent(12.5)",
            "percent(0.00000001)",
            "beta",
            "flag:new-checkout_2.x",
        ] {
            assert!(valid_override_label(ok), "{ok}");
        }
        for bad in [
            "percent(101)",
            "percent(-1)",
            "percent(1.123456789)",
            "percent(5.)",
            "percent()",
            "percent(x)",
            "",
            "1flag",
            "a b",
        ] {
            assert!(!valid_override_label(bad), "{bad}");
        }
    }
}
