//! The `beraad` binary: parses the command line and runs it.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match beraad::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("beraad: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
