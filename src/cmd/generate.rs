//! `gleaner generate` (hidden): write a synthetic article dump for benchmarks.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use flate2::write::GzEncoder;
use flate2::Compression;

use gleaner::entity::Gazetteers;
use gleaner::generate::{parse_size, Generator};

use super::{print_error, EXIT_ERROR, EXIT_OK};

/// Write a synthetic JSONL article dump, deterministic from a seed, for benchmarks.
///
/// The articles are built from sentence templates with places, groups and people from the
/// built-in gazetteers. The same seed and size give the same file; a smaller dump is a
/// prefix of a larger one.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Size of the (uncompressed) dump: `100MB`, `1GB`, `512kB`, bytes.
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    size: u64,

    /// Seed of the generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// Compress with gzip (fast level); `--size` still counts uncompressed bytes.
    #[arg(long)]
    gzip: bool,

    /// File to write (`.jsonl`, or `.jsonl.gz` with `--gzip`).
    #[arg(long, short, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(args: Args) -> u8 {
    let generator = match Gazetteers::builtin().and_then(|g| Generator::new(&g, args.seed)) {
        Ok(g) => g,
        Err(e) => {
            print_error(&e);
            return EXIT_ERROR;
        }
    };
    let file = match File::create(&args.out) {
        Ok(f) => BufWriter::with_capacity(1 << 20, f),
        Err(e) => {
            eprintln!("gleaner: {}: {e}", args.out.display());
            return EXIT_ERROR;
        }
    };
    let result = if args.gzip {
        let mut gz = GzEncoder::new(file, Compression::fast());
        generator
            .write_jsonl(&mut gz, args.size)
            .and_then(|s| gz.finish().and_then(|mut f| f.flush()).map(|_| s))
    } else {
        let mut file = file;
        generator.write_jsonl(&mut file, args.size)
    };
    match result {
        Ok(s) => {
            eprintln!(
                "gleaner: wrote {} articles ({} bytes of JSONL, {} of text) to {}",
                s.articles,
                s.bytes,
                s.text_bytes,
                args.out.display()
            );
            EXIT_OK
        }
        Err(e) => {
            eprintln!("gleaner: {}: {e}", args.out.display());
            EXIT_ERROR
        }
    }
}
