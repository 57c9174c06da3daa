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

use anyhow::{Context as _, bail};
use common::config::{Env, Secret};
use users::{
    Config, Deps,
    accounts::Accounts,
    config::BootstrapAdmin,
    passwords::PasswordHasher,
    service::{ensure_admin, open_store},
};

const USAGE: &str =
    "usage: users [serve | print-schema | create-admin --email EMAIL [--name NAME]]";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => serve().await,
        Some("print-schema") => {
            print!("{}", users::graphql::sdl());
            Ok(())
        }
        Some("create-admin") => create_admin(&args[1..]).await,
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n{USAGE}"),
    }
}

async fn serve() -> anyhow::Result<()> {
    let _telemetry = common::telemetry::init("users")?;
    let config = Config::from_env(&Env::process())?;
    let deps = Deps::from_config(&config).await?;
    let service = users::start(config, deps).await?;
    common::health::shutdown_signal().await;
    tracing::info!("shutting down");
    service.stop().await;
    Ok(())
}

/// The options of `create-admin`.
struct AdminArgs {
    email: String,
    name: String,
}

fn parse_admin_args(args: &[String]) -> anyhow::Result<AdminArgs> {
    let (mut email, mut name) = (None, None);
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (option, inline) = match arg.split_once('=') {
            Some((option, value)) => (option, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let slot = match option {
            "--email" => &mut email,
            "--name" => &mut name,
            _ => bail!("unknown argument `{arg}`\n{USAGE}"),
        };
        let value = match inline {
            Some(value) => value,
            None => iter
                .next()
                .with_context(|| format!("{option} needs a value"))?
                .clone(),
        };
        *slot = Some(value);
    }
    Ok(AdminArgs {
        email: email.with_context(|| format!("--email is required\n{USAGE}"))?,
        name: name.unwrap_or_else(|| "Administrator".to_owned()),
    })
}

async fn create_admin(args: &[String]) -> anyhow::Result<()> {
    let _telemetry = common::telemetry::init("users")?;
    let AdminArgs { email, name } = parse_admin_args(args)?;
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
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_admin_options_in_both_spellings() {
        let parsed = parse_admin_args(&args(&["--email", "a@b.co", "--name=Root"])).expect("valid");
        assert_eq!(
            (parsed.email.as_str(), parsed.name.as_str()),
            ("a@b.co", "Root")
        );
        assert_eq!(
            parse_admin_args(&args(&["--email=a@b.co"]))
                .expect("valid")
                .name,
            "Administrator"
        );
        assert!(
            parse_admin_args(&args(&["--name", "Root"])).is_err(),
            "email is required"
        );
        assert!(
            parse_admin_args(&args(&["--email"])).is_err(),
            "a value is required"
        );
        assert!(
            parse_admin_args(&args(&["--email", "a@b.co", "--password", "x"])).is_err(),
            "no password option"
        );
    }
}
