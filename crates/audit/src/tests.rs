//! Chain and verifier tests: every kind of tampering is named at the right entry.

use crate::chain::{GENESIS_HASH, StoredEntry};
use crate::checkpoint::KeyPair;
use crate::event::{Actor, Event, EventError, NewEvent};
use crate::verify::{ChainVerifier, ProblemKind, VerifyReport};

fn key() -> KeyPair {
    KeyPair::from_secret([7u8; 32])
}

fn chain(n: i64) -> Vec<StoredEntry> {
    let actor = Actor {
        user: "alice".into(),
        role: Some("security-engineer".into()),
    };
    let mut prev = GENESIS_HASH;
    (1..=n)
        .map(|seq| {
            let new = NewEvent {
                ty: "dev.cdeventsx.dso.test.appended.0.1.0".into(),
                subject: Some(format!("s{seq}")),
                data: serde_json::json!({ "n": seq, "x": 1.5, "list": [1, "two"] }),
            };
            let event = Event::stamp_at(
                new,
                "dso://test",
                &actor,
                format!("id-{seq}"),
                "2026-11-27T13:00:00Z".into(),
            )
            .unwrap();
            let (entry, hash) = StoredEntry::link(seq, &prev, &event);
            prev = hash;
            entry
        })
        .collect()
}

fn verify(entries: &[StoredEntry], checkpoint_at: &[i64]) -> VerifyReport {
    let key = key();
    let checkpoints = checkpoint_at
        .iter()
        .map(|&seq| {
            let e = &entries[(seq - 1) as usize];
            key.checkpoint(
                seq,
                &crate::chain::parse_hash(&e.hash).unwrap(),
                "2026-11-27T13:00:00Z",
            )
        })
        .collect();
    let mut v = ChainVerifier::new(&key.public(), checkpoints);
    entries.iter().for_each(|e| v.push(e));
    v.finish()
}

fn check(entries: &[StoredEntry], checkpoint_at: &[i64], expect: Option<(i64, ProblemKind)>) {
    let report = verify(entries, checkpoint_at);
    assert_eq!(
        report.problem.as_ref().map(|p| (p.seq, p.kind)),
        expect,
        "{report:?}"
    );
}

#[test]
fn intact_chain_verifies() {
    let entries = chain(50);
    let report = verify(&entries, &[10, 20]);
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.n_entries, 50);
    assert_eq!(report.head_seq, 50);
    assert_eq!(report.head_hash, entries[49].hash);
}

#[test]
fn empty_chain_verifies() {
    check(&[], &[], None);
}

#[test]
fn changed_data_is_named() {
    let mut entries = chain(10);
    entries[4].data = r#"{"n":5,"x":1.5,"list":[1,"three"]}"#.into();
    check(&entries, &[], Some((5, ProblemKind::Changed)));
}

#[test]
fn whitespace_in_data_is_not_a_change() {
    let mut entries = chain(3);
    entries[1].data = r#"{ "list": [1, "two"], "x": 1.5, "n": 2 }"#.into();
    check(&entries, &[], None);
}

#[test]
fn invalid_json_is_a_change() {
    let mut entries = chain(3);
    entries[2].data = "{not json".into();
    check(&entries, &[], Some((3, ProblemKind::Changed)));
}

#[test]
fn changed_envelope_fields_are_named() {
    for field in 0..6 {
        let mut entries = chain(6);
        let e = &mut entries[3];
        match field {
            0 => e.ty.push('x'),
            1 => e.subject = None,
            2 => e.time = "2026-11-27T13:00:01Z".into(),
            3 => e.actor = "mallory".into(),
            4 => e.actor_role = None,
            _ => e.source.push('x'),
        }
        check(&entries, &[], Some((4, ProblemKind::Changed)));
    }
}

#[test]
fn removed_entry_is_named() {
    let mut entries = chain(10);
    entries.remove(6);
    check(&entries, &[], Some((7, ProblemKind::Missing)));
}

#[test]
fn removed_first_entry_is_named() {
    let mut entries = chain(3);
    entries.remove(0);
    check(&entries, &[], Some((1, ProblemKind::Missing)));
}

#[test]
fn reordered_entries_are_named() {
    // Swap the contents of entries 3 and 4, keeping their sequence numbers.
    let mut entries = chain(6);
    let (a, b) = (entries[2].clone(), entries[3].clone());
    entries[2] = StoredEntry { seq: 3, ..b };
    entries[3] = StoredEntry { seq: 4, ..a };
    check(&entries, &[], Some((3, ProblemKind::BrokenLink)));
}

