//! Text changes as small edits, so that a JSON write into a live text field merges with an
//! author's concurrent typing instead of replacing the field.
//!
//! - [`hunks`]: a minimal character diff (Myers' O(ND) algorithm after trimming the common
//!   prefix and suffix). Its work is bounded: past [`MAX_EDIT_DISTANCE`] edits it answers the
//!   trimmed middle as one replacement, which is still correct, only coarser.
//! - [`merge`]: a three-way merge. The writer's change (`base` → `new`) is applied to the text
//!   as it is now (`current`, which may have moved on since the writer read `base`): every
//!   character the writer removed is removed where it now is, unless an author already
//!   removed it; what the writer inserted is inserted at the same place relative to the base
//!   text; whatever authors typed meanwhile stays. With `base == current` this is a plain
//!   diff of `current` into `new`.
//!
//! Everything is in characters; [`units`] converts to the document's offsets (yrs counts
//! UTF-8 bytes by default, Yjs in JavaScript UTF-16 units).

use std::ops::Range;

use yrs::OffsetKind;

/// The most edits [`hunks`] looks for before answering one coarse replacement: bounds its time
/// to O((N + M) · D) and its memory to O(D²) on any input.
pub const MAX_EDIT_DISTANCE: usize = 512;

/// `old[old]` becomes `new[new]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub old: Range<usize>,
    pub new: Range<usize>,
}

/// One change to apply to the current text, in characters of the current text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Delete(Range<usize>),
    Insert(usize, String),
}

/// The hunks that turn `old` into `new`, in order, none empty.
pub fn hunks(old: &[char], new: &[char]) -> Vec<Hunk> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (a, b) = (
        &old[prefix..old.len() - suffix],
        &new[prefix..new.len() - suffix],
    );
    if a.is_empty() && b.is_empty() {
        return Vec::new();
    }
    let whole = || {
        vec![Hunk {
            old: 0..a.len(),
            new: 0..b.len(),
        }]
    };
    let found = if a.is_empty() || b.is_empty() {
        whole()
    } else {
        myers(a, b).unwrap_or_else(whole)
    };
    found
        .into_iter()
        .map(|h| Hunk {
            old: h.old.start + prefix..h.old.end + prefix,
            new: h.new.start + prefix..h.new.end + prefix,
        })
        .collect()
}

/// Myers' shortest edit script, or `None` past [`MAX_EDIT_DISTANCE`] edits.
fn myers(a: &[char], b: &[char]) -> Option<Vec<Hunk>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max = (a.len() + b.len()).min(MAX_EDIT_DISTANCE) as isize;
    let offset = max + 1;
    let mut v = vec![0isize; 2 * max as usize + 3];
    // V as it was before each step d, to walk the path back.
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let at = |k: isize| (k + offset) as usize;
    let mut found = None;
    'search: for d in 0..=max {
        trace.push(v.clone());
        let mut k = -d;
        while k <= d {
            let mut x = if k == -d || (k != d && v[at(k - 1)] < v[at(k + 1)]) {
                v[at(k + 1)]
            } else {
                v[at(k - 1)] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[at(k)] = x;
            if x >= n && y >= m {
                found = Some(d);
                break 'search;
            }
            k += 2;
        }
    }
    let depth = found?;
    // Back from (n, m): each step is one deletion or insertion, after a run of equal ones.
    let mut steps: Vec<(bool, usize)> = Vec::new(); // (deletion?, index in a or b)
    let (mut x, mut y) = (n, m);
    for d in (1..=depth).rev() {
        let v = &trace[d as usize];
        let k = x - y;
        let prev_k = if k == -d || (k != d && v[at(k - 1)] < v[at(k + 1)]) {
            k + 1
        } else {
            k - 1
        };
        let prev_x = v[at(prev_k)];
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            x -= 1;
            y -= 1;
        }
        if x == prev_x {
            steps.push((false, prev_y as usize));
        } else {
            steps.push((true, prev_x as usize));
        }
        x = prev_x;
        y = prev_y;
    }
    steps.reverse();
    // Forward again, grouping adjacent steps into hunks.
    let mut out: Vec<Hunk> = Vec::new();
    let (mut i, mut j) = (0usize, 0usize);
    for (deletion, index) in steps {
        // Equal characters up to this step.
        let (di, dj) = if deletion {
            (index - i, index - i)
        } else {
            (index - j, index - j)
        };
        let contiguous = di == 0 && out.last().is_some_and(|h| h.old.end == i && h.new.end == j);
        i += di;
        j += dj;
        if !contiguous {
            out.push(Hunk {
                old: i..i,
                new: j..j,
            });
        }
        let Some(h) = out.last_mut() else { break };
        if deletion {
            i += 1;
            h.old.end = i;
        } else {
            j += 1;
            h.new.end = j;
        }
    }
    Some(out)
}

