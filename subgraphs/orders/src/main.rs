//! The orders service binary: `serve` (default), `migrate`, or `print-schema`.

use std::sync::Arc;

use anyhow::Context as _;
use common::{auth::JwksVerifier, config::Env};
use orders::{Config, Deps};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    match command.as_str() {
        "print-schema" => {
            print!("{}", orders::graphql::sdl());
            Ok(())
        }
        "migrate" => {
            let _telemetry = common::telemetry::init("orders")?;
            let config = Config::from_env(&Env::process())?;
            orders::connect_and_migrate(&config).await?;
            tracing::info!("orders database is up to date");
            Ok(())
        }
        "serve" => {
            let _telemetry = common::telemetry::init("orders")?;
            let config = Config::from_env(&Env::process())?;
            let bus = common::bus::connect(&config.bus)
                .await
                .context("cannot connect to the event bus")?;
            let verifier = Arc::new(JwksVerifier::remote(
                config.jwks_url.clone(),
                config.token_policy.clone(),
            ));
            let service = orders::start(config, Deps { bus, verifier }).await?;
            common::health::shutdown_signal().await;
            tracing::info!("shutting down");
            service.stop().await;
            Ok(())
        }
        other => {
            anyhow::bail!("unknown command `{other}`; expected serve, migrate or print-schema")
        }
    }
}
