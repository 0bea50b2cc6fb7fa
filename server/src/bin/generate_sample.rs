//! Writes realistic listening history in the classic CSV format, deterministically.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use server::sample::{write_sample, SampleSpec, SAMPLE_ROWS, SAMPLE_SEED};

#[derive(Parser, Debug)]
#[command(
    name = "generate-sample",
    version,
    about = "Generates spotify_history.csv-style listening history"
)]
struct Args {
    /// Data rows to write.
    #[arg(long, default_value_t = SAMPLE_ROWS)]
    rows: u64,
    /// Seed: the same seed and rows give the same file.
    #[arg(long, default_value_t = SAMPLE_SEED)]
    seed: u64,
    /// Where to write; standard output when absent.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let spec = SampleSpec {
        rows: args.rows,
        seed: args.seed,
    };
    let result = match &args.out {
        Some(path) => File::create(path)
            .map_err(csv::Error::from)
            .and_then(|file| {
                let mut out = BufWriter::new(file);
                write_sample(spec, &mut out)?;
                out.flush().map_err(csv::Error::from)
            }),
        None => write_sample(spec, std::io::stdout().lock()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot write the sample: {error}");
            ExitCode::FAILURE
        }
    }
}
