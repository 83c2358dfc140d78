//! Tests of the secret scanner: every rule on a realistic positive sample and
//! a near-miss negative, lockfile checksums, allow-lists, redaction, the tree
//! walk, git history and SARIF output (validated against the official schema).

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use base64::Engine as _;

use super::rules::RULES;
use super::*;

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &str = "0123456789abcdef";
const DIGITS: &str = "0123456789";
const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const B32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALPHA: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BECH32: &str = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

/// A deterministic pseudo-random string over `charset` (a xorshift stream
/// seeded per call), so samples look like real tokens but are reproducible.
fn tok(charset: &str, len: usize, seed: u64) -> String {
    let chars: Vec<char> = charset.chars().collect();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chars[(state % chars.len() as u64) as usize]
        })
        .collect()
}

fn pem(label: &str, seed: u64) -> String {
    let body: Vec<String> = (0..12).map(|i| tok(B64, 64, seed + i)).collect();
    format!(
        "-----BEGIN {label}-----\n{}\n{}==\n-----END {label}-----\n",
        body.join("\n"),
        tok(B64, 20, seed + 99)
    )
}

fn jwt(seed: u64) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.{}",
        engine.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        engine.encode(r#"{"sub":"user-42","name":"Ada","iat":1716239022}"#),
        tok(URL, 43, seed)
    )
}

