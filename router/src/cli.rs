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
//! either file on disk differs from what composition yields.

use std::path::PathBuf;

/// Why the command line was not understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CliError {
    #[error("unknown command `{0}` (expected serve or compose)")]
    UnknownCommand(String),
    #[error("unknown option `{0}`")]
    UnknownOption(String),
    #[error("option `{0}` needs a value")]
    MissingValue(String),
}

pub const USAGE: &str = "usage:\n  router [serve] [--config FILE]\n  router compose [--supergraph-config FILE] [--output FILE] [--check]";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Serve {
        config: Option<PathBuf>,
    },
    Compose {
        supergraph_config: PathBuf,
        output: PathBuf,
        check: bool,
    },
    Help,
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, CliError> {
    let mut args = args.into_iter().peekable();
    let command = match args.peek().map(String::as_str) {
        Some("serve") | Some("compose") | Some("help") => args.next(),
        Some(other) if !other.starts_with('-') => {
            return Err(CliError::UnknownCommand(other.to_owned()));
        }
        _ => None,
    };
    let value = |flag: &str, args: &mut std::iter::Peekable<_>| -> Result<String, CliError> {
        Iterator::next(args).ok_or_else(|| CliError::MissingValue(flag.to_owned()))
    };
    match command.as_deref() {
        None | Some("serve") => {
            let mut config = None;
            while let Some(arg) = args.next() {
                match arg.as_str() {
                    "--config" | "-c" => config = Some(PathBuf::from(value(&arg, &mut args)?)),
                    "--help" | "-h" => return Ok(Command::Help),
                    _ => return Err(CliError::UnknownOption(arg)),
                }
            }
            Ok(Command::Serve { config })
        }
        Some("compose") => {
            let mut supergraph_config = PathBuf::from("supergraph.yaml");
            let mut output = PathBuf::from("schema/supergraph.graphql");
            let mut check = false;
            while let Some(arg) = args.next() {
                match arg.as_str() {
                    "--supergraph-config" => {
                        supergraph_config = PathBuf::from(value(&arg, &mut args)?)
                    }
                    "--output" | "-o" => output = PathBuf::from(value(&arg, &mut args)?),
                    "--check" => check = true,
                    "--help" | "-h" => return Ok(Command::Help),
                    _ => return Err(CliError::UnknownOption(arg)),
                }
            }
            Ok(Command::Compose {
                supergraph_config,
                output,
                check,
            })
        }
        _ => Ok(Command::Help),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn serve_is_the_default() {
        assert_eq!(parse(args(&[])), Ok(Command::Serve { config: None }));
        assert_eq!(
            parse(args(&["--config", "r.yaml"])),
            Ok(Command::Serve {
                config: Some("r.yaml".into())
            })
        );
    }

    #[test]
    fn compose_options() {
        assert_eq!(
            parse(args(&["compose", "--check", "-o", "out.graphql"])),
            Ok(Command::Compose {
                supergraph_config: "supergraph.yaml".into(),
                output: "out.graphql".into(),
                check: true
            })
        );
    }

    #[test]
    fn errors_are_specific() {
        assert_eq!(
            parse(args(&["deploy"])),
            Err(CliError::UnknownCommand("deploy".into()))
        );
        assert_eq!(
            parse(args(&["serve", "--port"])),
            Err(CliError::UnknownOption("--port".into()))
        );
        assert_eq!(
            parse(args(&["serve", "--config"])),
            Err(CliError::MissingValue("--config".into()))
        );
    }
}
