//! `commerce`: the README's first command. Runs the router and all four subgraphs in one
//! process; `--demo` loads demo accounts and a catalog. The banner lists what is really
//! served (GraphiQL and `/schema.graphql` only where the router's profile turns them on).

use clap::Parser as _;
use kit::config::Env;

/// Runs the router and the four subgraphs in one process.
#[derive(clap::Parser)]
#[command(
    name = "commerce",
    version,
    after_help = "Runs the router on :4000 (GraphiQL at http://127.0.0.1:4000/ in the default dev profile;
ROUTER_PROFILE=production turns it and introspection off) and the products (:4001),
orders (:4002), payments (:4003, webhook and sandbox pages on :4013) and users (:4004)
subgraphs in one process. Without DATABASE_URL, MONGODB_URL or NATS_URL it runs embedded:
SQLite files and the user store in the data folder, an in-process event bus, and the
sandbox payment page unless PAYMENTS_PROVIDER=stripe."
)]
struct Cli {
    /// Load demo accounts and a catalog.
    #[arg(long)]
    demo: bool,
    /// The folder of the embedded stores [default: ./data]
    #[arg(long, value_name = "DIR", env = "DATA_DIR")]
    data_dir: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = kit::telemetry::init("commerce")?;
    let options = stack::Options {
        demo: cli.demo,
        ..stack::Options::default()
    };
    let mut env = Env::process();
    // An empty DATA_DIR counts as unset, as everywhere else. Services read DATA_DIR from the
    // environment they are given: the flag is handed over there, the process environment
    // stays as it is.
    if let Some(dir) = cli.data_dir.filter(|dir| !dir.is_empty()) {
        env = env.with_var("DATA_DIR", dir);
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
