//! The README's walk in embedded mode: SQLite, the file user store, the in-process bus and
//! the sandbox payment page, all through the router.

mod support;

use kit::config::Env;
use stack::Options;
use support::{Shopper, project_dir};

#[tokio::test]
async fn a_customer_buys_with_the_sandbox_in_embedded_mode() {
    let data = tempfile::tempdir().unwrap();
    let env = Env::from_pairs([("DATA_DIR", data.path().to_string_lossy().into_owned())]);
    let options = Options {
        demo: true,
        project_dir: project_dir(),
        ephemeral_ports: true,
    };
    let stack = stack::start(&env, &options)
        .await
        .expect("the embedded stack starts");
    assert_eq!(stack.bus.kind(), "in-process");
    let demo = stack.demo.clone().expect("demo data loaded");
    assert_eq!(demo.products_created, 30);

    let mut shopper = Shopper::new(stack.router_url());
    shopper
        .register("walker@shop.example", "Walker", "a long enough passphrase")
        .await;
    shopper
        .login("walker@shop.example", "a long enough passphrase")
        .await;
    let picks = shopper.cheapest(2).await;
    let (order_id, total) = shopper.order(&[(&picks[0].0, 3), (&picks[1].0, 1)]).await;
    assert_eq!(total, "12.42", "3 × 2.49 + 4.95 in integer cents");

    let (url, _payment) = shopper.checkout(&order_id).await;
    // The sandbox page lives on the payments service; with ephemeral ports the configured
    // public URL does not know the real port, so keep only the path.
    let path = url
        .split_once("/sandbox/")
        .map(|(_, p)| format!("/sandbox/{p}"))
        .expect("a sandbox URL");
    let page_url = format!("http://{}{path}", stack.payments.webhook_addr);
    let page = reqwest::get(&page_url).await.unwrap().text().await.unwrap();
    assert!(page.contains("Pay 12.42 EUR"), "{page}");
    let pay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let paid = pay.post(format!("{page_url}/pay")).send().await.unwrap();
    assert!(
        paid.status().is_redirection() || paid.status().is_success(),
        "{}",
        paid.status()
    );

    shopper.until_paid(&order_id).await;
    assert_eq!(
        shopper.product_sales(&picks[0].0).await,
        (picks[0].1.clone(), 3)
    );
    assert_eq!(
        shopper.product_sales(&picks[1].0).await,
        (picks[1].1.clone(), 1)
    );
    let names = shopper.my_order_product_names().await;
    assert_eq!(names, vec![vec![picks[0].1.clone(), picks[1].1.clone()]]);

    stack.stop().await;
}
