//! `products [serve|migrate|print-schema]`: runs the products subgraph (the default), applies
//! its database migrations and exits, or prints its federation SDL. The service is configured
//! by environment variables (the README's Configuration section lists them).

use anyhow::Context as _;
use clap::Parser;
use kit::{config::Env, service::Command};
use products::{Config, Deps};

/// The products subgraph.
#[derive(Parser)]
#[command(name = "products", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::PrintSchema => {
            print!("{}", products::sdl());
            Ok(())
        }
        Command::Migrate => {
            let _telemetry = kit::telemetry::init("products")?;
            let config = Config::from_env(&Env::process())?;
            let (db, _) = products::connect_and_migrate(&config.database).await?;
            db.close().await?;
            tracing::info!("products migrations applied");
            Ok(())
        }
        Command::Serve => {
            let _telemetry = kit::telemetry::init("products")?;
            let config = Config::from_env(&Env::process())?;
            let deps = Deps::connect(&config.bus, &config.jwks_url, &config.token_policy)
                .await
                .context("connecting to the event bus")?;
            let service = products::start(config, deps).await?;
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
