//! The exact responses the benchmark's queries must get, written out from the catalogue's
//! rules (every user reviews every product; prices, weights, stock and shipping as the
//! subgraphs define them), in the operation's field order. Nothing here runs a router or a
//! subgraph: it is the yardstick the router's answers are compared with, byte for byte.

use std::fmt::Write as _;

use crate::subgraphs::{PRODUCTS, USERS};

fn string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// `...User` (`id username name`), without the closing brace.
fn user_fields(out: &mut String, u: usize) {
    let _ = write!(
        out,
        "{{\"id\":{},\"username\":{},\"name\":{}",
        string(&format!("u{u}")),
        string(&format!("user{u}")),
        string(&format!("User {u}"))
    );
}

/// `...Product` (`inStock name price shippingEstimate upc weight`), without the closing brace.
fn product_fields(out: &mut String, p: usize) {
    let price = 100 * p + 99;
    let weight = 250 * p;
    // Free shipping above 1000; otherwise a twentieth of the weight (integer division).
    let shipping = if price > 1000 { 0 } else { weight / 20 };
    let _ = write!(
        out,
        "{{\"inStock\":{},\"name\":{},\"price\":{price},\"shippingEstimate\":{shipping},\"upc\":{},\"weight\":{weight}",
        p % 2 == 1,
        string(&format!("Product {p}")),
        string(&p.to_string()),
    );
}

/// `...Review` (`id body`) of user `u` on product `p`, without the closing brace.
fn review_fields(out: &mut String, u: usize, p: usize) {
    let _ = write!(
        out,
        "{{\"id\":{},\"body\":{}",
        string(&format!("r{u}-{p}")),
        string(&format!("User {u} on Product {p}: worth it."))
    );
}

fn list(
    out: &mut String,
    items: impl Iterator<Item = usize>,
    mut each: impl FnMut(&mut String, usize),
) {
    out.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push(']');
}

/// `author { ...User reviews { ...Review product { ...Product } } }` of user `u`.
fn author_with_reviews(out: &mut String, u: usize) {
    user_fields(out, u);
    out.push_str(",\"reviews\":");
    list(out, 1..=PRODUCTS, |out, p| {
        review_fields(out, u, p);
        out.push_str(",\"product\":");
        product_fields(out, p);
        out.push_str("}}");
    });
    out.push('}');
}

/// `reviews { ...Review author { ... } }` of product `p`: one review per user.
fn product_reviews(out: &mut String, p: usize) {
    list(out, 1..=USERS, |out, u| {
        review_fields(out, u, p);
        out.push_str(",\"author\":");
        author_with_reviews(out, u);
        out.push('}');
    });
}

/// The complete response body of [`crate::queries::DEEP`].
pub fn deep() -> String {
    let mut out = String::from("{\"data\":{\"users\":");
    list(&mut out, 1..=USERS, |out, u| {
        user_fields(out, u);
        out.push_str(",\"reviews\":");
        list(out, 1..=PRODUCTS, |out, p| {
            review_fields(out, u, p);
            out.push_str(",\"product\":");
            product_fields(out, p);
            out.push_str(",\"reviews\":");
            product_reviews(out, p);
            out.push_str("}}");
        });
        out.push('}');
    });
    out.push_str(",\"topProducts\":");
    list(&mut out, 1..=PRODUCTS, |out, p| {
        product_fields(out, p);
        out.push_str(",\"reviews\":");
        product_reviews(out, p);
        out.push('}');
    });
    out.push_str("}}");
    out
}

/// The complete response body of [`crate::queries::PASS_THROUGH`].
pub fn pass_through() -> String {
    let mut out = String::from("{\"data\":{\"topProducts\":");
    list(&mut out, 1..=PRODUCTS, |out, p| {
        let _ = write!(
            out,
            "{{\"upc\":{},\"name\":{},\"price\":{},\"weight\":{}}}",
            string(&p.to_string()),
            string(&format!("Product {p}")),
            100 * p + 99,
            250 * p
        );
    });
    out.push_str("}}");
    out
}