/// (rule id, text holding a secret of that rule, near miss that must not match it).
fn samples() -> Vec<(&'static str, String, String)> {
    let uuid = |s: u64| {
        format!(
            "{}-{}-{}-{}-{}",
            tok(HEX, 8, s),
            tok(HEX, 4, s + 1),
            tok(HEX, 4, s + 2),
            tok(HEX, 4, s + 3),
            tok(HEX, 12, s + 4)
        )
    };
    vec![
        ("aws-access-key-id", format!("aws_access_key_id = AKIA{}", tok(B32, 16, 1)), "aws_access_key_id = AKIAIOSFODNN7EXAMPLE".into()),
        ("aws-secret-access-key", format!("aws_secret_access_key = {}", tok(B64, 40, 2)), format!("aws_secret_access_key = {}", tok(B64, 41, 2))),
        ("aws-mws-key", format!("mws = amzn.mws.{}", uuid(3)), format!("mws = amzn.mws.{}", &uuid(3)[..30])),
        ("gcp-service-account-key", format!(r#"  "type": "service_account", "private_key_id": "{}","#, tok(HEX, 40, 4)), format!(r#""private_key_id": "{}""#, tok(HEX, 39, 4))),
        ("gcp-api-key", format!("const key = \"AIza{}\";", tok(URL, 35, 5)), format!("const key = \"AIza{}\";", tok(URL, 30, 5))),
        ("gcp-oauth-client-secret", format!("secret: GOCSPX-{}", tok(URL, 28, 6)), format!("secret: GOCSPX-{}", tok(URL, 20, 6))),
        ("azure-storage-connection-string", format!("DefaultEndpointsProtocol=https;AccountName=acme1;AccountKey={}==;EndpointSuffix=core.windows.net", tok(B64, 86, 7)), format!("DefaultEndpointsProtocol=https;AccountName=acme1;AccountKey={}==", tok(B64, 40, 7))),
        ("azure-storage-account-key", format!("azure_storage_key = \"{}==\"", tok(B64, 86, 8)), format!("azure_storage_key = \"{}==\"", tok(B64, 60, 8))),
        ("azure-ad-client-secret", format!("client_secret: \"{}8Q~{}\"", tok(ALNUM, 3, 9), tok(ALNUM, 34, 10)), format!("client_secret: \"{}8Q~{}\"", tok(ALNUM, 3, 9), tok(ALNUM, 20, 10))),
        ("github-pat", format!("GITHUB_TOKEN=ghp_{}", tok(ALNUM, 36, 11)), format!("GITHUB_TOKEN=ghp_{}", tok(ALNUM, 30, 11))),
        ("github-fine-grained-pat", format!("token: github_pat_{}_{}", tok(ALNUM, 22, 12), tok(ALNUM, 59, 13)), format!("token: github_pat_{}_{}", tok(ALNUM, 22, 12), tok(ALNUM, 40, 13))),
        ("github-oauth-token", format!("oauth = gho_{}", tok(ALNUM, 36, 14)), format!("oauth = gho_{}", tok(ALNUM, 20, 14))),
        ("github-app-token", format!("installation ghs_{}", tok(ALNUM, 36, 15)), format!("installation ghs_{}", tok(ALNUM, 20, 15))),
        ("github-refresh-token", format!("refresh: ghr_{}", tok(ALNUM, 36, 16)), format!("refresh: ghr_{}", tok(ALNUM, 20, 16))),
        ("gitlab-pat", format!("GITLAB_TOKEN=glpat-{}", tok(URL, 20, 17)), format!("GITLAB_TOKEN=glpat-{}", tok(URL, 12, 17))),
        ("gitlab-pipeline-trigger-token", format!("trigger glptt-{}", tok(HEX, 40, 18)), format!("trigger glptt-{}", tok(HEX, 30, 18))),
        ("gitlab-runner-token", format!("runner glrt-{}", tok(URL, 20, 19)), format!("runner glrt-{}", tok(URL, 10, 19))),
        ("slack-bot-token", format!("SLACK=xoxb-{}-{}-{}", tok(DIGITS, 12, 20), tok(DIGITS, 13, 21), tok(ALNUM, 24, 22)), format!("SLACK=xoxb-{}-{}", tok(DIGITS, 12, 20), tok(ALNUM, 24, 22))),
        ("slack-user-token", format!("xoxp-{}-{}-{}-{}", tok(DIGITS, 12, 23), tok(DIGITS, 12, 24), tok(DIGITS, 13, 25), tok(HEX, 32, 26)), format!("xoxp-{}-{}-{}-{}", tok(DIGITS, 12, 23), tok(DIGITS, 12, 24), tok(DIGITS, 13, 25), tok(HEX, 20, 26))),
        ("slack-app-token", format!("xapp-1-A{}-{}-{}", tok(UPPER_DIGITS, 10, 27), tok(DIGITS, 13, 28), tok(HEX, 64, 29)), format!("xapp-1-A{}-{}-{}", tok(UPPER_DIGITS, 10, 27), tok(DIGITS, 13, 28), tok(HEX, 30, 29))),
        ("slack-webhook-url", format!("url = https://hooks.slack.com/services/T{}/B{}/{}", tok(UPPER_DIGITS, 10, 30), tok(UPPER_DIGITS, 10, 31), tok(ALNUM, 24, 32)), "url = https://hooks.slack.com/services/T000/B000/XXXX".into()),
        ("stripe-secret-key", format!("stripe.api_key = 'sk_live_{}'", tok(ALNUM, 24, 33)), format!("stripe.api_key = 'sk_test_{}'", tok(ALNUM, 24, 33))),
        ("stripe-restricted-key", format!("key: rk_live_{}", tok(ALNUM, 24, 34)), format!("key: rk_live_{}", tok(ALNUM, 10, 34))),
        ("stripe-webhook-secret", format!("whsec_{}", tok(ALNUM, 32, 35)), format!("whsec_{}", tok(ALNUM, 16, 35))),
        ("square-access-token", format!("SQUARE=sq0atp-{}", tok(URL, 22, 36)), format!("SQUARE=sq0atp-{}", tok(URL, 10, 36))),
        ("twilio-api-key", format!("TWILIO_KEY=SK{}", tok(HEX, 32, 37)), format!("TWILIO_KEY=SK{}", tok(HEX, 31, 37))),
        ("sendgrid-api-key", format!("SENDGRID=SG.{}.{}", tok(URL, 22, 38), tok(URL, 43, 39)), format!("SENDGRID=SG.{}.{}", tok(URL, 22, 38), tok(URL, 20, 39))),
        ("mailgun-api-key", format!("mailgun: key-{}", tok(HEX, 32, 40)), format!("mailgun: key-{}", tok(HEX, 31, 40))),
        ("mailchimp-api-key", format!("MAILCHIMP={}-us14", tok(HEX, 32, 41)), format!("MAILCHIMP={}-uk14", tok(HEX, 32, 41))),
        ("telegram-bot-token", format!("BOT={}:AA{}", tok(DIGITS, 10, 42), tok(URL, 33, 43)), format!("BOT={}:BB{}", tok(DIGITS, 10, 42), tok(URL, 33, 43))),
        ("discord-webhook-url", format!("https://discord.com/api/webhooks/{}/{}", tok(DIGITS, 18, 44), tok(URL, 68, 45)), format!("https://discord.com/api/webhooks/{}/short", tok(DIGITS, 18, 44))),
        ("discord-bot-token", format!("DISCORD_TOKEN = \"M{}.{}.{}\"", tok(URL, 23, 46), tok(URL, 6, 47), tok(URL, 27, 48)), format!("DISCORD_TOKEN = \"x{}.{}.{}\"", tok(URL, 23, 46), tok(URL, 6, 47), tok(URL, 27, 48))),
        ("npm-access-token", format!("//registry.npmjs.org/:_authToken=npm_{}", tok(ALNUM, 36, 49)), format!("//registry.npmjs.org/:_authToken=npm_{}", tok(ALNUM, 30, 49))),
        ("pypi-upload-token", format!("password = pypi-AgEIcHlwaS5vcmc{}", tok(URL, 60, 50)), format!("password = pypi-AgEIcHlwaS5vcmc{}", tok(URL, 20, 50))),
        ("rubygems-api-key", format!(":rubygems_api_key: rubygems_{}", tok(HEX, 48, 51)), format!(":rubygems_api_key: rubygems_{}", tok(HEX, 40, 51))),
        ("dockerhub-pat", format!("DOCKER_PAT=dckr_pat_{}", tok(URL, 27, 52)), format!("DOCKER_PAT=dckr_pat_{}", tok(URL, 20, 52))),
        ("private-key-rsa", pem("RSA PRIVATE KEY", 53), "const BEGIN: &str = \"-----BEGIN RSA PRIVATE KEY-----\";\nconst END: &str = \"-----END RSA PRIVATE KEY-----\";".into()),
        ("private-key-ec", pem("EC PRIVATE KEY", 54), "-----BEGIN EC PRIVATE KEY-----\n...\n-----END EC PRIVATE KEY-----".into()),
        ("private-key-dsa", pem("DSA PRIVATE KEY", 55), "-----BEGIN DSA PRIVATE KEY-----\nBad Key, though the cert should be OK, and this line is long enough\n-----END DSA PRIVATE KEY-----".into()),
        ("private-key-openssh", pem("OPENSSH PRIVATE KEY", 56), "# paste -----BEGIN OPENSSH PRIVATE KEY----- blocks here, ending with -----END OPENSSH PRIVATE KEY-----".into()),
        ("private-key-pkcs8", pem("PRIVATE KEY", 57), pem("PUBLIC KEY", 57)),
        ("private-key-pgp", pem("PGP PRIVATE KEY BLOCK", 58), pem("PGP PUBLIC KEY BLOCK", 58)),
        ("age-secret-key", format!("AGE-SECRET-KEY-1{}", tok(BECH32, 58, 59)), format!("AGE-SECRET-KEY-1{}", tok(BECH32, 50, 59))),
        ("jwt", format!("Authorization: Bearer {}", jwt(60)), format!("Authorization: Bearer eyJ{}.eyJ{}.{}", tok(URL, 20, 61), tok(URL, 20, 62), tok(URL, 20, 63))),
        ("heroku-api-key", format!("HEROKU_API_KEY={}", uuid(64)), "HEROKU_APP_NAME=my-app-staging".into()),
        ("heroku-api-key-v2", format!("HRKU-AA{}", tok(URL, 58, 65)), format!("HRKU-AA{}", tok(URL, 40, 65))),
        ("shopify-access-token", format!("shpat_{}", tok(HEX, 32, 66)), format!("shpat_{}", tok(HEX, 30, 66))),
        ("shopify-shared-secret", format!("shpss_{}", tok(HEX, 32, 67)), format!("shpss_{}", tok(HEX, 30, 67))),
        ("datadog-api-key", format!("DD_API_KEY={}", tok(HEX, 32, 68)), format!("DD_API_KEY={}", tok(HEX, 31, 68))),
        ("datadog-app-key", format!("DATADOG_APP_KEY={}", tok(HEX, 40, 69)), format!("DATADOG_APP_KEY={}", tok(HEX, 39, 69))),
        ("digitalocean-pat", format!("DO_TOKEN=dop_v1_{}", tok(HEX, 64, 70)), format!("DO_TOKEN=dop_v1_{}", tok(HEX, 60, 70))),
        ("digitalocean-oauth-token", format!("doo_v1_{}", tok(HEX, 64, 71)), format!("doo_v1_{}", tok(HEX, 60, 71))),
        ("vault-service-token", format!("VAULT_TOKEN=hvs.{}", tok(URL, 95, 72)), format!("VAULT_TOKEN=hvs.{}", tok(URL, 24, 72))),
        ("vault-batch-token", format!("VAULT_TOKEN=hvb.{}", tok(URL, 150, 73)), format!("VAULT_TOKEN=hvb.{}", tok(URL, 100, 73))),
        ("doppler-token", format!("DOPPLER_TOKEN=dp.pt.{}", tok(ALNUM, 43, 74)), format!("DOPPLER_TOKEN=dp.pt.{}", tok(ALNUM, 30, 74))),
        ("postman-api-key", format!("PMAK-{}-{}", tok(HEX, 24, 75), tok(HEX, 34, 76)), format!("PMAK-{}-{}", tok(HEX, 24, 75), tok(HEX, 20, 76))),
        ("atlassian-api-token", format!("JIRA=ATATT3{}", tok(URL, 186, 77)), format!("JIRA=ATATT3{}", tok(URL, 100, 77))),
        ("openai-api-key", format!("OPENAI_API_KEY=sk-proj-{}T3BlbkFJ{}", tok(URL, 40, 78), tok(URL, 40, 79)), format!("OPENAI_API_KEY=sk-proj-{}", tok(URL, 40, 78))),
        ("anthropic-api-key", format!("ANTHROPIC_API_KEY=sk-ant-api03-{}AA", tok(URL, 93, 80)), format!("ANTHROPIC_API_KEY=sk-ant-api03-{}AA", tok(URL, 50, 80))),
        ("huggingface-token", format!("HF_TOKEN=hf_{}", tok(ALPHA, 34, 81)), format!("HF_TOKEN=hf_{}", tok(ALPHA, 20, 81))),
        ("databricks-token", format!("DATABRICKS_TOKEN=dapi{}", tok(HEX, 32, 82)), format!("DATABRICKS_TOKEN=dapi{}", tok(HEX, 30, 82))),
        ("grafana-service-account-token", format!("glsa_{}_{}", tok(ALNUM, 32, 83), tok(HEX, 8, 84)), format!("glsa_{}", tok(ALNUM, 32, 83))),
        ("newrelic-user-api-key", format!("NEW_RELIC_API_KEY=NRAK-{}", tok(UPPER_DIGITS, 27, 85)), format!("NEW_RELIC_API_KEY=NRAK-{}", tok(UPPER_DIGITS, 20, 85))),
        ("pulumi-access-token", format!("PULUMI_ACCESS_TOKEN=pul-{}", tok(HEX, 40, 86)), format!("PULUMI_ACCESS_TOKEN=pul-{}", tok(HEX, 30, 86))),
        ("linear-api-key", format!("LINEAR=lin_api_{}", tok(ALNUM, 40, 87)), format!("LINEAR=lin_api_{}", tok(ALNUM, 30, 87))),
        ("url-embedded-credentials", format!("DATABASE_URL=postgres://app:{}9@db.internal:5432/app", tok(ALNUM, 15, 88)), "DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/app".into()),
        ("generic-password", format!("db_password = \"{}7!\"", tok(ALNUM, 12, 89)), "db_password = \"changeme123\"".into()),
        ("generic-api-key", format!("api_key = \"{}\"", tok(URL, 32, 90)), format!("api_key = \"{}\"", tok(HEX, 64, 90))),
    ]
}

/// One detector for all tests (compiling the rules is the slow part).
fn detector() -> &'static Detector {
    static DETECTOR: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
    DETECTOR.get_or_init(Detector::default)
}

fn rules_found(text: &str) -> BTreeSet<String> {
    let detector = detector();
    let allow = AllowList::empty(Path::new("."));
    let (findings, _) = scan_content(detector, &allow, "config/app.env", text.as_bytes());
    findings.into_iter().map(|f| f.rule_id).collect()
}

#[test]
fn rules_are_unique_and_compile() {
    assert!(RULES.len() >= 40, "only {} rules", RULES.len());
    let mut ids = HashSet::new();
    for rule in RULES {
        assert!(ids.insert(rule.id), "duplicate rule id {}", rule.id);
        assert!(!rule.keywords.is_empty(), "{} has no keyword", rule.id);
        for kw in rule.keywords {
            assert_eq!(
                kw.to_lowercase(),
                *kw,
                "{}: keywords are lower-case",
                rule.id
            );
        }
        regex::Regex::new(rule.pattern).unwrap_or_else(|e| panic!("{}: {e}", rule.id));
        assert!(
            rule.pattern.contains("(?P<secret>"),
            "{} has no secret group",
            rule.id
        );
    }
    let _ = Detector::default();
}

#[test]
fn every_rule_has_a_positive_and_a_negative_sample() {
    let samples = samples();
    let tested: HashSet<&str> = samples.iter().map(|(id, _, _)| *id).collect();
    for rule in RULES {
        assert!(tested.contains(rule.id), "rule {} has no sample", rule.id);
    }
    for (id, positive, negative) in &samples {
        let found = rules_found(positive);
        assert!(
            found.contains(*id),
            "{id}: positive sample not detected (found {found:?}):\n{positive}"
        );
        let found = rules_found(negative);
        assert!(
            !found.contains(*id),
            "{id}: negative sample detected:\n{negative}"
        );
    }
}

#[test]
fn findings_are_redacted_and_never_hold_the_secret() {
    for (id, positive, _) in samples() {
        let detector = detector();
        let allow = AllowList::empty(Path::new("."));
        let (findings, _) = scan_content(detector, &allow, "a.txt", positive.as_bytes());
        for f in findings.iter().filter(|f| f.rule_id == id) {
            assert!(f.redacted.ends_with('…'), "{id}: {}", f.redacted);
            assert!(f.redacted.chars().count() <= 5, "{id}: {}", f.redacted);
            let json = serde_json::to_string(f).expect("serialises");
            // No 12-character run of the sample's token survives into the output.
            for token in positive.split(|c: char| !c.is_ascii_alphanumeric()) {
                if token.len() >= 24 {
                    assert!(
                        !json.contains(&token[..12]),
                        "{id}: secret leaked in {json}"
                    );
                }
            }
        }
    }
}

#[test]
fn one_secret_is_reported_once_by_the_most_specific_rule() {
    let text = format!("token = \"ghp_{}\"", tok(ALNUM, 36, 5));
    let detector = detector();
    let allow = AllowList::empty(Path::new("."));
    let (findings, _) = scan_content(detector, &allow, "a.py", text.as_bytes());
    let ids: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(ids, ["github-pat"]);
    assert_eq!((findings[0].line, findings[0].column), (1, 10));
}

#[test]
fn line_and_column_are_one_based_and_count_characters() {
    let text = format!("# é\n\n  naïve = 1; k = ghp_{}\n", tok(ALNUM, 36, 9));
    let detector = detector();
    let allow = AllowList::empty(Path::new("."));
    let (findings, _) = scan_content(detector, &allow, "a.py", text.as_bytes());
    assert_eq!(findings.len(), 1);
    assert_eq!((findings[0].line, findings[0].column), (3, 18));
}

#[test]
fn real_cargo_lock_checksums_are_not_secrets() {
    let lock = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/secrets/cargo.Cargo.lock"
    ))
    .expect("fixture");
    assert!(
        String::from_utf8_lossy(&lock)
            .matches("checksum = \"")
            .count()
            > 400
    );
    let detector = detector();
    let allow = AllowList::empty(Path::new("."));
    let (findings, _) = scan_content(detector, &allow, "Cargo.lock", &lock);
    assert_eq!(findings, vec![], "lockfile checksums reported as secrets");
    // The same content under another name: still no generic hit on the hashes.
    let (findings, _) = scan_content(detector, &allow, "deps.txt", &lock);
    assert_eq!(findings, vec![]);
}

