//! Streams listening history into Kafka, one event per listen: the classic
//! CSV dataset, or one's own Spotify export (a file of it, its folder or its
//! `.zip`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use server::config::{KafkaSettings, MongoSettings};
use server::ingest::Format;
use server::store::imports::BlockingImportRegistry;
use server::stream::publish::{publish, ImportRegistry, PublishOptions};

#[derive(Parser, Debug)]
#[command(
    name = "producer",
    version,
    about = "Streams listening history (spotify_history.csv or a Spotify data export) into Kafka"
)]
struct ProducerArgs {
    /// A spotify_history.csv file, a JSON file of a Spotify export, the
    /// export's folder, or the export's .zip (my_spotify_data.zip).
    #[arg(long)]
    file: PathBuf,
    /// The format of a single file, when telling it from the content is not wanted.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Stream files even if their content was imported before (their listens are counted again).
    #[arg(long)]
    force: bool,
    /// Events per second to simulate real time; 0 sends as fast as the broker takes them.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    rate: f64,
    /// Stop after this many records in all.
    #[arg(long)]
    limit: Option<u64>,
    #[command(flatten)]
    kafka: KafkaSettings,
    /// Where the registry of imported files is kept.
    #[command(flatten)]
    mongo: MongoSettings,
}

fn parse_rate(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 0.0 => Ok(rate),
        _ => Err(format!(
            "{raw:?} is not a rate: give events per second, 0 or more"
        )),
    }
}

/// The registry of imports, or why there is none: without it a repeated
/// import cannot be recognised, so only `--force` goes on.
fn import_registry(args: &ProducerArgs) -> Result<Option<BlockingImportRegistry>, String> {
    match BlockingImportRegistry::connect(&args.mongo, &args.kafka.topic) {
        Ok(registry) => Ok(Some(registry)),
        Err(error) if args.force => {
            eprintln!("warning: the registry of imports is out of reach ({error}); streaming anyway (--force)");
            Ok(None)
        }
        Err(error) => Err(format!(
            "cannot check which files were imported before: {error}. \
             Start MongoDB (./scripts/stack.sh up) or point MONGODB_URI at it; \
             --force streams without the check."
        )),
    }
}

fn main() -> ExitCode {
    let mut args = ProducerArgs::parse();
    if let Err(error) = args.kafka.load_secrets() {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    let registry = match import_registry(&args) {
        Ok(registry) => registry,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let options = PublishOptions {
        path: args.file.clone(),
        format: args.format,
        rate: args.rate,
        limit: args.limit,
        force: args.force,
        progress: std::io::stderr().is_terminal(),
    };
    let registry = registry.as_ref().map(|r| r as &dyn ImportRegistry);
    match publish(&args.kafka, &options, registry) {
        Ok(summary) => {
            print!(
                "{}",
                summary.report(&args.file.display().to_string(), &args.kafka)
            );
            if summary.is_complete() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
