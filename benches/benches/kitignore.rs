//! `.kitignore` matching with many patterns: `cargo bench -p mkbuild-benches --bench kitignore`.
//!
//! `globset` is mkbuild's matcher: every pattern in one `GlobSet`, so a path is matched once
//! against all of them. `one_matcher_per_pattern` is the baseline, run side by side: the matcher
//! before (one compiled glob per pattern, each tried on the path and its parents), with the same
//! last-match semantics. 2,000 patterns on 10,000 paths keep the baseline at a fraction of a
//! second an iteration.

// `criterion_group!` generates an undocumented `pub fn`, which no doc comment can reach.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use globset::{GlobBuilder, GlobMatcher};
use mkbuild_engine::KitIgnore;

const PATTERNS: usize = 2_000;
const PATHS: usize = 10_000;

fn patterns() -> String {
    let mut text = String::new();
    for i in 0..PATTERNS {
        match i % 4 {
            0 => text.push_str(&format!("data/shard-{i}.bin\n")),
            1 => text.push_str(&format!("**/cache-{i}\n")),
            2 => text.push_str(&format!("logs/run-{i}/*.log\n")),
            _ => text.push_str(&format!("!data/keep-{i}.bin\n")),
        }
    }
    text
}

fn paths() -> Vec<String> {
    (0..PATHS)
        .map(|i| match i % 3 {
            0 => format!("data/shard-{}.bin", i % (2 * PATTERNS)),
            1 => format!("model/layer-{}/weights.safetensors", i % 97),
            _ => format!("logs/run-{}/out.log", i % (2 * PATTERNS)),
        })
        .collect()
}

/// The baseline: one matcher per pattern, tried in file order on the path and its parents.
struct OneMatcherPerPattern(Vec<(GlobMatcher, bool)>);

impl OneMatcherPerPattern {
    fn parse(text: &str) -> OneMatcherPerPattern {
        let mut matchers = Vec::new();
        for line in text.lines() {
            let (exclusion, body) = match line.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            let glob = GlobBuilder::new(body)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .expect("a benchmark pattern compiles");
            matchers.push((glob.compile_matcher(), exclusion));
        }
        OneMatcherPerPattern(matchers)
    }

    fn matches(&self, path: &str) -> bool {
        let parents = || path.match_indices('/').map(|(i, _)| &path[..i]);
        let mut ignored = false;
        for (matcher, exclusion) in &self.0 {
            if *exclusion != ignored {
                continue;
            }
            if matcher.is_match(path) || parents().any(|p| matcher.is_match(p)) {
                ignored = !exclusion;
            }
        }
        ignored
    }
}

fn kitignore(c: &mut Criterion) {
    let text = patterns();
    let paths = paths();
    let set = KitIgnore::parse(&text).expect("patterns compile");
    let baseline = OneMatcherPerPattern::parse(&text);
    // Both must say the same of every path, or the comparison means nothing.
    for p in &paths {
        assert_eq!(set.matches(p), baseline.matches(p), "{p}");
    }
    let mut group = c.benchmark_group("kitignore_2000_patterns");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(PATHS as u64));
    group.bench_function("globset", |b| {
        b.iter(|| paths.iter().filter(|p| set.matches(p)).count())
    });
    group.bench_function("one_matcher_per_pattern", |b| {
        b.iter(|| paths.iter().filter(|p| baseline.matches(p)).count())
    });
    group.finish();
}

criterion_group!(benches, kitignore);
criterion_main!(benches);
