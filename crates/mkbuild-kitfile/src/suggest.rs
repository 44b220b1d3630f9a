//! "Did you mean" suggestions for misspelt keys.

/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .iter()
        .map(|&c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|&(d, c)| d <= 1 + c.chars().count() / 4)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbouring characters each cost 1 (so `modle` is 1 away from `model`).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("modle", "model"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("dataset", "datasets"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions() {
        let keys = [
            "manifestVersion",
            "package",
            "model",
            "code",
            "datasets",
            "docs",
        ];
        assert_eq!(closest("modle", &keys), Some("model"));
        assert_eq!(closest("dataset", &keys), Some("datasets"));
        assert_eq!(closest("ManifestVersion", &keys), Some("manifestVersion"));
        assert_eq!(closest("manifest_version", &keys), Some("manifestVersion"));
        assert_eq!(closest("doc", &keys), Some("docs"));
        assert_eq!(closest("prompts", &keys), None);
        assert_eq!(closest("xyz", &keys), None);
    }
}
