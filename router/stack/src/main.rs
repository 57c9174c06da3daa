//! `commerce`: the README's first command. Runs the router and all four subgraphs in one
//! process; `--demo` loads demo accounts and a catalog. The banner lists what is really
//! served (GraphiQL and `/schema.graphql` only where the router's profile turns them on).

use anyhow::Context as _;
use kit::config::Env;

const USAGE: &str = "usage: commerce [--demo] [--data-dir DIR]

Runs the router on :4000 (GraphiQL at http://127.0.0.1:4000/ in the default dev profile;
ROUTER_PROFILE=production turns it and introspection off) and the products (:4001),
orders (:4002), payments (:4003, webhook and sandbox pages on :4013) and users (:4004)
subgraphs in one process. Without DATABASE_URL, MONGODB_URL or NATS_URL it runs embedded:
SQLite files and the user store in the data folder (DATA_DIR, default ./data), an in-process
event bus, and the sandbox payment page unless PAYMENTS_PROVIDER=stripe.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init("commerce")?;
    let mut options = stack::Options::default();
    let mut env = Env::process();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--demo" => options.demo = true,
            "--data-dir" => {
                let dir = args.next().context("--data-dir needs a folder")?;
                // Services read DATA_DIR from the environment they are given: the flag is
                // handed over there, the process environment stays as it is.
                env = env.with_var("DATA_DIR", dir);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument `{other}`\n\n{USAGE}"),
        }
    }
    let stack = stack::start(&env, &options).await?;
    let urls = stack.urls();
    println!();
    for line in stack::router_banner(&stack.router) {
        println!("{line}");
    }
    println!("  products           http://{}/graphql", urls.products);
    println!("  orders             http://{}/graphql", urls.orders);
    println!("  payments           http://{}/graphql", urls.payments);
    println!(
        "  payments webhook   http://{}/webhooks/stripe  (and the sandbox pages)",
        urls.payments_webhook
    );
    println!(
        "  users              http://{}/graphql  (keys: /.well-known/jwks.json)",
        urls.users
    );
    println!("  event bus          {}", stack.bus.kind());
    if let Some(demo) = &stack.demo {
        println!();
        println!(
            "  demo admin         {} / {}",
            demo.admin_email, demo.admin_password
        );
        println!(
            "  demo customer      {} / {}",
            demo.customer_email, demo.customer_password
        );
        println!(
            "  demo catalog       {} products created",
            demo.products_created
        );
    }
    println!();
    println!("  Ctrl-C stops everything (in-flight requests finish, outboxes drain).");
    kit::health::shutdown_signal().await;
    tracing::info!("shutting down");
    stack.stop().await;
    Ok(())
}
