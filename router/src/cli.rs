//! Command-line interface of the `router` binary.
//!
//! ```text
//! router [serve] [--config FILE]
//! router compose [--supergraph-config FILE] [--output FILE] [--check]
//! ```
//!
//! `serve` is the default. Its config file may also be named by `ROUTER_CONFIG`.
//! `compose` reads `supergraph.yaml` and writes the supergraph and, beside it,
//! `api.graphql` (the schema clients see); with `--check` it writes nothing and fails when
//! either file on disk differs from what composition yields. `--help` lists every option
//! with its environment variable and default.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::CONFIG_PATH_ENV;

/// The federated GraphQL router.
#[derive(Debug, Parser)]
#[command(name = "router", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `router --config FILE` is `router serve --config FILE`.
    #[command(flatten)]
    serve: ServeArgs,
}

impl Cli {
    /// The command to run; `serve` when none is named.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.serve))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve the supergraph (the default).
    Serve(ServeArgs),
    /// Compose the supergraph and the API schema from the subgraphs' SDL.
    Compose(ComposeArgs),
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ServeArgs {
    /// The YAML configuration file; `ROUTER_*` variables override what it sets.
    #[arg(short, long, value_name = "FILE", env = CONFIG_PATH_ENV)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ComposeArgs {
    /// The supergraph configuration naming each subgraph's SDL.
    #[arg(long, value_name = "FILE", default_value = "supergraph.yaml")]
    pub supergraph_config: PathBuf,
    /// Where to write the supergraph; `api.graphql` is written beside it.
    #[arg(
        short,
        long,
        value_name = "FILE",
        default_value = "schema/supergraph.graphql"
    )]
    pub output: PathBuf,
    /// Write nothing; fail when either file on disk differs from the composition.
    #[arg(long)]
    pub check: bool,
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::*;

    fn parse(list: &[&str]) -> Result<Command, ErrorKind> {
        Cli::try_parse_from(std::iter::once("router").chain(list.iter().copied()))
            .map(Cli::into_command)
            .map_err(|e| e.kind())
    }

    fn serve(config: Option<&str>) -> Result<Command, ErrorKind> {
        Ok(Command::Serve(ServeArgs {
            config: config.map(PathBuf::from),
        }))
    }

    #[test]
    fn the_definition_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default() {
        // Only when ROUTER_CONFIG is unset, as in the tests' environment.
        if std::env::var_os(CONFIG_PATH_ENV).is_some() {
            return;
        }
        assert_eq!(parse(&[]), serve(None));
        assert_eq!(parse(&["--config", "r.yaml"]), serve(Some("r.yaml")));
        assert_eq!(parse(&["--config=r.yaml"]), serve(Some("r.yaml")));
        assert_eq!(parse(&["serve", "-c", "r.yaml"]), serve(Some("r.yaml")));
    }

    #[test]
    fn compose_options() {
        assert_eq!(
            parse(&["compose", "--check", "-o", "out.graphql"]),
            Ok(Command::Compose(ComposeArgs {
                supergraph_config: "supergraph.yaml".into(),
                output: "out.graphql".into(),
                check: true
            }))
        );
        assert_eq!(
            parse(&["compose"]),
            Ok(Command::Compose(ComposeArgs {
                supergraph_config: "supergraph.yaml".into(),
                output: "schema/supergraph.graphql".into(),
                check: false
            }))
        );
    }

    #[test]
    fn errors_are_specific() {
        assert_eq!(parse(&["deploy"]), Err(ErrorKind::InvalidSubcommand));
        assert_eq!(parse(&["serve", "--port"]), Err(ErrorKind::UnknownArgument));
        assert_eq!(parse(&["serve", "--config"]), Err(ErrorKind::InvalidValue));
        assert!(parse(&["--config", "a.yaml", "compose"]).is_err());
    }
}