#[test]
fn npm_integrity_and_go_sum_hashes_are_not_secrets() {
    let mut text = String::new();
    for i in 0..50 {
        text.push_str(&format!(
            "    \"node_modules/pkg{i}\": {{\n      \"resolved\": \"https://registry.npmjs.org/pkg{i}/-/pkg{i}-1.0.{i}.tgz\",\n      \"integrity\": \"sha512-{}==\"\n    }},\n",
            tok(B64, 86, i)
        ));
    }
    let mut gosum = String::new();
    for i in 0..50 {
        gosum.push_str(&format!(
            "golang.org/x/mod{i} v0.{i}.0 h1:{}=\n",
            tok(B64, 43, 100 + i)
        ));
        gosum.push_str(&format!(
            "golang.org/x/mod{i} v0.{i}.0/go.mod h1:{}=\n",
            tok(B64, 43, 200 + i)
        ));
    }
    let detector = detector();
    let allow = AllowList::empty(Path::new("."));
    for (path, content) in [
        ("package-lock.json", &text),
        ("go.sum", &gosum),
        ("notes.txt", &text),
        ("notes2.txt", &gosum),
    ] {
        let (findings, _) = scan_content(detector, &allow, path, content.as_bytes());
        assert_eq!(findings, vec![], "{path}");
    }
}

