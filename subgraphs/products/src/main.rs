//! `products [serve|migrate|print-schema]`: runs the products subgraph (the default), applies
//! its database migrations and exits, or prints its federation SDL.

use anyhow::bail;
use kit::config::Env;
use products::{Config, Deps};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    match command.as_str() {
        "print-schema" => {
            print!("{}", products::sdl());
            Ok(())
        }
        "migrate" => {
            let _telemetry = kit::telemetry::init("products")?;
            let config = Config::from_env(&Env::process())?;
            let (db, _) = products::connect_and_migrate(&config.database).await?;
            db.close().await?;
            tracing::info!("products migrations applied");
            Ok(())
        }
        "serve" => {
            let _telemetry = kit::telemetry::init("products")?;
            let config = Config::from_env(&Env::process())?;
            let deps = Deps::from_config(&config).await?;
            let service = products::start(config, deps).await?;
            kit::health::shutdown_signal().await;
            tracing::info!("shutting down");
            service.stop().await;
            Ok(())
        }
        other => bail!("unknown command `{other}`; expected serve, migrate or print-schema"),
    }
}
