//! Prints the folder of a generated bench data set, generating it on first use:
//! `bench-data one GIB`, `bench-data shards COUNT GIB`, `bench-data small COUNT`.

use mkbuild_benches::{one_file, shards, small_files, GIB};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| -> u64 {
        args.get(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| usage())
    };
    let context = match args.first().map(String::as_str) {
        Some("one") => one_file(number(1) * GIB),
        Some("shards") => shards(
            u32::try_from(number(1)).unwrap_or_else(|_| usage()),
            number(2) * GIB,
        ),
        Some("small") => small_files(u32::try_from(number(1)).unwrap_or_else(|_| usage())),
        _ => usage(),
    };
    println!("{}", context.dir.display());
}

fn usage() -> ! {
    eprintln!("usage: bench-data one GIB | shards COUNT GIB | small COUNT");
    std::process::exit(2)
}