#[test]
fn inline_allow_comment_suppresses_that_line_only() {
    let a = tok(ALNUM, 36, 1);
    let b = tok(ALNUM, 36, 2);
    let text = format!("x = \"ghp_{a}\"  # dso:allow test fixture\ny = \"ghp_{b}\"\n");
    let detector = detector();
    let allow = AllowList::empty(Path::new("."));
    let (findings, _) = scan_content(detector, &allow, "a.py", text.as_bytes());
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].line, 2);
}

#[test]
fn fingerprints_are_stable_when_lines_shift_and_differ_per_path() {
    let secret = format!("ghp_{}", tok(ALNUM, 36, 3));
    let detector = detector();
    let allow = AllowList::empty(Path::new("."));
    let (one, _) = scan_content(
        detector,
        &allow,
        "a.py",
        format!("t = '{secret}'").as_bytes(),
    );
    let (two, _) = scan_content(
        detector,
        &allow,
        "a.py",
        format!("\n\n\nt = '{secret}'").as_bytes(),
    );
    let (other, _) = scan_content(
        detector,
        &allow,
        "b.py",
        format!("t = '{secret}'").as_bytes(),
    );
    assert_eq!(one[0].fingerprint, two[0].fingerprint);
    assert_ne!(one[0].line, two[0].line);
    assert_ne!(one[0].fingerprint, other[0].fingerprint);
    assert_eq!(one[0].fingerprint.len(), 32);
}

