//! Merging records of one vulnerability from several databases.
//!
//! Records are joined when one's id or aliases meet another's (transitively),
//! except that two records of the same database (same id prefix: RUSTSEC,
//! GHSA, PYSEC, GO, CVE...) are never joined: RustSec, for instance, issues
//! two advisories for two crates that share a CVE, and they stay two.

use std::collections::{BTreeSet, HashMap};

use super::Advisory;

/// The database an id belongs to: its prefix before the first `-`.
pub fn database_of(id: &str) -> &str {
    id.split('-').next().unwrap_or(id)
}

/// Rank of an id as the primary one: lower is preferred.
fn rank(id: &str) -> u8 {
    match database_of(id) {
        "RUSTSEC" => 0,
        "GO" => 1,
        "PYSEC" => 2,
        "GHSA" => 3,
        "CVE" => 9,
        _ => 5,
    }
}

/// Picks the primary id among `ids`.
pub fn primary<'a>(ids: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    ids.into_iter()
        .min_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)))
}

struct Groups {
    parent: Vec<usize>,
    /// Databases of the record ids in each root's group.
    dbs: Vec<BTreeSet<String>>,
}

impl Groups {
    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb || !self.dbs[ra].is_disjoint(&self.dbs[rb]) {
            return;
        }
        let moved = std::mem::take(&mut self.dbs[rb]);
        self.dbs[ra].extend(moved);
        self.parent[rb] = ra;
    }
}

/// Merges records that name the same vulnerability; the result is sorted by id.
pub fn merge(records: Vec<Advisory>) -> Vec<Advisory> {
    let n = records.len();
    let mut groups = Groups {
        parent: (0..n).collect(),
        dbs: records
            .iter()
            .map(|r| BTreeSet::from([database_of(&r.id).to_owned()]))
            .collect(),
    };
    // Record ids first, so that an alias naming a record joins that record.
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        if let Some(&j) = by_id.get(r.id.as_str()) {
            groups.union(j, i);
            // Same id twice (two copies of one record): always one group.
            let (ri, rj) = (groups.find(i), groups.find(j));
            if ri != rj {
                groups.parent[ri] = rj;
            }
        } else {
            by_id.insert(&r.id, i);
        }
    }
    for (i, r) in records.iter().enumerate() {
        for alias in &r.aliases {
            match by_id.get(alias.as_str()) {
                Some(&j) => groups.union(i, j),
                None => {
                    by_id.insert(alias, i);
                }
            }
        }
    }
    let mut buckets: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..n {
        let root = groups.find(i);
        buckets.entry(root).or_default().push(i);
    }
    let mut slots: Vec<Option<Advisory>> = records.into_iter().map(Some).collect();
    let mut out: Vec<Advisory> = buckets
        .into_values()
        .map(|members| {
            let group: Vec<Advisory> = members.iter().filter_map(|&i| slots[i].take()).collect();
            combine(group)
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Combines one group's records into one advisory.
pub fn combine(mut group: Vec<Advisory>) -> Advisory {
    let record_ids: Vec<String> = group.iter().map(|r| r.id.clone()).collect();
    let primary_id = primary(record_ids.iter().map(String::as_str))
        .unwrap_or_default()
        .to_owned();
    // The primary record leads: its summary and informational kind win.
    group.sort_by_key(|r| r.id != primary_id);
    let mut iter = group.into_iter();
    let mut out = iter.next().expect("a group has at least one record");
    for r in iter {
        out.aliases.push(r.id);
        out.aliases.extend(r.aliases);
        if out.summary.is_empty() {
            out.summary = r.summary;
        }
        if out.details.is_empty() {
            out.details = r.details;
        }
        if out.published.is_none() {
            out.published = r.published;
        }
        out.modified = out.modified.max(r.modified);
        out.severity = out.severity.max(r.severity);
        out.cvss_vectors.extend(r.cvss_vectors);
        out.cwes.extend(r.cwes);
        if out.informational.is_none() {
            out.informational = r.informational;
        }
        for a in r.affected {
            if !out.affected.contains(&a) {
                out.affected.push(a);
            }
        }
        out.references.extend(r.references);
        out.sources.extend(r.sources);
    }
    let mut aliases: Vec<String> = out.aliases.drain(..).filter(|a| *a != out.id).collect();
    aliases.sort();
    aliases.dedup();
    out.aliases = aliases;
    for list in [
        &mut out.cvss_vectors,
        &mut out.cwes,
        &mut out.references,
        &mut out.sources,
    ] {
        let mut seen = BTreeSet::new();
        list.retain(|x| seen.insert(x.clone()));
    }
    out.score();
    out
}
