//! Demo data for a first look: an admin, a customer and a small catalog.
//!
//! Everything goes in through the public API (the router), exactly as a frontend or an
//! operator would do it, so the demo also proves the wiring. Loading twice is harmless:
//! existing accounts are logged into and a catalog that already has products is left alone.

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::Stack;

pub const ADMIN_EMAIL: &str = "admin@shop.example";
pub const ADMIN_PASSWORD: &str = "espresso-at-dawn-2026";
pub const CUSTOMER_EMAIL: &str = "customer@shop.example";
pub const CUSTOMER_PASSWORD: &str = "flat-white-morning-42";

/// The demo accounts' credentials, printed at start-up.
#[derive(Debug, Clone)]
pub struct DemoAccounts {
    pub admin_email: &'static str,
    pub admin_password: &'static str,
    pub customer_email: &'static str,
    pub customer_password: &'static str,
    pub products_created: usize,
}

/// The admin the users service ensures at start-up in demo mode.
pub fn admin() -> users::config::BootstrapAdmin {
    users::config::BootstrapAdmin {
        email: ADMIN_EMAIL.to_owned(),
        name: "Demo Admin".to_owned(),
        password: kit::config::Secret::new(ADMIN_PASSWORD),
    }
}

/// (name, description, price in EUR)
const CATALOG: &[(&str, &str, &str)] = &[
    (
        "Espresso beans, 1 kg",
        "Dark roast, chocolate and hazelnut notes.",
        "24.90",
    ),
    (
        "Filter coffee, 500 g",
        "Light roast from Ethiopia, floral and bright.",
        "13.50",
    ),
    (
        "Ceramic pour-over dripper",
        "Fits size 02 filters.",
        "29.00",
    ),
    ("Paper filters, 100 pcs", "Unbleached, size 02.", "4.95"),
    (
        "Burr grinder",
        "Hand grinder with steel burrs and 40 settings.",
        "89.00",
    ),
    (
        "Gooseneck kettle",
        "1 litre, stainless steel, built-in thermometer.",
        "54.00",
    ),
    ("Digital scale", "0.1 g resolution with timer.", "32.50"),
    ("Milk frothing jug", "600 ml, stainless steel.", "18.90"),
    (
        "Double-walled glass, set of 2",
        "250 ml, heat resistant.",
        "21.00",
    ),
    (
        "Travel mug",
        "Vacuum insulated, 350 ml, leak-proof lid.",
        "27.00",
    ),
    (
        "Cold brew bottle",
        "1 litre with a fine mesh filter.",
        "25.00",
    ),
    ("Moka pot, 6 cups", "Aluminium stove-top brewer.", "35.00"),
    ("French press", "Borosilicate glass, 1 litre.", "31.00"),
    ("Espresso cups, set of 4", "Porcelain, 80 ml.", "26.00"),
    (
        "Cappuccino cups, set of 2",
        "Porcelain, 180 ml with saucers.",
        "22.00",
    ),
    ("Knock box", "For spent espresso pucks.", "19.50"),
    (
        "Tamper, 58 mm",
        "Stainless steel base, walnut handle.",
        "34.00",
    ),
    ("Descaling tablets", "Citric-acid based, 12 pcs.", "9.90"),
    (
        "Cleaning brush set",
        "For grinders and group heads.",
        "12.00",
    ),
    ("Green tea, 100 g", "Sencha from Shizuoka.", "14.00"),
    ("Black tea, 250 g", "Assam second flush.", "11.50"),
    (
        "Chai spice mix, 150 g",
        "Cardamom, cinnamon, ginger, clove.",
        "8.90",
    ),
    ("Hot chocolate, 300 g", "70 % cocoa flakes.", "12.90"),
    ("Oat milk barista, 1 l", "Foams like dairy milk.", "2.49"),
    (
        "Almond biscotti, 200 g",
        "Baked twice, for dunking.",
        "6.50",
    ),
    ("Coffee syrup, vanilla", "250 ml glass bottle.", "7.90"),
    ("Linen tea towel", "Natural linen, 50 × 70 cm.", "15.00"),
    ("Gift card, 25 EUR", "Delivered by email.", "25.00"),
    ("Gift card, 50 EUR", "Delivered by email.", "50.00"),
    (
        "Barista course voucher",
        "Two hours, beginners welcome.",
        "79.00",
    ),
];

async fn graphql(
    http: &reqwest::Client,
    url: &str,
    query: &str,
    variables: Value,
    bearer: Option<&str>,
) -> anyhow::Result<Value> {
    let mut req = http
        .post(url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let resp: Value = req
        .send()
        .await
        .context("calling the router")?
        .json()
        .await
        .context("reading the response")?;
    Ok(resp)
}

async fn login(
    http: &reqwest::Client,
    url: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let resp = graphql(
        http,
        url,
        "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
        json!({ "input": { "email": email, "password": password } }),
        None,
    )
    .await?;
    match resp["data"]["login"]["accessToken"].as_str() {
        Some(t) => Ok(t.to_owned()),
        None => bail!("login as {email} failed: {}", resp["errors"]),
    }
}

/// Creates the customer and the catalog (the admin was ensured by the users service).
pub async fn load(stack: &Stack) -> anyhow::Result<DemoAccounts> {
    let http = reqwest::Client::new();
    let url = stack.router_url();

    let registered = graphql(
        &http,
        &url,
        "mutation($input: RegisterInput!) { register(input: $input) { user { id } } }",
        json!({ "input": { "email": CUSTOMER_EMAIL, "name": "Demo Customer", "password": CUSTOMER_PASSWORD } }),
        None,
    )
    .await?;
    let conflict = registered["errors"][0]["extensions"]["code"] == "CONFLICT";
    if registered["data"]["register"].is_null() && !conflict {
        bail!(
            "registering the demo customer failed: {}",
            registered["errors"]
        );
    }
    login(&http, &url, CUSTOMER_EMAIL, CUSTOMER_PASSWORD).await?;

    let admin = login(&http, &url, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    let existing = graphql(
        &http,
        &url,
        "{ products(first: 1) { totalCount } }",
        json!({}),
        None,
    )
    .await?;
    let count = existing["data"]["products"]["totalCount"]
        .as_u64()
        .context("counting products")?;
    let mut created = 0;
    if count == 0 {
        for (name, description, price) in CATALOG {
            let resp = graphql(
                &http,
                &url,
                "mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } } }",
                json!({ "input": { "name": name, "description": description, "price": { "amount": price, "currencyCode": "EUR" } } }),
                Some(&admin),
            )
            .await?;
            if resp["data"]["createProduct"]["product"]["id"].is_null() {
                bail!("creating {name} failed: {}", resp["errors"]);
            }
            created += 1;
        }
    }
    Ok(DemoAccounts {
        admin_email: ADMIN_EMAIL,
        admin_password: ADMIN_PASSWORD,
        customer_email: CUSTOMER_EMAIL,
        customer_password: CUSTOMER_PASSWORD,
        products_created: created,
    })
}