#[test]
fn redact_keeps_at_most_four_characters() {
    assert_eq!(redact("ghp_abcdefghijklmnop"), "ghp_…");
    assert_eq!(redact("abcdefgh"), "ab…");
    assert_eq!(redact("abc"), "…");
    assert_eq!(redact("ééééééééé"), "éé…");
}

#[test]
fn entropy_of_known_strings() {
    assert_eq!(detect::shannon_entropy(""), 0.0);
    assert_eq!(detect::shannon_entropy("aaaa"), 0.0);
    assert!((detect::shannon_entropy("abcd") - 2.0).abs() < 1e-9);
    assert!(detect::shannon_entropy(&tok(ALNUM, 40, 1)) > 4.5);
}

#[test]
fn dsoignore_paths_fingerprints_and_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let secret_a = format!("ghp_{}", tok(ALNUM, 36, 21));
    let secret_b = format!("ghp_{}", tok(ALNUM, 36, 22));
    std::fs::create_dir_all(root.join("fixtures/deep")).expect("mkdir");
    std::fs::create_dir_all(root.join("src")).expect("mkdir");
    std::fs::write(
        root.join("fixtures/deep/keys.txt"),
        format!("k = {secret_a}\n"),
    )
    .expect("write");
    std::fs::write(
        root.join("src/app.py"),
        format!("k = '{secret_a}'\nj = '{secret_b}'\n"),
    )
    .expect("write");
    std::fs::write(root.join("src/test.pem"), format!("k = {secret_b}\n")).expect("write");
    let report = scan_path(root, &ScanConfig::default()).expect("scan");
    assert_eq!(report.findings.len(), 4);

    let fp = report
        .findings
        .iter()
        .find(|f| f.path == "src/app.py" && f.line == 2)
        .expect("finding")
        .fingerprint
        .clone();
    std::fs::write(
        root.join(".dsoignore"),
        format!("# fixtures\n/fixtures/\n*.pem\nfingerprint:{fp}\n"),
    )
    .expect("write");
    let report = scan_path(root, &ScanConfig::default()).expect("scan");
    let left: Vec<(&str, usize)> = report
        .findings
        .iter()
        .map(|f| (f.path.as_str(), f.line))
        .collect();
    assert_eq!(left, [("src/app.py", 1)]);
    assert_eq!(report.n_allowed, 1);

    std::fs::write(root.join(".dsoignore"), "ok.txt\nfingerprint:not-hex\n").expect("write");
    let err = scan_path(root, &ScanConfig::default()).expect_err("bad allow-list");
    let text = err.to_string();
    assert!(
        text.contains(".dsoignore:2:") && text.contains("not-hex"),
        "{text}"
    );
}

