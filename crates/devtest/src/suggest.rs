//! "Did you mean ...?": the nearest name by edit distance.

/// Names longer than this get no suggestion: nobody mistypes them, and the
/// edit distance is quadratic in the length.
const MAX_NAME_CHARS: usize = 64;

/// Returns the candidate closest to `name`, if it is close enough to be a
/// plausible typo.
///
/// Closeness is the optimal-string-alignment distance (insertions, deletions,
/// substitutions and swaps of adjacent characters, compared case-insensitively).
/// A candidate qualifies when its distance is at most a third of the longer
/// name, and at least 1, or when one name is a prefix of the other and the
/// shorter has at least three characters. Ties go to the earlier candidate.
pub(crate) fn nearest<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    if name.chars().count() > MAX_NAME_CHARS {
        return None;
    }
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate.chars().count() > MAX_NAME_CHARS {
            continue;
        }
        let candidate_lower = candidate.to_lowercase();
        if candidate_lower == lower {
            return Some(candidate);
        }
        let distance = edit_distance(&lower, &candidate_lower);
        let longest = lower.chars().count().max(candidate_lower.chars().count());
        let shortest = lower.chars().count().min(candidate_lower.chars().count());
        let is_prefix = shortest >= 3
            && (candidate_lower.starts_with(&lower) || lower.starts_with(&candidate_lower));
        if distance > (longest / 3).max(1) && !is_prefix {
            continue;
        }
        if best.is_none_or(|(best_distance, _)| distance < best_distance) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Returns the optimal-string-alignment distance between two strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rolling rows: the one before the previous is needed for swaps.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut value = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(before[j - 2] + 1);
            }
            current[j] = value;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}
