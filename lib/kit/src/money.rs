//! Money as integer minor units plus an ISO 4217 currency; never a float.
//!
//! Amounts cross the API as decimal text (`"19.99"`) and are parsed digit by digit into
//! minor units, refusing more decimals than the currency allows (JPY has none, KWD has
//! three). All arithmetic is checked, so an overflow is an error, not a wrapped total.

use std::{fmt, str::FromStr};

use async_graphql::{InputObject, Object};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not a known ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error("`{0}` is not a decimal amount")]
    InvalidAmount(String),
    #[error("{currency} allows at most {max} decimal places")]
    TooManyDecimals { currency: &'static str, max: u8 },
    #[error("the amount must not be negative")]
    Negative,
    #[error("the amount is too large")]
    Overflow,
    #[error("cannot combine {left} and {right}")]
    CurrencyMismatch {
        left: &'static str,
        right: &'static str,
    },
}

/// An ISO 4217 currency with its number of decimal places.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u8,
}

impl Currency {
    /// Looks up a code, case-insensitively (`"eur"` and `"EUR"` are the same currency).
    ///
    /// The codes and exponents are ISO 4217's, as the `iso_currency` crate publishes them.
    /// Fund codes (such as CLF) and special codes (precious metals, XDR, XTS, XXX) are
    /// refused: nothing is priced in them. Superseded codes are still read, so amounts
    /// stored before a currency was replaced stay readable.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let unknown = || MoneyError::UnknownCurrency(code.to_owned());
        let iso = iso_currency::Currency::from_code(&code.trim().to_ascii_uppercase())
            .filter(|c| !c.is_fund() && !c.is_special())
            .ok_or_else(unknown)?;
        let exponent = iso
            .exponent()
            .and_then(|e| u8::try_from(e).ok())
            .ok_or_else(unknown)?;
        Ok(Currency {
            code: iso.code(),
            exponent,
        })
    }

    pub const fn code(&self) -> &'static str {
        self.code
    }

    /// Decimal places of the minor unit: 2 for EUR, 0 for JPY, 3 for KWD.
    pub const fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// An amount of money in a currency's minor units (cents for EUR, yen for JPY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub const fn from_minor(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self::from_minor(0, currency)
    }

    /// Parses decimal text such as `"19.99"`, `"-0.5"` or `"1500"` in `currency`.
    pub fn parse(amount: &str, currency: Currency) -> Result<Self, MoneyError> {
        let invalid = || MoneyError::InvalidAmount(amount.to_owned());
        let text = amount.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (digits, None),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) {
            return Err(invalid());
        }
        let fraction = fraction.unwrap_or("");
        if !all_digits(fraction) || (digits.contains('.') && fraction.is_empty()) {
            return Err(invalid());
        }
        let exponent = usize::from(currency.exponent);
        // Trailing zeros beyond the exponent carry no value ("1.50" in JPY is not "1.5").
        let significant = fraction.trim_end_matches('0');
        if significant.len() > exponent {
            return Err(MoneyError::TooManyDecimals {
                currency: currency.code,
                max: currency.exponent,
            });
        }
        let mut minor: i64 = 0;
        for b in whole.bytes().chain(significant.bytes()) {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or(MoneyError::Overflow)?;
        }
        for _ in significant.len()..exponent {
            minor = minor.checked_mul(10).ok_or(MoneyError::Overflow)?;
        }
        Ok(Self {
            minor: if negative { -minor } else { minor },
            currency,
        })
    }

    /// Parses an amount that must not be negative, such as a price.
    pub fn parse_non_negative(amount: &str, currency: Currency) -> Result<Self, MoneyError> {
        let money = Self::parse(amount, currency)?;
        if money.minor < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(money)
    }

    pub const fn minor_units(&self) -> i64 {
        self.minor
    }

    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// The decimal text clients see: `"19.99"`, `"1500"` (JPY), `"-0.050"` (KWD).
    pub fn amount(&self) -> String {
        let exponent = u32::from(self.currency.exponent);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10u64.pow(exponent);
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = exponent as usize
        )
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }

    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_mul(factor).ok_or(MoneyError::Overflow)?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency.code,
                right: other.currency.code,
            });
        }
        Ok(())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount(), self.currency.code)
    }
}

/// `Money { amount currencyCode }`, declared identically (and shareable) by every subgraph.
#[Object(name = "Money", shareable)]
impl Money {
    /// The amount as decimal text with the currency's number of decimals, e.g. "19.99".
    #[graphql(name = "amount")]
    async fn gql_amount(&self) -> String {
        self.amount()
    }

    /// The ISO 4217 currency code, e.g. "EUR".
    #[graphql(name = "currencyCode")]
    async fn gql_currency_code(&self) -> &str {
        self.currency.code
    }
}

