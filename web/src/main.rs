use clap::Parser;
use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    passerelle::cli::init_tracing();
    passerelle::cli::run(passerelle::cli::Cli::parse()).await
}