#[test]
fn walk_respects_gitignore_and_skips_binary_and_huge_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let secret = format!("ghp_{}", tok(ALNUM, 36, 31));
    std::fs::write(root.join(".gitignore"), "build/\n").expect("write");
    std::fs::create_dir_all(root.join("build")).expect("mkdir");
    std::fs::create_dir_all(root.join(".git")).expect("mkdir");
    std::fs::write(root.join("build/out.txt"), format!("{secret}\n")).expect("write");
    std::fs::write(root.join(".git/config"), format!("{secret}\n")).expect("write");
    std::fs::write(root.join(".env"), format!("GH={secret}\n")).expect("write");
    let mut binary = vec![0u8, 1, 2];
    binary.extend_from_slice(secret.as_bytes());
    std::fs::write(root.join("blob.bin"), binary).expect("write");
    std::fs::write(
        root.join("huge.txt"),
        format!("{secret}\n{}", "a".repeat(2000)),
    )
    .expect("write");
    let config = ScanConfig {
        max_file_size: 1000,
        threads: 2,
    };
    let report = scan_path(root, &config).expect("scan");
    let paths: Vec<&str> = report.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, [".env"]);
    assert_eq!(report.n_binary, 1);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].path, "huge.txt");
    // One file as the root.
    let report = scan_path(&root.join(".env"), &config).expect("scan");
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].path, ".env");
    assert!(matches!(
        scan_path(&root.join("missing"), &config),
        Err(SecretsError::NotFound(_))
    ));
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.org",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn git_stdout(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git runs");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

