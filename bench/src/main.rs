//! `bench`: runs the system benchmark and prints its report (see the library docs; the
//! README's Performance section runs it through `bench/run.sh`).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let options = match bench::Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("{e:#}");
            return ExitCode::from(2);
        }
    };
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
