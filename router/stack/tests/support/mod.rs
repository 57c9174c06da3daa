//! A client that walks the purchase through the router, as a frontend would.

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{Value, json};

/// The repository root, where `supergraph.yaml` and `schema/` live.
pub fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct Shopper {
    http: reqwest::Client,
    url: String,
    pub token: Option<String>,
}

impl Shopper {
    pub fn new(router_url: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: router_url,
            token: None,
        }
    }

    /// Posts an operation; panics on transport errors, returns the whole GraphQL response.
    pub async fn call(&self, query: &str, variables: Value) -> Value {
        let mut req = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        req.send()
            .await
            .expect("the router answers")
            .json()
            .await
            .expect("JSON")
    }

    /// Like [`Shopper::call`] but fails the test on any GraphQL error; returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let resp = self.call(query, variables).await;
        assert!(resp.get("errors").is_none(), "unexpected errors: {resp}");
        resp["data"].clone()
    }

    pub async fn register(&mut self, email: &str, name: &str, password: &str) -> String {
        let data = self
            .data(
                "mutation($i: RegisterInput!) { register(input: $i) { user { id email role } accessToken } }",
                json!({ "i": { "email": email, "name": name, "password": password } }),
            )
            .await;
        assert_eq!(data["register"]["user"]["role"], "CUSTOMER");
        data["register"]["user"]["id"]
            .as_str()
            .expect("user id")
            .to_owned()
    }

    pub async fn login(&mut self, email: &str, password: &str) {
        let data = self
            .data(
                "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                json!({ "i": { "email": email, "password": password } }),
            )
            .await;
        self.token = Some(
            data["login"]["accessToken"]
                .as_str()
                .expect("token")
                .to_owned(),
        );
    }

    /// The first `n` available products by price: (id, name, price amount).
    pub async fn cheapest(&self, n: usize) -> Vec<(String, String, String)> {
        let data = self
            .data(
                "query($n: Int!) { products(first: $n, sort: PRICE, filter: { available: true }) { totalCount edges { node { id name price { amount currencyCode } } } } }",
                json!({ "n": n }),
            )
            .await;
        assert!(
            data["products"]["totalCount"].as_u64().unwrap_or(0) >= n as u64,
            "catalog loaded: {data}"
        );
        data["products"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| {
                let node = &e["node"];
                assert_eq!(node["price"]["currencyCode"], "EUR");
                (
                    node["id"].as_str().unwrap_or_default().to_owned(),
                    node["name"].as_str().unwrap_or_default().to_owned(),
                    node["price"]["amount"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect()
    }

    /// Orders `lines` of (product id, quantity); returns (order id, total amount).
    pub async fn order(&self, lines: &[(&str, u32)]) -> (String, String) {
        let items: Vec<Value> = lines
            .iter()
            .map(|(id, q)| json!({ "productId": id, "quantity": q }))
            .collect();
        let data = self
            .data(
                "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id status total { amount currencyCode } } } }",
                json!({ "i": { "items": items } }),
            )
            .await;
        let order = &data["createOrder"]["order"];
        assert_eq!(order["status"], "PENDING");
        (
            order["id"].as_str().expect("order id").to_owned(),
            order["total"]["amount"].as_str().expect("total").to_owned(),
        )
    }

    /// Starts checkout; returns (checkout URL, payment id).
    pub async fn checkout(&self, order_id: &str) -> (String, String) {
        let data = self
            .data(
                "mutation($i: StartCheckoutInput!) { startCheckout(input: $i) { checkoutUrl payment { id status } } }",
                json!({ "i": { "orderId": order_id } }),
            )
            .await;
        let payload = &data["startCheckout"];
        assert_eq!(payload["payment"]["status"], "PENDING");
        (
            payload["checkoutUrl"].as_str().expect("url").to_owned(),
            payload["payment"]["id"]
                .as_str()
                .expect("payment id")
                .to_owned(),
        )
    }

    /// `order { status payment { status } }` as (order status, payment status).
    pub async fn order_status(&self, order_id: &str) -> (String, String) {
        let data = self
            .data(
                "query($id: ID!) { order(id: $id) { status payment { status } } }",
                json!({ "id": order_id }),
            )
            .await;
        (
            data["order"]["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            data["order"]["payment"]["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }

    /// Waits until the order is PAID and its payment SUCCEEDED.
    pub async fn until_paid(&self, order_id: &str) {
        kit::testing::eventually("the order to become PAID", || async {
            self.order_status(order_id).await == ("PAID".to_owned(), "SUCCEEDED".to_owned())
        })
        .await;
    }

    /// The lines of an order as (product id, quantity).
    pub async fn order_lines(&self, order_id: &str) -> Vec<(String, i64)> {
        let data = self
            .data(
                "query($id: ID!) { order(id: $id) { items { quantity product { id } } } }",
                json!({ "id": order_id }),
            )
            .await;
        data["order"]["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                (
                    i["product"]["id"].as_str().unwrap_or_default().to_owned(),
                    i["quantity"].as_i64().unwrap_or(-1),
                )
            })
            .collect()
    }

    /// `product(id) { name unitsSold }`: the name from products, the sales from orders.
    pub async fn product_sales(&self, product_id: &str) -> (String, i64) {
        let data = self
            .data(
                "query($id: ID!) { product(id: $id) { name unitsSold } }",
                json!({ "id": product_id }),
            )
            .await;
        let product = &data["product"];
        (
            product["name"].as_str().unwrap_or_default().to_owned(),
            product["unitsSold"].as_i64().unwrap_or(-1),
        )
    }

    /// `me { orders { items { product { name } } } }` in one request: users, orders and products.
    pub async fn my_order_product_names(&self) -> Vec<Vec<String>> {
        let data = self
            .data(
                "{ me { email orders(first: 20) { totalCount edges { node { status items { quantity product { name } } } } } } }",
                json!({}),
            )
            .await;
        data["me"]["orders"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| {
                e["node"]["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(|i| i["product"]["name"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .collect()
    }
}
