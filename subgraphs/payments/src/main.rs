//! The payments service binary: `serve` (default), `migrate`, or `print-schema`.

use std::sync::Arc;

use anyhow::Context as _;
use kit::{auth::JwksVerifier, config::Env};
use payments::{Config, Deps};
use sea_orm_migration::MigratorTrait as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    match command.as_str() {
        "print-schema" => {
            print!("{}", payments::graphql::sdl());
            Ok(())
        }
        "migrate" => {
            let _telemetry = kit::telemetry::init("payments")?;
            let config = Config::from_env(&Env::process())?;
            let (db, _) = kit::db::connect(&config.database)
                .await
                .context("connecting to the payments database")?;
            payments_migration::Migrator::up(&db, None)
                .await
                .context("migrating")?;
            tracing::info!("payments database migrated");
            Ok(())
        }
        "serve" => serve().await,
        other => {
            anyhow::bail!("unknown command `{other}`; expected serve, migrate or print-schema")
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init("payments")?;
    let config = Config::from_env(&Env::process())?;
    let verifier = Arc::new(JwksVerifier::remote(
        config.jwks_url.clone(),
        config.token_policy.clone(),
    ));
    let bus = kit::bus::connect(&config.bus)
        .await
        .context("connecting to the event bus")?;
    let service = payments::start(config, Deps { bus, verifier }).await?;
    kit::health::shutdown_signal().await;
    tracing::info!("shutting down");
    service.stop().await;
    Ok(())
}
