//! Streams a listening-history file into Kafka, one event per listen.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use server::config::KafkaSettings;
use server::stream::publish::{publish_file, PublishOptions};

#[derive(Parser, Debug)]
#[command(
    name = "producer",
    version,
    about = "Streams listening history (spotify_history.csv) into Kafka"
)]
struct ProducerArgs {
    /// The listening-history file to stream.
    #[arg(long)]
    file: PathBuf,
    /// Events per second to simulate real time; 0 sends as fast as the broker takes them.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    rate: f64,
    /// Stop after this many records of the file.
    #[arg(long)]
    limit: Option<u64>,
    #[command(flatten)]
    kafka: KafkaSettings,
}

fn parse_rate(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 0.0 => Ok(rate),
        _ => Err(format!(
            "{raw:?} is not a rate: give events per second, 0 or more"
        )),
    }
}

fn main() -> ExitCode {
    let args = ProducerArgs::parse();
    let options = PublishOptions {
        path: args.file.clone(),
        rate: args.rate,
        limit: args.limit,
        progress: std::io::stderr().is_terminal(),
    };
    match publish_file(&args.kafka, &options) {
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
