//! Hostile and garbage input: validation must return, never panic or hang.

use dso_devtest::{Code, MAX_SOURCE_BYTES};

use crate::validate;

/// Validates `source`, which must fail, and returns the codes reported.
fn codes(source: &str) -> Vec<Code> {
    match validate(source) {
        Ok(_) => panic!(
            "garbage was accepted: {:?}",
            &source[..source.len().min(200)]
        ),
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty());
            diagnostics.iter().map(|d| d.code).collect()
        }
    }
}

#[test]
fn deeply_nested_flow_collections() {
    for open in ["[", "{a: ", "[{x: "] {
        let source = format!("jobs: {}", open.repeat(100_000));
        assert_eq!(codes(&source), [Code::YamlLimit]);
    }
    let balanced = format!("jobs: {}1{}", "[".repeat(1_000), "]".repeat(1_000));
    assert_eq!(codes(&balanced), [Code::YamlLimit]);
}

#[test]
fn deeply_nested_block_collections() {
    let mut source = String::new();
    for depth in 0..2_000 {
        source.push_str(&" ".repeat(depth));
        source.push_str("a:\n");
    }
    assert_eq!(codes(&source), [Code::YamlLimit]);
}

#[test]
fn alias_bomb() {
    let mut source = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let previous = i - 1;
        source.push_str(&format!(
            "a{i}: &a{i} [*a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}]\n"
        ));
    }
    source.push_str("jobs: *a11\n");
    assert_eq!(codes(&source), [Code::YamlLimit]);
}

#[test]
fn aliases_repeating_a_large_scalar() {
    let big = "x".repeat(600_000);
    let mut source = format!("a: &a \"{big}\"\nb: &b [{}]\n", ["*a"; 10].join(", "));
    source.push_str(&format!("jobs: [{}]\n", ["*b"; 50].join(", ")));
    assert_eq!(codes(&source), [Code::YamlLimit]);
}

/// Thousands of mistakes: the report stops at the cap and says so.
#[test]
fn error_count_is_capped() {
    let needs: Vec<String> = (0..250).map(|i| format!("missing{i}")).collect();
    let jobs: String = (0..250)
        .map(|i| {
            format!(
                "  j{i}: {{ activity: nope, run: make, needs: [{}] }}\n",
                needs.join(", ")
            )
        })
        .collect();
    let diagnostics = validate(&format!("jobs:\n{jobs}")).unwrap_err();
    assert_eq!(diagnostics.len(), dso_devtest::MAX_DIAGNOSTICS + 1);
    let last = diagnostics.last().unwrap();
    assert_eq!(last.code, Code::TooLarge);
    assert_eq!(
        last.message,
        "62650 more errors not shown; fix the ones above first"
    );
}

#[test]
fn huge_inputs() {
    let huge = format!(
        "jobs:\n  build:\n    run: {}\n",
        "x".repeat(MAX_SOURCE_BYTES)
    );
    assert_eq!(codes(&huge), [Code::YamlLimit]);
    let many_jobs: String = (0..dso_devtest::MAX_JOBS + 1)
        .map(|i| format!("  job{i}: {{ activity: build, run: make }}\n"))
        .collect();
    assert_eq!(codes(&format!("jobs:\n{many_jobs}")), [Code::TooLarge]);
    let matrix = "jobs:\n  t:\n    activity: build\n    run: make\n    matrix: { a: [1,2,3,4,5,6,7,8,9,10], b: [1,2,3,4,5,6,7,8,9,10], c: [1,2,3,4,5,6,7,8,9,10] }\n";
    assert_eq!(codes(matrix), [Code::TooLarge]);
    let chain: String = (0..256)
        .map(|i| {
            format!(
                "  j{i}: {{ activity: build, run: make, needs: [j{}] }}\n",
                (i + 1) % 256
            )
        })
        .collect();
    assert_eq!(codes(&format!("jobs:\n{chain}")), [Code::NeedsCycle]);
}

#[test]
fn odd_scalars_and_tags() {
    for source in [
        "\0",
        "\u{feff}jobs: x",
        "jobs: !!binary aGVsbG8=",
        "jobs: !custom { a: 1 }",
        "jobs: { !!int x: y }",
        "jobs: { 1e999: x }",
        "jobs: { .nan: x }",
        "jobs: { ? [a, b] : c }",
        "jobs: { ? { a: b } : c }",
        "jobs: { b: { activity: build, run: !!str 12 } }\njobs: 2",
        "%YAML 1.2\n---\njobs: {}\n...\n",
        "---\n---\n",
        "jobs:\n  b: &b { activity: build, run: make, needs: *b }",
        "jobs:\n  <<: { a: 1 }",
        "jobs: { a: { <<: [*x] } }",
        "'unterminated",
        "jobs: \"\\uD800\"",
        "- - - - -",
        ":",
        "? ? ? ?",
        "&a [*a]",
        "jobs: { b: { activity: build, run: make, matrix: { x: [1.10, 0x10, 1_000, .inf, -0, ~, true] } } }\nx: 1",
        "jobs: { b: { activity: build, run: make, retry: 99999999999999999999999999 } }",
        "jobs: { b: { activity: build, run: make, retry: -99999999999999999999999999 } }",
        "jobs: { b: { activity: build, run: '${{', env: { A: '${{ }}' } } }",
        "jobs: { \"\u{202e}evil\": { activity: build, run: make } }",
    ] {
        let _ = validate(source);
    }
}

/// Mutates the valid corpus one edit at a time (a poor man's fuzzer with a
/// fixed seed, so failures reproduce).
#[test]
fn mutations_of_valid_files_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/valid");
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "yaml") {
            sources.push(std::fs::read_to_string(path).unwrap());
        }
    }
    sources.sort();
    const ALPHABET: &[&str] = &[
        " ",
        "\n",
        "\t",
        ":",
        "-",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&a",
        "*a",
        "!",
        "|",
        ">",
        "'",
        "\"",
        "#",
        "?",
        "${{",
        "}}",
        "needs: build",
        "<<: *a",
        "x",
        "é",
    ];
    let mut seed: u64 = 0x5eed;
    let mut next = move |bound: usize| {
        // Numerical Recipes LCG; good enough to pick edit positions.
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        usize::try_from(seed >> 33).unwrap() % bound.max(1)
    };
    for source in &sources {
        for _ in 0..300 {
            let chars: Vec<char> = source.chars().collect();
            let mut mutated: Vec<char> = chars.clone();
            for _ in 0..1 + next(3) {
                let at = next(mutated.len() + 1);
                match next(3) {
                    0 if at < mutated.len() => {
                        mutated.remove(at);
                    }
                    1 => {
                        let insert: Vec<char> = ALPHABET[next(ALPHABET.len())].chars().collect();
                        mutated.splice(at..at, insert);
                    }
                    _ => {
                        let end = (at + next(20)).min(mutated.len());
                        mutated.splice(at..end, std::iter::empty());
                    }
                }
            }
            let mutated: String = mutated.into_iter().collect();
            let _ = validate(&mutated);
        }
    }
}
