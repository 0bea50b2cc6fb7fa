//! Streams one person's listening history into Kafka, one event per listen:
//! the classic CSV dataset, or their own Spotify export (a file of it, its
//! folder or its `.zip`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use server::accounts::PersonName;
use server::config::{ArchiveSettings, KafkaSettings, MongoSettings};
use server::import::{import, FileSummary, ImportObserver, ImportOptions};
use server::ingest::Format;
use server::store::imports::{PersonImports, RegistryError};
use server::store::{Store, StoreError};

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
    archive: ArchiveSettings,
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
async fn import_registry(args: &ProducerArgs, store: Store) -> Result<PersonImports, String> {
    PersonImports::find(store.for_topic(&args.kafka.topic), &args.person)
        .await
        .map_err(|error| match error {
            RegistryError::NoSuchPerson(_) => error.to_string(),
            RegistryError::Store(error) => unreachable_store(args, error),
        })
}

fn unreachable_store(args: &ProducerArgs, error: StoreError) -> String {
    format!(
        "cannot look up {} and the files they imported before: {error}. \
         Start MongoDB (./scripts/stack.sh up) or point MONGODB_URI at it.",
        args.person
    )
}

/// The progress bar on a terminal: bytes read, and the current file's counts.
struct Bar(ProgressBar);

impl Bar {
    fn new() -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(ProgressBar::hidden());
        }
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Self(bar)
    }
}

impl ImportObserver for Bar {
    fn started(&self, total_bytes: u64) {
        self.0.set_length(total_bytes);
    }

    fn read_bytes(&self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn file_progress(&self, file: &FileSummary) {
        self.0.set_message(format!(
            "{}: {} records read, {} rejected",
            file.name, file.read, file.rejected
        ));
    }

    fn acknowledging(&self, _file: &FileSummary) {
        self.0.set_message("waiting for the broker to acknowledge…");
    }

    fn finished(&self) {
        self.0.finish_and_clear();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = ProducerArgs::parse();
    if let Err(error) = args.kafka.load_secrets() {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    let store = match Store::connect(&args.mongo).await {
        Ok(store) => store,
        Err(error) => {
            eprintln!("error: {}", unreachable_store(&args, error));
            return ExitCode::FAILURE;
        }
    };
    let outcome = run(&args, store.clone()).await;
    store.shutdown().await;
    outcome
}

async fn run(args: &ProducerArgs, store: Store) -> ExitCode {
    let registry = match import_registry(args, store).await {
        Ok(registry) => registry,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let options = ImportOptions {
        person: registry.person().clone(),
        path: args.file.clone(),
        format: args.format,
        rate: args.rate,
        limit: args.limit,
        force: args.force,
        archive_limits: args.archive.limits(),
        id: None,
    };
    match import(&args.kafka, &options, &registry, Arc::new(Bar::new())).await {
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