#[test]
fn git_history_scans_each_reachable_blob_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    let removed = format!("ghp_{}", tok(ALNUM, 36, 41));
    let on_branch = format!("glpat-{}", tok(URL, 20, 42));
    // Commit 1 adds a secret; commit 2 deletes it; the same content under two
    // paths is one blob; a branch holds another secret.
    std::fs::write(root.join("a.env"), format!("GH={removed}\n")).expect("write");
    std::fs::write(root.join("copy.env"), format!("GH={removed}\n")).expect("write");
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "add"]);
    std::fs::remove_file(root.join("a.env")).expect("rm");
    std::fs::remove_file(root.join("copy.env")).expect("rm");
    std::fs::write(root.join("clean.txt"), "nothing here\n").expect("write");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "remove"]);
    git(root, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(root.join("ci.yml"), format!("token: {on_branch}\n")).expect("write");
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "branch"]);
    git(root, &["checkout", "-q", "main"]);
    let feature_head = git_stdout(root, &["rev-parse", "feature"]);
    let first = git_stdout(root, &["rev-list", "--max-parents=0", "HEAD"]);

    // The working tree is clean: a plain scan finds nothing.
    let report = scan_path(root, &ScanConfig::default()).expect("scan");
    assert_eq!(report.findings, vec![]);

    let report = git::scan_history(root, &ScanConfig::default()).expect("history");
    let found: Vec<(&str, &str, Option<&str>)> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.path.as_str(), f.commit.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            ("github-pat", "a.env", Some(first.as_str())),
            ("gitlab-pat", "ci.yml", Some(feature_head.as_str())),
        ]
    );
    // Blobs: a.env (shared with copy.env), clean.txt, ci.yml.
    assert_eq!(report.n_files, 3);

    let err =
        git::scan_history(&root.join("nope"), &ScanConfig::default()).expect_err("not a repo");
    assert!(matches!(err, SecretsError::Git { .. }), "{err}");
}

