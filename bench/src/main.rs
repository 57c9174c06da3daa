//! `bench`: runs the system benchmark and prints its report (see the library docs; the
//! README's Performance section runs it through `bench/run.sh`).

use std::process::ExitCode;

use clap::Parser as _;

#[tokio::main]
async fn main() -> ExitCode {
    // Prints help, the version or a usage error itself, and exits.
    let options = bench::Options::from(bench::Cli::parse());
    match bench::run(&options).await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("benchmark failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}
