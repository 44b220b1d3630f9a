//! Pack and unpack throughput on multi-GB ModelKits: `cargo bench -p mkbuild-benches`.
//!
//! Every group reports `Throughput::Bytes` of file data, so criterion prints GiB/s. Samples are
//! few and measurement times short: one iteration of the 4 GiB cases takes seconds.

// `criterion_group!` generates an undocumented `pub fn`, which no doc comment can reach.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mkbuild_benches::{
    data_root, format, fresh_store, one_file, pack_context, shards, small_files, unpack_into,
    Context, GIB,
};
use mkbuild_engine::Compression;

fn group_settings<'c>(
    c: &'c mut Criterion,
    name: &str,
    context: &Context,
) -> criterion::BenchmarkGroup<'c, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Bytes(context.data_bytes));
    group
}

/// A compression and its name in the report.
type Codec = (&'static str, Compression);

/// A cold pack (no build cache) of each data set. Compressed packs of 4 GiB of random bytes take
/// a minute per iteration, so gzip and zstd run on a 1 GiB file (and the small files).
fn cold_packs(c: &mut Criterion) {
    let v2 = format("v2");
    let none = [("none", Compression::None)];
    let all = [
        ("none", Compression::None),
        ("gzip-fastest", Compression::GzipFastest),
        ("zstd", Compression::Zstd),
    ];
    let sets: [(&str, Context, &[Codec]); 4] = [
        ("one-4gib", one_file(4 * GIB), &none),
        ("four-1gib-shards", shards(4, GIB), &none),
        ("one-1gib", one_file(GIB), &all),
        ("10k-small-files", small_files(10_000), &all),
    ];
    for (name, context, compressions) in &sets {
        let mut group = group_settings(c, &format!("pack/{name}"), context);
        for &(label, compression) in compressions.iter() {
            group.bench_function(label, |b| {
                b.iter_with_setup(
                    || fresh_store("pack"),
                    |store| pack_context(&store, &v2, context, compression, false),
                )
            });
        }
        group.finish();
    }
}

/// Repacking the unchanged 4 GiB file: the build cache answers without reading it.
fn noop_repack(c: &mut Criterion) {
    let v2 = format("v2");
    let context = one_file(4 * GIB);
    let store = fresh_store("noop");
    pack_context(&store, &v2, &context, Compression::None, true);
    let mut group = group_settings(c, "repack-unchanged", &context);
    group.bench_function("one-4gib", |b| {
        b.iter(|| pack_context(&store, &v2, &context, Compression::None, true))
    });
    group.finish();
}

/// Unpacking the 4 GiB ModelKit into a new folder.
fn unpack_4gib(c: &mut Criterion) {
    let v2 = format("v2");
    let context = one_file(4 * GIB);
    let store = fresh_store("unpack");
    let digest = pack_context(&store, &v2, &context, Compression::None, false)
        .manifest
        .digest
        .to_string();
    let target = data_root().join("unpacked");
    let mut group = group_settings(c, "unpack", &context);
    group.bench_function("one-4gib", |b| {
        b.iter(|| unpack_into(&store, &digest, &target))
    });
    group.finish();
}

criterion_group!(benches, cold_packs, noop_repack, unpack_4gib);
criterion_main!(benches);
