//! The payments service binary: `serve` (default), `migrate`, or `print-schema`.

use common::config::Env;
use payments::{Config, Deps};

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
            let _telemetry = common::telemetry::init("payments")?;
            let config = Config::from_env(&Env::process())?;
            payments::connect_and_migrate(&config.database).await?;
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
    let _telemetry = common::telemetry::init("payments")?;
    let config = Config::from_env(&Env::process())?;
    let deps = Deps::from_config(&config).await?;
    let service = payments::start(config, deps).await?;
    common::health::shutdown_signal().await;
    tracing::info!("shutting down");
    service.stop().await;
    Ok(())
}
