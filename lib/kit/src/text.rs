//! Text inputs: the one rule for which characters a client may send in a text field or
//! filter.
//!
//! Control characters (`char::is_control`: U+0000 to U+001F, U+007F and U+0080 to U+009F)
//! are refused with `BAD_USER_INPUT` naming the field. They are never meant in names,
//! e-mail addresses, passwords, tokens or search text, and some of them do harm: a NUL
//! truncates the text in some drivers and C libraries, so `"Mug\0zzz"` would search for
//! `"Mug"`. Multi-line fields (descriptions) may contain line breaks and tabs.
//!
//! Resolvers call [`single_line`] or [`multi_line`] on every text argument before using it;
//! the result is the same text, so the call reads as a checked pass-through.

use crate::error::{ApiError, ApiResult};

/// Which layout characters a field may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// No control character at all.
    Single,
    /// Line feed, carriage return and tab are allowed; other control characters are not.
    Multi,
}

/// The first character of `value` that a field of kind `lines` refuses, if any.
pub fn forbidden_char(value: &str, lines: Lines) -> Option<char> {
    value
        .chars()
        .find(|c| c.is_control() && !(lines == Lines::Multi && matches!(c, '\n' | '\r' | '\t')))
}

/// Checks a text input; `field` is the input path the error names (`input.name`,
/// `filter.nameContains`).
pub fn check<'a>(field: &str, value: &'a str, lines: Lines) -> ApiResult<&'a str> {
    match forbidden_char(value, lines) {
        None => Ok(value),
        Some(c) => Err(ApiError::bad_input(
            field,
            format!(
                "{field} must not contain control characters (found U+{:04X})",
                u32::from(c)
            ),
        )),
    }
}

/// [`check`] for a one-line text (names, e-mail addresses, passwords, tokens, filters).
pub fn single_line<'a>(field: &str, value: &'a str) -> ApiResult<&'a str> {
    check(field, value, Lines::Single)
}

/// [`check`] for a text that may span lines (descriptions).
pub fn multi_line<'a>(field: &str, value: &'a str) -> ApiResult<&'a str> {
    check(field, value, Lines::Multi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn control_characters_are_refused_with_the_field_named() {
        let err = single_line("filter.nameContains", "Mug\u{0}zzz").unwrap_err();
        assert_eq!(err.code, ErrorCode::BadUserInput);
        assert_eq!(err.field.as_deref(), Some("filter.nameContains"));
        assert_eq!(
            err.message,
            "filter.nameContains must not contain control characters (found U+0000)"
        );
        for bad in [
            "a\u{1b}[31m",
            "tab\there",
            "line\nbreak",
            "del\u{7f}",
            "c1\u{85}",
        ] {
            assert!(single_line("f", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ordinary_text_passes_unchanged() {
        for ok in ["Travel mug", "Tasse à café ☕", "日本語", "", "a%b_c"] {
            assert_eq!(single_line("f", ok).unwrap(), ok);
        }
    }

    #[test]
    fn multi_line_text_may_break_lines_but_not_hold_other_controls() {
        assert_eq!(
            multi_line("d", "one\r\ntwo\tthree").unwrap(),
            "one\r\ntwo\tthree"
        );
        assert_eq!(
            multi_line("d", "nul\u{0}").unwrap_err().code,
            ErrorCode::BadUserInput
        );
        assert!(multi_line("d", "bell\u{7}").is_err());
    }
}
