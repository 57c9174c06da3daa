//! Demo data loaded through the router, as a shop would create it: a catalog, a customer,
//! and enough orders that `me { orders(first: 20) }` returns a full page.

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::system::{ADMIN_EMAIL, ADMIN_PASSWORD};

pub const CUSTOMER_EMAIL: &str = "bench-customer@shop.example";
pub const CUSTOMER_PASSWORD: &str = "juniper-velvet-harbor-3";

/// What the operations need from the loaded data.
#[derive(Debug, Clone)]
pub struct Seed {
    /// `Bearer …` of the customer.
    pub customer_bearer: String,
    pub product_ids: Vec<String>,
    pub orders: usize,
}

/// Posts one operation; a GraphQL error is an error here.
pub async fn call(
    http: &reqwest::Client,
    url: &str,
    query: &str,
    variables: Value,
    bearer: Option<&str>,
) -> anyhow::Result<Value> {
    let mut request = http
        .post(url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(bearer) = bearer {
        request = request.header("authorization", bearer);
    }
    let response: Value = request
        .send()
        .await
        .with_context(|| format!("calling {url}"))?
        .json()
        .await?;
    if let Some(errors) = response.get("errors") {
        bail!("{url} answered with errors: {errors}");
    }
    Ok(response["data"].clone())
}

pub async fn login(
    http: &reqwest::Client,
    url: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let data = call(
        http,
        url,
        "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        json!({ "i": { "email": email, "password": password } }),
        None,
    )
    .await?;
    let token = data["login"]["accessToken"]
        .as_str()
        .context("no access token")?;
    Ok(format!("Bearer {token}"))
}

/// Loads `products` products and `orders` orders of three lines each for one customer.
pub async fn load(router_url: &str, products: usize, orders: usize) -> anyhow::Result<Seed> {
    let http = reqwest::Client::new();
    let admin = login(&http, router_url, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .context("logging in as the admin")?;

    let mut product_ids = Vec::with_capacity(products);
    for i in 0..products {
        // Prices from 1.05 to a few hundred euros, all in minor units under the hood.
        let cents = 105 + (i * 7919) % 30_000;
        let data = call(
            &http,
            router_url,
            "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id } } }",
            json!({ "i": {
                "name": format!("Bench product {i:03}"),
                "description": "A product of the benchmark catalog.",
                "price": { "amount": format!("{}.{:02}", cents / 100, cents % 100), "currencyCode": "EUR" },
            } }),
            Some(&admin),
        )
        .await
        .context("creating the catalog")?;
        product_ids.push(
            data["createProduct"]["product"]["id"]
                .as_str()
                .context("product id")?
                .to_owned(),
        );
    }

    call(
        &http,
        router_url,
        "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }",
        json!({ "i": { "email": CUSTOMER_EMAIL, "name": "Bench Customer", "password": CUSTOMER_PASSWORD } }),
        None,
    )
    .await
    .context("registering the customer")?;
    let customer_bearer = login(&http, router_url, CUSTOMER_EMAIL, CUSTOMER_PASSWORD).await?;

    for i in 0..orders {
        let items: Vec<Value> = (0..3)
            .map(|j| json!({ "productId": product_ids[(i * 3 + j) % product_ids.len()], "quantity": 1 + j }))
            .collect();
        call(
            &http,
            router_url,
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }",
            json!({ "i": { "items": items } }),
            Some(&customer_bearer),
        )
        .await
        .context("placing the customer's orders")?;
    }
    Ok(Seed {
        customer_bearer,
        product_ids,
        orders,
    })
}