/// The changes that apply the writer's change from `base` to `new` onto `current`, in the
/// order to apply them (from the end of the text backwards, so each position still holds).
pub fn merge(base: &str, current: &str, new: &str) -> Vec<Change> {
    let (base, current, new): (Vec<char>, Vec<char>, Vec<char>) = (
        base.chars().collect(),
        current.chars().collect(),
        new.chars().collect(),
    );
    // Where each character of the base text is now, if an author has not removed it.
    let mut now: Vec<Option<usize>> = vec![None; base.len()];
    let (mut i, mut j) = (0, 0);
    for h in hunks(&base, &current)
        .into_iter()
        .chain(std::iter::once(Hunk {
            old: base.len()..base.len(),
            new: current.len()..current.len(),
        }))
    {
        while i < h.old.start {
            now[i] = Some(j);
            i += 1;
            j += 1;
        }
        i = h.old.end;
        j = h.new.end;
    }
    let mut changes = Vec::new();
    for h in hunks(&base, &new) {
        // Inserted right after the last base character before the hunk still there.
        let at = now[..h.old.start]
            .iter()
            .rev()
            .find_map(|p| p.map(|p| p + 1))
            .unwrap_or(0);
        let text: String = new[h.new.clone()].iter().collect();
        if !text.is_empty() {
            changes.push(Change::Insert(at, text));
        }
        // The base characters the writer removed, where they still are, as runs.
        let mut run: Option<Range<usize>> = None;
        for p in now[h.old.clone()].iter().flatten().copied() {
            match run.as_mut() {
                Some(r) if r.end == p => r.end = p + 1,
                _ => {
                    if let Some(r) = run.replace(p..p + 1) {
                        changes.push(Change::Delete(r));
                    }
                }
            }
        }
        if let Some(r) = run {
            changes.push(Change::Delete(r));
        }
    }
    // From the end backwards; at one position the deletion first, then the insertion.
    changes.sort_by_key(|c| match c {
        Change::Delete(r) => (std::cmp::Reverse(r.start), 0),
        Change::Insert(at, _) => (std::cmp::Reverse(*at), 1),
    });
    changes
}

/// The length of `s` in the document's offset units.
pub fn units(s: &str, kind: OffsetKind) -> u32 {
    let n = match kind {
        OffsetKind::Bytes => s.len(),
        OffsetKind::Utf16 => s.encode_utf16().count(),
    };
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Applies `changes` (as [`merge`] orders them) to `text` as a string: what the document
/// will read after they are applied to its text (tests, and the check in
/// [`super::write`]).
pub fn apply(text: &str, changes: &[Change]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for change in changes {
        match change {
            Change::Delete(r) if r.end <= chars.len() => {
                chars.drain(r.clone());
            }
            Change::Insert(at, s) if *at <= chars.len() => {
                chars.splice(*at..*at, s.chars());
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn diff(old: &str, new: &str) -> Vec<Change> {
        merge(old, old, new)
    }

    #[test]
    fn a_diff_changes_only_what_changed() {
        assert!(diff("same", "same").is_empty());
        assert_eq!(
            diff("Hello world", "Hello brave world"),
            vec![Change::Insert(6, "brave ".into())]
        );
        assert_eq!(diff("Hello world", "Hello"), vec![Change::Delete(5..11)]);
        // Two separate edits stay two: the words between them are not rewritten.
        let changes = diff("the cat sat on the mat", "the dog sat on the rug");
        assert_eq!(
            apply("the cat sat on the mat", &changes),
            "the dog sat on the rug"
        );
        let touched: usize = changes
            .iter()
            .map(|c| match c {
                Change::Delete(r) => r.len(),
                Change::Insert(_, s) => s.chars().count(),
            })
            .sum();
        assert!(touched <= 12, "{changes:?}");
        // Characters, not bytes.
        assert_eq!(
            diff("naïve café", "naïve cafés"),
            vec![Change::Insert(10, "s".into())]
        );
    }

    #[test]
    fn hunks_are_minimal_and_ordered() {
        let h = hunks(&chars("abcabba"), &chars("cbabac"));
        // The classic example: edit distance 5.
        let distance: usize = h.iter().map(|h| h.old.len() + h.new.len()).sum();
        assert_eq!(distance, 5, "{h:?}");
        assert!(h.windows(2).all(|w| w[0].old.end <= w[1].old.start));
        for (a, b) in [
            ("", "abc"),
            ("abc", ""),
            ("kitten", "sitting"),
            ("ab", "ba"),
        ] {
            assert_eq!(apply(a, &diff(a, b)), b, "{a} -> {b}");
        }
    }

    #[test]
    fn past_the_bound_the_middle_is_replaced_whole() {
        // Every character differs: more edits than the bound, answered as one hunk.
        let old: String = "a".repeat(2 * MAX_EDIT_DISTANCE);
        let new: String = "b".repeat(2 * MAX_EDIT_DISTANCE);
        let h = hunks(&chars(&old), &chars(&new));
        assert_eq!(h.len(), 1);
        assert_eq!(apply(&old, &diff(&old, &new)), new);
    }

    #[test]
    fn a_writers_change_merges_with_what_an_author_typed_since() {
        // The writer read "Hello world" and changed its first word; meanwhile an author
        // appended to the end.
        let changes = merge("Hello world", "Hello world, again", "Howdy world");
        assert_eq!(apply("Hello world, again", &changes), "Howdy world, again");
        // The author deleted elsewhere: both changes hold.
        let changes = merge("alpha beta gamma", "alpha beta ", "ALPHA beta gamma");
        assert_eq!(apply("alpha beta ", &changes), "ALPHA beta ");
        // Both changed the same word: the author's deletion holds and the writer's word is
        // there once (a conflict, resolved without losing either side's intent).
        let merged = apply(
            "alpha gamma",
            &merge("alpha beta gamma", "alpha gamma", "alpha BETA gamma"),
        );
        assert!(
            !merged.contains("beta") && merged.matches("BETA").count() == 1,
            "{merged}"
        );
        // The author typed inside the span the writer replaced: both are kept.
        let changes = merge("abcdef", "abcXdef", "aef");
        assert_eq!(apply("abcXdef", &changes), "aXef");
    }

    #[test]
    fn units_follow_the_documents_offsets() {
        assert_eq!(units("é😀", OffsetKind::Bytes), 6);
        assert_eq!(units("é😀", OffsetKind::Utf16), 3);
    }
}