#[test]
fn inserted_entry_is_named() {
    // An entry is inserted after 2 and everything after is renumbered.
    let mut entries = chain(5);
    let mut forged = entries[1].clone();
    forged.id = "forged".into();
    entries.insert(2, forged);
    for (i, e) in entries.iter_mut().enumerate() {
        e.seq = i as i64 + 1;
    }
    check(&entries, &[], Some((3, ProblemKind::BrokenLink)));
}

#[test]
fn rewritten_chain_is_caught_by_checkpoint() {
    // The attacker changes entry 3 and recomputes every hash after it.
    let entries = chain(8);
    let mut forged: Vec<StoredEntry> = Vec::new();
    let mut prev = GENESIS_HASH;
    for e in &entries {
        let mut event = e.event().unwrap();
        if e.seq == 3 {
            event.data = serde_json::json!({ "n": 999 });
        }
        let (entry, hash) = StoredEntry::link(e.seq, &prev, &event);
        prev = hash;
        forged.push(entry);
    }
    // Without a checkpoint the forgery is self-consistent.
    check(&forged, &[], None);
    // A checkpoint signed over the original chain exposes it.
    let key = key();
    let cp = key.checkpoint(5, &crate::chain::parse_hash(&entries[4].hash).unwrap(), "t");
    let mut v = ChainVerifier::new(&key.public(), vec![cp]);
    forged.iter().for_each(|e| v.push(e));
    let report = v.finish();
    let problem = report.problem.unwrap();
    assert_eq!(
        (problem.seq, problem.kind),
        (5, ProblemKind::CheckpointMismatch)
    );
}

#[test]
fn truncated_tail_is_caught_by_checkpoint() {
    let mut entries = chain(10);
    entries.truncate(7);
    let key = key();
    let full = chain(10);
    let cp = key.checkpoint(9, &crate::chain::parse_hash(&full[8].hash).unwrap(), "t");
    let mut v = ChainVerifier::new(&key.public(), vec![cp]);
    entries.iter().for_each(|e| v.push(e));
    let problem = v.finish().problem.unwrap();
    assert_eq!((problem.seq, problem.kind), (8, ProblemKind::Truncated));
}

#[test]
fn forged_checkpoint_signature_is_named() {
    let entries = chain(4);
    let other = KeyPair::from_secret([9u8; 32]);
    let cp = other.checkpoint(2, &crate::chain::parse_hash(&entries[1].hash).unwrap(), "t");
    let mut v = ChainVerifier::new(&key().public(), vec![cp]);
    entries.iter().for_each(|e| v.push(e));
    let problem = v.finish().problem.unwrap();
    assert_eq!((problem.seq, problem.kind), (2, ProblemKind::BadSignature));
}

#[test]
fn stored_entry_round_trips_to_the_same_hash() {
    let entries = chain(2);
    let event = entries[1].event().unwrap();
    let prev = crate::chain::parse_hash(&entries[0].hash).unwrap();
    assert_eq!(
        hex::encode(crate::chain::entry_hash(&prev, 2, &event)),
        entries[1].hash
    );
}

#[test]
fn bad_events_are_refused() {
    let actor = Actor {
        user: "a".into(),
        role: None,
    };
    let new = |ty: &str, data| NewEvent {
        ty: ty.into(),
        subject: None,
        data,
    };
    assert_eq!(
        Event::stamp(new("", serde_json::Value::Null), "s", &actor),
        Err(EventError::EmptyType)
    );
    assert!(matches!(
        Event::stamp(new("a b", serde_json::Value::Null), "s", &actor),
        Err(EventError::BadType(_))
    ));
    let big = serde_json::Value::String("x".repeat(crate::event::MAX_DATA_BYTES));
    assert!(matches!(
        Event::stamp(new("t", big), "s", &actor),
        Err(EventError::DataTooLarge(_))
    ));
    let ok = Event::stamp(new("t", serde_json::json!({})), "s", &actor).unwrap();
    assert!(ok.time.ends_with('Z'), "{}", ok.time);
}

#[test]
fn times_are_fixed_width_utc() {
    let ts: jiff::Timestamp = "2026-11-27T13:05:26.1+02:00".parse().unwrap();
    assert_eq!(crate::format_time(ts), "2026-11-27T11:05:26.100000Z");
}
