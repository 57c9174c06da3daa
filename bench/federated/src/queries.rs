//! The operations the benchmark sends.

/// The deep query of the public federation benchmarks: every user's reviews, the reviewed
/// products with their stock and shipping estimate, those products' reviews and authors, and
/// the authors' reviews again, plus the top products with the same tree. Seven subgraph
/// fetches across all four subgraphs, written with fragments.
pub const DEEP: &str = "\
fragment User on User { id username name }
fragment Review on Review { id body }
fragment Product on Product { inStock name price shippingEstimate upc weight }
query TestQuery {
  users { ...User reviews { ...Review product { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } } } }
  topProducts { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } }
}";

/// A query one subgraph answers alone: the router only passes it through.
pub const PASS_THROUGH: &str = "{ topProducts { upc name price weight } }";

/// The JSON body of a POST for `query`.
pub fn body(query: &str) -> String {
    serde_json::json!({ "query": query }).to_string()
}
