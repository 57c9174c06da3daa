//! What a customer asks to buy, checked before anything else is contacted: at least one
//! and at most [`MAX_LINES`] lines, quantities from 1 to [`MAX_QUANTITY`], and the same
//! product listed twice merged into one line (in the place it was first listed).

use uuid::Uuid;

/// The most lines one order may have.
pub const MAX_LINES: usize = 100;
/// The most units of one product one order may have.
pub const MAX_QUANTITY: i32 = 1000;

/// One requested line: a product id (still as text) and a quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedLine {
    pub product_id: String,
    pub quantity: i32,
}

/// A validated basket: distinct products in the customer's order, with their quantities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basket {
    lines: Vec<(Uuid, i32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BasketError {
    #[error("an order needs at least one item")]
    Empty,
    #[error("an order can have at most {MAX_LINES} items")]
    TooManyLines,
    #[error("`{0}` is not a valid product id")]
    InvalidProductId(String, usize),
    #[error("the quantity must be between 1 and {MAX_QUANTITY}")]
    InvalidQuantity(usize),
    #[error("at most {MAX_QUANTITY} units of product {0} can be ordered at once")]
    MergedQuantityTooLarge(Uuid, usize),
}

impl BasketError {
    /// The input field the error is about, in the form `items.<index>.<field>`.
    pub fn field(&self) -> String {
        match self {
            Self::Empty | Self::TooManyLines => "items".to_owned(),
            Self::InvalidProductId(_, i) => format!("items.{i}.productId"),
            Self::InvalidQuantity(i) | Self::MergedQuantityTooLarge(_, i) => {
                format!("items.{i}.quantity")
            }
        }
    }
}

impl Basket {
    pub fn new(requested: &[RequestedLine]) -> Result<Self, BasketError> {
        if requested.is_empty() {
            return Err(BasketError::Empty);
        }
        if requested.len() > MAX_LINES {
            return Err(BasketError::TooManyLines);
        }
        let mut lines: Vec<(Uuid, i32)> = Vec::with_capacity(requested.len());
        for (index, line) in requested.iter().enumerate() {
            let id = Uuid::parse_str(line.product_id.trim())
                .map_err(|_| BasketError::InvalidProductId(line.product_id.clone(), index))?;
            if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                return Err(BasketError::InvalidQuantity(index));
            }
            match lines.iter_mut().find(|(existing, _)| *existing == id) {
                Some((_, quantity)) => {
                    *quantity = quantity
                        .checked_add(line.quantity)
                        .filter(|q| *q <= MAX_QUANTITY)
                        .ok_or(BasketError::MergedQuantityTooLarge(id, index))?;
                }
                None => lines.push((id, line.quantity)),
            }
        }
        Ok(Self { lines })
    }

    /// The distinct products, in the order the customer listed them.
    pub fn product_ids(&self) -> Vec<Uuid> {
        self.lines.iter().map(|(id, _)| *id).collect()
    }

    pub fn lines(&self) -> &[(Uuid, i32)] {
        &self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, quantity: i32) -> RequestedLine {
        RequestedLine {
            product_id: id.to_owned(),
            quantity,
        }
    }

    #[test]
    fn merges_duplicates_in_first_listed_order() {
        let a = Uuid::now_v7().to_string();
        let b = Uuid::now_v7().to_string();
        let basket = Basket::new(&[line(&a, 2), line(&b, 1), line(&a, 3)]).unwrap();
        assert_eq!(
            basket.lines(),
            &[(a.parse().unwrap(), 5), (b.parse().unwrap(), 1)]
        );
    }

    #[test]
    fn refuses_bad_lines_naming_the_field() {
        let a = Uuid::now_v7().to_string();
        assert_eq!(Basket::new(&[]).unwrap_err().field(), "items");
        let many: Vec<_> = (0..=MAX_LINES)
            .map(|_| line(&Uuid::now_v7().to_string(), 1))
            .collect();
        assert_eq!(Basket::new(&many).unwrap_err(), BasketError::TooManyLines);
        assert_eq!(
            Basket::new(&[line(&a, 1), line("nope", 1)])
                .unwrap_err()
                .field(),
            "items.1.productId"
        );
        for bad in [0, -1, MAX_QUANTITY + 1, i32::MAX] {
            assert_eq!(
                Basket::new(&[line(&a, bad)]).unwrap_err(),
                BasketError::InvalidQuantity(0)
            );
        }
        let merged = Basket::new(&[line(&a, MAX_QUANTITY), line(&a, 1)]).unwrap_err();
        assert_eq!(merged.field(), "items.1.quantity");
        assert!(Basket::new(&[line(&a, MAX_QUANTITY)]).is_ok());
        let exactly_max: Vec<_> = (0..MAX_LINES)
            .map(|_| line(&Uuid::now_v7().to_string(), 1))
            .collect();
        assert_eq!(Basket::new(&exactly_max).unwrap().lines().len(), MAX_LINES);
    }
}
