//! Writes realistic listening history in the classic CSV format,
//! deterministically, or as Spotify's own data export (`--export`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use server::sample::export::{write_export, RECORDS_PER_FILE};
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
    /// Write Spotify's data export (my_spotify_data.zip, extended streaming
    /// history) holding the same listens; needs --out.
    #[arg(long, requires = "out")]
    export: bool,
    /// With --export: the listens of this CSV file rather than generated ones.
    #[arg(long, requires = "export")]
    from: Option<PathBuf>,
    /// With --export: records per history file.
    #[arg(long, requires = "export", default_value_t = RECORDS_PER_FILE)]
    records_per_file: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.export {
        return export(&args);
    }
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

/// Writes the export archive to `--out`.
fn export(args: &Args) -> ExitCode {
    let csv = match &args.from {
        Some(path) => {
            std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))
        }
        None => {
            let mut csv = Vec::new();
            let spec = SampleSpec {
                rows: args.rows,
                seed: args.seed,
            };
            write_sample(spec, &mut csv)
                .map(|()| csv)
                .map_err(|error| format!("cannot generate the listens: {error}"))
        }
    };
    let out = args
        .out
        .as_ref()
        .expect("clap requires --out with --export");
    let written = csv.and_then(|csv| {
        let file = File::create(out)
            .map_err(|error| format!("cannot write {}: {error}", out.display()))?;
        write_export(csv.as_slice(), BufWriter::new(file), args.records_per_file)
            .map_err(|error| error.to_string())
    });
    match written {
        Ok(written) => {
            eprintln!(
                "{} records in {} history files",
                written.records, written.files
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
