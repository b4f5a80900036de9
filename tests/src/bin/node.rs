//! `passerelle-node`: the real `passerelle` command line, built by this crate so that its
//! tests can start whole server processes (and kill them with SIGKILL) with a binary that
//! is always as fresh as the tests themselves (`CARGO_BIN_EXE_passerelle-node`).

use clap::Parser;
use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    passerelle::cli::init_tracing();
    passerelle::cli::run(passerelle::cli::Cli::parse()).await
}
