//! The users service binary.
//!
//! ```text
//! users [serve]                                   run the service (configured by the environment)
//! users print-schema                              print the subgraph's Federation SDL
//! users create-admin --email E [--name N]         create or promote an admin
//! ```
//!
//! `create-admin` reads the password from `USERS_ADMIN_PASSWORD`, or else from the first
//! line of standard input; never from the command line, where other users of the machine
//! could read it in the process list.

use std::io::BufRead as _;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use kit::config::{Env, Secret};
use users::{
    Config, Deps,
    accounts::Accounts,
    config::BootstrapAdmin,
    passwords::PasswordHasher,
    service::{ensure_admin, open_store},
};

/// The users subgraph. The service is configured by environment variables (the README's
/// Configuration section lists them).
#[derive(Parser)]
#[command(name = "users", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Print the subgraph's federation SDL.
    PrintSchema,
    /// Create an admin, or promote an existing user. The password is read from
    /// USERS_ADMIN_PASSWORD, or else from the first line of standard input.
    CreateAdmin(AdminArgs),
}

/// The options of `create-admin`.
#[derive(Debug, Args)]
struct AdminArgs {
    /// The admin's email address.
    #[arg(long)]
    email: String,
    /// The admin's display name.
    #[arg(long, default_value = "Administrator")]
    name: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::PrintSchema => {
            print!("{}", users::graphql::sdl());
            Ok(())
        }
        Command::CreateAdmin(args) => create_admin(args).await,
    }
}

async fn serve() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init("users")?;
    let config = Config::from_env(&Env::process())?;
    let deps = Deps::from_config(&config).await?;
    let service = users::start(config, deps).await?;
    kit::health::shutdown_signal().await;
    tracing::info!("shutting down");
    service.stop().await;
    Ok(())
}

async fn create_admin(AdminArgs { email, name }: AdminArgs) -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init("users")?;
    let env = Env::process();
    let password = match env.secret("USERS_ADMIN_PASSWORD") {
        Some(p) => p,
        None => {
            eprintln!("password (one line on standard input):");
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password")?;
            Secret::new(line.trim_end_matches(['\r', '\n']))
        }
    };
    let config = Config::from_env(&env)?;
    let opened = open_store(&config.store).await?;
    let hasher = PasswordHasher::new(config.hash_cost)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let accounts = Accounts::new(opened.store, hasher, config.lockout);
    let outcome = ensure_admin(
        &accounts,
        &BootstrapAdmin {
            email: email.clone(),
            name,
            password,
        },
    )
    .await?;
    println!("{email}: {outcome:?}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};

    use super::*;

    fn admin_args(list: &[&str]) -> Result<AdminArgs, clap::Error> {
        let argv = ["users", "create-admin"]
            .into_iter()
            .chain(list.iter().copied());
        match Cli::try_parse_from(argv)?.command {
            Some(Command::CreateAdmin(args)) => Ok(args),
            _ => panic!("not create-admin"),
        }
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_admin_options_in_both_spellings() {
        let parsed = admin_args(&["--email", "a@b.co", "--name=Root"]).expect("valid");
        assert_eq!(
            (parsed.email.as_str(), parsed.name.as_str()),
            ("a@b.co", "Root")
        );
        assert_eq!(
            admin_args(&["--email=a@b.co"]).expect("valid").name,
            "Administrator"
        );
        assert!(
            admin_args(&["--name", "Root"]).is_err(),
            "email is required"
        );
        assert!(admin_args(&["--email"]).is_err(), "a value is required");
        assert!(
            admin_args(&["--email", "a@b.co", "--password", "x"]).is_err(),
            "no password option"
        );
    }
}
