//! Email addresses and display names as accounts store them.
//!
//! An email is normalised (trimmed, lower-cased) before it is validated, stored or looked
//! up, so `Ada@Example.com ` and `ada@example.com` are one account. Validation is a
//! pragmatic subset of RFC 5321 that rejects typos rather than trying to accept every
//! address the RFC allows; the mailbox's existence is not checked here.

pub const MAX_EMAIL_LENGTH: usize = 254;
const MAX_LOCAL_LENGTH: usize = 64;
pub const MAX_NAME_LENGTH: usize = 100;

pub fn normalise(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Validates an already normalised email; the error says what is wrong.
pub fn validate(email: &str) -> Result<(), &'static str> {
    if email.is_empty() {
        return Err("the email is required");
    }
    if email.len() > MAX_EMAIL_LENGTH {
        return Err("the email is too long");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("the email must contain @");
    };
    if local.is_empty() || local.len() > MAX_LOCAL_LENGTH || local.contains('@') {
        return Err("the part before @ is not valid");
    }
    let local_ok = local
        .chars()
        .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("the part before @ is not valid");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if !domain_ok {
        return Err("the domain is not valid");
    }
    Ok(())
}

/// Trims a display name and checks it is present, not too long, and printable.
pub fn clean_name(name: &str) -> Result<String, &'static str> {
    let name = name.trim();
    if name.is_empty() {
        return Err("the name is required");
    }
    if name.chars().count() > MAX_NAME_LENGTH {
        return Err("the name is too long");
    }
    if name.chars().any(char::is_control) {
        return Err("the name contains control characters");
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        assert_eq!(
            normalise("  Ada.Lovelace@Example.COM \n"),
            "ada.lovelace@example.com"
        );
    }

    #[test]
    fn accepts_common_addresses() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "o'brien@example.ie",
            "jörg@bücher.de",
        ] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            ".a@b.com",
            "a@-b.com",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        assert!(validate(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(clean_name("  Ada Lovelace ").as_deref(), Ok("Ada Lovelace"));
        assert!(clean_name("   ").is_err());
        assert!(clean_name(&"x".repeat(101)).is_err());
        assert!(clean_name("Ada\u{0}").is_err());
    }
}