/// A money value as clients send it.
#[derive(Debug, Clone, InputObject)]
pub struct MoneyInput {
    /// Decimal text, e.g. "19.99"; no more decimals than the currency allows.
    pub amount: String,
    /// ISO 4217 code, e.g. "EUR".
    pub currency_code: String,
}

impl MoneyInput {
    /// Parses a non-negative amount, naming `field` in the error.
    pub fn parse(&self, field: &str) -> Result<Money, crate::ApiError> {
        let currency = Currency::parse(&self.currency_code).map_err(|e| {
            crate::ApiError::bad_input(format!("{field}.currencyCode"), e.to_string())
        })?;
        Money::parse_non_negative(&self.amount, currency)
            .map_err(|e| crate::ApiError::bad_input(format!("{field}.amount"), e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(c: &str) -> Currency {
        Currency::parse(c).unwrap()
    }

    #[test]
    fn parses_and_formats_by_exponent() {
        let cases = [
            ("19.99", "EUR", 1999, "19.99"),
            ("19.9", "EUR", 1990, "19.90"),
            ("19", "EUR", 1900, "19.00"),
            ("0.01", "EUR", 1, "0.01"),
            ("-0.5", "EUR", -50, "-0.50"),
            ("1500", "JPY", 1500, "1500"),
            ("1500.00", "JPY", 1500, "1500"),
            ("1.234", "KWD", 1234, "1.234"),
            ("+7.10", "usd", 710, "7.10"),
        ];
        for (text, code, minor, shown) in cases {
            let m = Money::parse(text, cur(code)).unwrap();
            assert_eq!(m.minor_units(), minor, "{text} {code}");
            assert_eq!(m.amount(), shown, "{text} {code}");
        }
    }

    #[test]
    fn refuses_bad_text() {
        for text in [
            "", "abc", "1.", ".5", "1.2.3", "1e3", "1,00", " - 1", "--1", "0x10", "1.5x",
        ] {
            assert!(
                matches!(
                    Money::parse(text, cur("EUR")),
                    Err(MoneyError::InvalidAmount(_))
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn refuses_over_precise_amounts() {
        assert_eq!(
            Money::parse("19.999", cur("EUR")),
            Err(MoneyError::TooManyDecimals {
                currency: "EUR",
                max: 2
            })
        );
        assert!(matches!(
            Money::parse("1.5", cur("JPY")),
            Err(MoneyError::TooManyDecimals { .. })
        ));
    }

    #[test]
    fn refuses_overflow_and_negative_prices() {
        assert_eq!(
            Money::parse("92233720368547758.08", cur("EUR")),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::parse_non_negative("-1", cur("EUR")),
            Err(MoneyError::Negative)
        );
        let max = Money::from_minor(i64::MAX, cur("EUR"));
        assert_eq!(
            max.checked_add(Money::from_minor(1, cur("EUR"))),
            Err(MoneyError::Overflow)
        );
        assert_eq!(max.checked_mul(2), Err(MoneyError::Overflow));
    }

    #[test]
    fn exponents_are_iso_4217s() {
        // ISO 4217's minor units: none for the yen, won, króna and the CFA francs; three
        // for the Gulf and North African dinars and rials; two for most others.
        let expected = [
            ("JPY", 0),
            ("KRW", 0),
            ("ISK", 0),
            ("CLP", 0),
            ("VND", 0),
            ("XOF", 0),
            ("XAF", 0),
            ("BHD", 3),
            ("IQD", 3),
            ("JOD", 3),
            ("KWD", 3),
            ("LYD", 3),
            ("OMR", 3),
            ("TND", 3),
            ("EUR", 2),
            ("USD", 2),
            ("GBP", 2),
            ("CHF", 2),
        ];
        for (code, exponent) in expected {
            assert_eq!(cur(code).exponent(), exponent, "{code}");
            assert_eq!(cur(code).code(), code);
        }
    }

    #[test]
    fn funds_metals_and_testing_codes_are_not_currencies_here() {
        for code in ["XAU", "XAG", "XDR", "XTS", "XXX", "CLF", "UYW", "USN"] {
            assert_eq!(
                Currency::parse(code),
                Err(MoneyError::UnknownCurrency(code.to_owned())),
                "{code}"
            );
        }
    }

    #[test]
    fn unknown_currency_and_mismatch() {
        assert!(matches!(
            Currency::parse("XYZ"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        let eur = Money::from_minor(1, cur("EUR"));
        let usd = Money::from_minor(1, cur("USD"));
        assert!(matches!(
            eur.checked_add(usd),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn extremes_format_without_overflow() {
        assert_eq!(
            Money::from_minor(i64::MIN, cur("EUR")).amount(),
            "-92233720368547758.08"
        );
        assert_eq!(Money::from_minor(5, cur("KWD")).amount(), "0.005");
    }

    #[test]
    fn serde_round_trip() {
        let m = Money::from_minor(1999, cur("EUR"));
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"minor":1999,"currency":"EUR"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
    }
}
