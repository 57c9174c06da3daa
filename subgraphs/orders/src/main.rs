//! The orders service binary: `serve` (default), `migrate`, or `print-schema`.

use common::config::Env;
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
            orders::connect_and_migrate(&config.database).await?;
            tracing::info!("orders database is up to date");
            Ok(())
        }
        "serve" => {
            let _telemetry = common::telemetry::init("orders")?;
            let config = Config::from_env(&Env::process())?;
            let deps = Deps::from_config(&config).await?;
            let service = orders::start(config, deps).await?;
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
