//! The `router` binary: `serve` (default) or `compose`; see [`router::cli`].

use std::{path::Path, process::ExitCode};

use clap::Parser as _;
use router::{
    cli::{Cli, Command, ComposeArgs, ServeArgs},
    compose,
    config::{Env, RouterConfig},
};

/// mimalloc instead of the system allocator: a request's work is mostly short-lived small
/// allocations (parsed subgraph answers, merged trees, response text), which mimalloc serves
/// with far fewer instructions. On the federated benchmark's replayed deep query it cut the
/// executor's instructions by 17 % (README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Prints help, the version or a usage error itself, and exits.
    let command = Cli::parse().into_command();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match command {
        Command::Compose(ComposeArgs {
            supergraph_config,
            output,
            check,
        }) => runtime.block_on(run_compose(&supergraph_config, &output, check)),
        Command::Serve(ServeArgs { config }) => runtime.block_on(serve(config)),
    }
}

async fn run_compose(supergraph_config: &Path, output: &Path, check: bool) -> ExitCode {
    let sdl = match compose::compose_file(supergraph_config).await {
        Ok(sdl) => sdl,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let api = match compose::api_schema(&sdl) {
        Ok(api) => api,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let api_output = compose::api_schema_path(output);
    let files = [
        (output, &sdl, "supergraph"),
        (api_output.as_path(), &api, "API schema"),
    ];
    if check {
        let mut stale = false;
        for (path, text, what) in files {
            match compose::is_up_to_date(path, text) {
                Ok(true) => println!("{} is up to date", path.display()),
                Ok(false) => {
                    eprintln!(
                        "{} differs from the composed {what}; run `router compose`",
                        path.display()
                    );
                    stale = true;
                }
                Err(e) => {
                    eprintln!("cannot read {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
        }
        return if stale {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    for (path, text, _) in files {
        if let Err(e) = compose::write_supergraph(path, text) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}

async fn serve(config_path: Option<std::path::PathBuf>) -> ExitCode {
    // The config comes first because it names the service in logs and traces; its errors go
    // to stderr, as no subscriber is installed yet.
    let config = match RouterConfig::load(config_path.as_deref(), &Env::process()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    // Held until the end: dropping it flushes the spans still waiting for export.
    let _telemetry = match platform::telemetry::init(&config.telemetry.service_name) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(?config, "configuration loaded");
    let running = match router::spawn(config).await {
        Ok(running) => running,
        Err(e) => {
            // Composition conflicts span several lines; print them as they are.
            eprintln!("router did not start: {e}");
            tracing::error!(error = %e, "router did not start");
            return ExitCode::FAILURE;
        }
    };
    let token = running.shutdown_token();
    tokio::spawn(async move {
        platform::health::shutdown_signal().await;
        tracing::info!("shutdown requested; draining requests");
        token.cancel();
    });
    running.wait().await;
    ExitCode::SUCCESS
}
