//! The orders service binary: `serve` (default), `migrate`, or `print-schema`. The service is
//! configured by environment variables (the README's Configuration section lists them).

use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kit::{auth::JwksVerifier, config::Env};
use orders::{Config, Deps};

/// The orders subgraph.
#[derive(Parser)]
#[command(name = "orders", version)]
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
            print!("{}", orders::api::sdl());
            Ok(())
        }
        Command::Migrate => {
            let _telemetry = kit::telemetry::init("orders")?;
            let config = Config::from_env(&Env::process())?;
            orders::connect_and_migrate(&config).await?;
            tracing::info!("orders database is up to date");
            Ok(())
        }
        Command::Serve => {
            let _telemetry = kit::telemetry::init("orders")?;
            let config = Config::from_env(&Env::process())?;
            let bus = kit::bus::connect(&config.bus)
                .await
                .context("cannot connect to the event bus")?;
            let verifier = Arc::new(JwksVerifier::remote(
                config.jwks_url.clone(),
                config.token_policy.clone(),
            ));
            let service = orders::start(config, Deps { bus, verifier }).await?;
            kit::health::shutdown_signal().await;
            tracing::info!("shutting down");
            service.stop().await;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