#[test]
fn sarif_output_validates_against_the_official_schema() {
    let mut text = String::new();
    for (_, positive, _) in samples().iter().take(12) {
        text.push_str(positive);
        text.push('\n');
    }
    let detector = detector();
    let allow = AllowList::empty(Path::new("."));
    let (findings, _) = scan_content(detector, &allow, "conf/app.env", text.as_bytes());
    assert!(findings.len() >= 10);
    let log = serde_json::to_value(sarif::secrets_log(&findings)).expect("serialises");
    validate_sarif(&log);
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), findings.len());
    assert_eq!(
        results[0]["partialFingerprints"]["dsoSecret/v1"],
        findings[0].fingerprint.as_str()
    );
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    let rule_index = results[0]["ruleIndex"].as_u64().expect("index") as usize;
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"][rule_index]["id"],
        results[0]["ruleId"]
    );
}

/// Validates a SARIF log against the vendored official schema.
pub(crate) fn validate_sarif(log: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif/sarif-schema-2.1.0.json"
    )))
    .expect("the vendored schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF invalid: {errors:#?}");
    // A broken log must fail, so the check above cannot pass vacuously.
    let mut broken = log.clone();
    broken["runs"][0]["results"] = serde_json::json!([{ "message": {} , "level": "fatal" }]);
    assert!(!validator.is_valid(&broken));
}

#[test]
fn encrypted_pem_with_armour_headers_is_detected() {
    let body: Vec<String> = (0..8).map(|i| tok(B64, 64, 300 + i)).collect();
    let text = format!(
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{}\n\n{}\n-----END RSA PRIVATE KEY-----\n",
        tok(HEX, 32, 399).to_uppercase(),
        body.join("\n")
    );
    assert!(rules_found(&text).contains("private-key-rsa"));
}
