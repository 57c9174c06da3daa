//! Token-count stage: counts GraphQL lexical tokens before the document is parsed.
//!
//! Parsing cost grows with the document, so a huge document must be refused before the
//! parser sees it. This is a lexer that only counts: it recognises punctuators, names,
//! numbers and strings (including block strings) and skips whitespace, commas and
//! comments, following the lexical grammar of the GraphQL specification. Malformed input
//! is counted leniently; the parser reports the actual syntax error later.
//!
//! The same pass measures bracket nesting (`{`, `(`, `[`): the parser gives up on deep
//! nesting with a bare "recursion limit" syntax error, so documents nested deeper than
//! [`crate::config::limits::PARSER_NESTING_LIMIT`] are refused as too deep before it runs.

/// What one pass over the document found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// Tokens counted (at most `limit + 1`: counting stops past the limit).
    pub tokens: usize,
    /// Deepest bracket nesting seen.
    pub nesting: usize,
}

/// Counts tokens, stopping as soon as the count exceeds `limit`.
///
/// Returns `Err(count)` with a count greater than `limit` when the limit is exceeded,
/// `Ok(count)` otherwise.
pub fn count_tokens(source: &str, limit: usize) -> Result<usize, usize> {
    let found = scan(source, limit);
    if found.tokens > limit {
        Err(found.tokens)
    } else {
        Ok(found.tokens)
    }
}

/// Counts tokens (stopping past `limit`) and measures bracket nesting.
pub fn scan(source: &str, limit: usize) -> Scan {
    let bytes = source.as_bytes();
    let mut i = 0;
    let mut count = 0usize;
    let mut open = 0usize;
    let mut nesting = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            // Ignored tokens: whitespace, line terminators, commas, BOM (UTF-8 0xEF 0xBB 0xBF).
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            0xEF if bytes.get(i + 1..i + 3) == Some(&[0xBB, 0xBF]) => {
                i += 3;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'.' if bytes.get(i..i + 3) == Some(b"...") => i += 3,
            b'"' if bytes.get(i..i + 3) == Some(b"\"\"\"") => i = skip_block_string(bytes, i + 3),
            b'"' => i = skip_string(bytes, i + 1),
            b'-' | b'0'..=b'9' => {
                i += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    i += 1;
                }
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                i += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9')
                {
                    i += 1;
                }
            }
            b'{' | b'(' | b'[' => {
                open += 1;
                nesting = nesting.max(open);
                i += 1;
            }
            b'}' | b')' | b']' => {
                open = open.saturating_sub(1);
                i += 1;
            }
            // Other punctuators and anything unexpected count as one token each.
            _ => i += utf8_len(b),
        }
        count += 1;
        if count > limit {
            break;
        }
    }
    Scan {
        tokens: count,
        nesting,
    }
}

fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            // A string cannot span lines; the parser will report it.
            b'\n' | b'\r' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn skip_block_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        if bytes[i] == b'\\' && bytes.get(i + 1..i + 4) == Some(b"\"\"\"") {
            i += 4;
        } else if bytes.get(i..i + 3) == Some(b"\"\"\"") {
            return i + 3;
        } else {
            i += 1;
        }
    }
    bytes.len()
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::{count_tokens, scan};

    #[test]
    fn counts_punctuators_names_and_values() {
        // { a ( x : 1.5e3 , y : "s,\"t" ) @ d ... on T { b } }
        let query = r#"{ a(x: 1.5e3, y: "s,\"t") @d ...on T { b } }"#;
        assert_eq!(count_tokens(query, 100), Ok(19));
    }

    #[test]
    fn skips_comments_commas_and_block_strings() {
        let query = "# a comment { } \n query Q { f(s: \"\"\"multi\n line \\\"\"\" \"\"\") }";
        // query Q { f ( s : """...""" ) }
        assert_eq!(count_tokens(query, 100), Ok(10));
    }

    #[test]
    fn stops_early_past_the_limit() {
        let query = "{ a b c d e f g h }";
        assert_eq!(count_tokens(query, 3), Err(4));
        assert_eq!(count_tokens(query, 10), Ok(10));
    }

    #[test]
    fn measures_bracket_nesting_outside_strings_and_comments() {
        assert_eq!(scan("{ a(x: [[1]]) { b { c } } } # {{{{{{", 100).nesting, 4);
        assert_eq!(scan("{ a(s: \"{{{{{{\") }", 100).nesting, 2);
        let deep = format!("{}{}", "{ a ".repeat(60), "}".repeat(60));
        assert_eq!(scan(&deep, 1_000).nesting, 60);
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        assert!(count_tokens("{ a(s: \"open", 100).is_ok());
        assert!(count_tokens("\"\"\"open", 100).is_ok());
        assert!(count_tokens("é{\u{1F600}", 100).is_ok());
    }
}
