//! Streams one person's listening history into Kafka, one event per listen:
//! the classic CSV dataset, or their own Spotify export (a file of it, its
//! folder or its `.zip`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use server::accounts::PersonName;
use server::config::{KafkaSettings, MongoSettings};
use server::ingest::Format;
use server::store::imports::{BlockingImportRegistry, RegistryError};
use server::stream::publish::{publish, ImportRegistry, PublishOptions};

#[derive(Parser, Debug)]
#[command(
    name = "producer",
    version,
    about = "Streams listening history (spotify_history.csv or a Spotify data export) into Kafka"
)]
struct ProducerArgs {
    /// Whose listens these are: the name of an account (`server accounts list`).
    #[arg(long, value_parser = parse_person)]
    person: PersonName,
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
    /// Where the accounts and the registry of imported files are kept.
    #[command(flatten)]
    mongo: MongoSettings,
}

fn parse_person(raw: &str) -> Result<PersonName, String> {
    PersonName::parse(raw).map_err(|bad| bad.to_string())
}

fn parse_rate(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 0.0 => Ok(rate),
        _ => Err(format!(
            "{raw:?} is not a rate: give events per second, 0 or more"
        )),
    }
}

/// The person's registry of imports, or why there is none: without it
/// neither whose listens these are nor a repeated import can be known.
fn import_registry(args: &ProducerArgs) -> Result<BlockingImportRegistry, String> {
    BlockingImportRegistry::connect(&args.mongo, &args.kafka.topic, &args.person).map_err(|error| {
        match error {
            RegistryError::NoSuchPerson(_) => error.to_string(),
            RegistryError::Store(error) => format!(
                "cannot look up {} and the files they imported before: {error}. \
                 Start MongoDB (./scripts/stack.sh up) or point MONGODB_URI at it.",
                args.person
            ),
        }
    })
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
        person: registry.person().clone(),
        path: args.file.clone(),
        format: args.format,
        rate: args.rate,
        limit: args.limit,
        force: args.force,
        progress: std::io::stderr().is_terminal(),
    };
    match publish(
        &args.kafka,
        &options,
        Some(&registry as &dyn ImportRegistry),
    ) {
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
