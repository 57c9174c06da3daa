//! The payments service binary: `serve` (default), `migrate`, or `print-schema`. The service
//! is configured by environment variables (the README's Configuration section lists them).

use anyhow::Context as _;
use clap::Parser;
use kit::{config::Env, service::Command};
use payments::{Config, Deps};

/// The payments subgraph.
#[derive(Parser)]
#[command(name = "payments", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
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
            payments::connect_and_migrate(&config.database).await?;
            tracing::info!("payments database migrated");
            Ok(())
        }
        Command::Serve => serve().await,
    }
}

async fn serve() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init("payments")?;
    let config = Config::from_env(&Env::process())?;
    let deps = Deps::connect(&config.bus, &config.jwks_url, &config.token_policy)
        .await
        .context("connecting to the event bus")?;
    let service = payments::start(config, deps).await?;
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
