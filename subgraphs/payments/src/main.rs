//! The payments service binary: `serve` (default), `migrate`, or `print-schema`. The service
//! is configured by environment variables (the README's Configuration section lists them).

use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kit::{auth::JwksVerifier, config::Env};
use payments::{Config, Deps};
use sea_orm_migration::MigratorTrait as _;

/// The payments subgraph.
#[derive(Parser)]
#[command(name = "payments", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Print the subgraph's federation SDL.
    PrintSchema,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::PrintSchema => {
            print!("{}", payments::graphql::sdl());
            Ok(())
        }
        Command::Migrate => {
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
        Command::Serve => serve().await,
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
