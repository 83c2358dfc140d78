//! The built-in secret rules: one entry per provider token format.
//!
//! Each rule names the keywords that must occur on a line before its regex
//! runs (the aho-corasick pre-filter, matched ASCII-case-insensitively), the
//! regex itself (the capture group `secret`, or the whole match, is the
//! secret), a minimum Shannon entropy for the secret, and whether it is a
//! generic rule (generic rules never run on lockfiles and never accept
//! hash-like values). Formats follow the providers' documented token layouts.

/// How a rule's candidate is confirmed after the regex matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The regex (plus entropy) is enough.
    None,
    /// A JSON Web Token: the header must decode to JSON naming `alg`.
    Jwt,
    /// A PEM private key: the body between the armour lines must be long.
    PemBody,
}

/// One built-in rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleSpec {
    /// Stable identifier, kebab-case (used in `.dsoignore`, SARIF `ruleId`).
    pub id: &'static str,
    /// What the secret is, for people.
    pub description: &'static str,
    /// Lower-case keywords; at least one must occur on the line.
    pub keywords: &'static [&'static str],
    /// The regex (Rust `regex` syntax).
    pub pattern: &'static str,
    /// Minimum Shannon entropy (bits per character) of the secret.
    pub min_entropy: f64,
    /// Generic assignment rules: skipped on lockfiles and hash-like values.
    pub generic: bool,
    /// The PEM armour spans lines: the regex runs from the keyword onwards.
    pub multiline: bool,
    pub check: Check,
}

const fn rule(
    id: &'static str,
    description: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    min_entropy: f64,
) -> RuleSpec {
    RuleSpec {
        id,
        description,
        keywords,
        pattern,
        min_entropy,
        generic: false,
        multiline: false,
        check: Check::None,
    }
}

const fn pem(id: &'static str, description: &'static str, pattern: &'static str) -> RuleSpec {
    RuleSpec {
        id,
        description,
        keywords: &["private key"],
        pattern,
        min_entropy: 0.0,
        generic: false,
        multiline: true,
        check: Check::PemBody,
    }
}

const fn generic(
    id: &'static str,
    description: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    min_entropy: f64,
) -> RuleSpec {
    RuleSpec {
        id,
        description,
        keywords,
        pattern,
        min_entropy,
        generic: true,
        multiline: false,
        check: Check::None,
    }
}

/// Every built-in rule (at least 40; `rules_are_unique_and_compile` checks them).
pub const RULES: &[RuleSpec] = &[
    // Amazon Web Services.
    rule(
        "aws-access-key-id",
        "AWS access key ID",
        &[
            "akia", "asia", "abia", "acca", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "a3t",
        ],
        r"\b(?P<secret>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z2-7]{16})\b",
        3.0,
    ),
    rule(
        "aws-secret-access-key",
        "AWS secret access key",
        &["aws"],
        r#"(?i:aws)[\w.-]{0,20}(?i:secret)[\w.-]{0,20}["']?\s*(?::|=|=>|:=)\s*["']?(?P<secret>[A-Za-z0-9/+]{40})(?:["'\s;,]|$)"#,
        4.0,
    ),
    rule(
        "aws-mws-key",
        "Amazon Marketplace Web Service auth token",
        &["amzn.mws."],
        r"\b(?P<secret>amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b",
        3.0,
    ),
    // Google Cloud.
    rule(
        "gcp-service-account-key",
        "GCP service-account key file (private_key_id)",
        &["private_key_id"],
        r#""private_key_id"\s*:\s*"(?P<secret>[0-9a-f]{40})""#,
        3.0,
    ),
    rule(
        "gcp-api-key",
        "Google Cloud API key",
        &["aiza"],
        r"\b(?P<secret>AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)",
        3.5,
    ),
    rule(
        "gcp-oauth-client-secret",
        "Google OAuth client secret",
        &["gocspx-"],
        r"\b(?P<secret>GOCSPX-[A-Za-z0-9_-]{28})(?:[^A-Za-z0-9_-]|$)",
        3.5,
    ),
    // Microsoft Azure.
    rule(
        "azure-storage-connection-string",
        "Azure storage connection string with an account key",
        &["accountkey="],
        r"(?i:DefaultEndpointsProtocol)=https?;(?i:AccountName)=[^;\s]+;(?i:AccountKey)=(?P<secret>[A-Za-z0-9+/]{86}==)",
        4.0,
    ),
    rule(
        "azure-storage-account-key",
        "Azure storage account key",
        &["azure", "storage", "accountkey"],
        r#"(?i:azure|storage|account)[\w.-]{0,30}(?i:key)["']?\s*(?::|=|=>|:=)\s*["']?(?P<secret>[A-Za-z0-9+/]{86}==)"#,
        4.0,
    ),
    rule(
        "azure-ad-client-secret",
        "Azure AD (Entra ID) client secret",
        &["q~"],
        r#"(?:^|[\\'"`\s>=:(,)])(?P<secret>[a-zA-Z0-9_~.]{3}[0-9]Q~[a-zA-Z0-9_~.-]{31,34})(?:$|[\\'"`\s<),])"#,
        3.5,
    ),
    // GitHub.
    rule(
        "github-pat",
        "GitHub personal access token (classic)",
        &["ghp_"],
        r"\b(?P<secret>ghp_[A-Za-z0-9]{36})\b",
        3.5,
    ),
    rule(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token",
        &["github_pat_"],
        r"\b(?P<secret>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        3.5,
    ),
    rule(
        "github-oauth-token",
        "GitHub OAuth access token",
        &["gho_"],
        r"\b(?P<secret>gho_[A-Za-z0-9]{36})\b",
        3.5,
    ),
    rule(
        "github-app-token",
        "GitHub App user-to-server or server-to-server token",
        &["ghu_", "ghs_"],
        r"\b(?P<secret>(?:ghu|ghs)_[A-Za-z0-9]{36})\b",
        3.5,
    ),
    rule(
        "github-refresh-token",
        "GitHub refresh token",
        &["ghr_"],
        r"\b(?P<secret>ghr_[A-Za-z0-9]{36,76})\b",
        3.5,
    ),
    // GitLab.
    rule(
        "gitlab-pat",
        "GitLab personal access token",
        &["glpat-"],
        r"\b(?P<secret>glpat-[A-Za-z0-9_-]{20,})(?:[^A-Za-z0-9_.-]|$)",
        3.5,
    ),
    rule(
        "gitlab-pipeline-trigger-token",
        "GitLab pipeline trigger token",
        &["glptt-"],
        r"\b(?P<secret>glptt-[0-9a-f]{40})\b",
        3.0,
    ),
    rule(
        "gitlab-runner-token",
        "GitLab runner authentication token",
        &["glrt-"],
        r"\b(?P<secret>glrt-[A-Za-z0-9_-]{20,})(?:[^A-Za-z0-9_-]|$)",
        3.5,
    ),
    // Slack.
    rule(
        "slack-bot-token",
        "Slack bot token",
        &["xoxb-"],
        r"\b(?P<secret>xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24,34})\b",
        3.0,
    ),
    rule(
        "slack-user-token",
        "Slack user token",
        &["xoxp-", "xoxe-"],
        r"\b(?P<secret>xox[pe](?:-[0-9]{10,13}){3}-[a-f0-9]{32})\b",
        3.0,
    ),
    rule(
        "slack-app-token",
        "Slack app-level token",
        &["xapp-"],
        r"\b(?P<secret>xapp-[0-9]-[A-Z0-9]{9,11}-[0-9]{10,13}-[a-f0-9]{64})\b",
        3.0,
    ),
    rule(
        "slack-webhook-url",
        "Slack incoming webhook URL",
        &["hooks.slack.com"],
        r"(?P<secret>https://hooks\.slack\.com/(?:services|workflows)/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{23,25})",
        3.0,
    ),
    // Payments.
    rule(
        "stripe-secret-key",
        "Stripe live secret key",
        &["sk_live_"],
        r"\b(?P<secret>sk_live_[0-9A-Za-z]{24,99})\b",
        3.5,
    ),
    rule(
        "stripe-restricted-key",
        "Stripe live restricted key",
        &["rk_live_"],
        r"\b(?P<secret>rk_live_[0-9A-Za-z]{24,99})\b",
        3.5,
    ),
    rule(
        "stripe-webhook-secret",
        "Stripe webhook signing secret",
        &["whsec_"],
        r"\b(?P<secret>whsec_[A-Za-z0-9]{32,})\b",
        3.5,
    ),
    rule(
        "square-access-token",
        "Square access token or OAuth secret",
        &["sq0atp-", "sq0csp-"],
        r"\b(?P<secret>sq0atp-[0-9A-Za-z_-]{22}|sq0csp-[0-9A-Za-z_-]{43})(?:[^0-9A-Za-z_-]|$)",
        3.5,
    ),
    // Messaging and email.
    rule(
        "twilio-api-key",
        "Twilio API key SID",
        &["sk"],
        r"\b(?P<secret>SK[0-9a-fA-F]{32})\b",
        3.0,
    ),
    rule(
        "sendgrid-api-key",
        "SendGrid API key",
        &["sg."],
        r"\b(?P<secret>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?:[^A-Za-z0-9_-]|$)",
        4.0,
    ),
    rule(
        "mailgun-api-key",
        "Mailgun API key",
        &["key-"],
        r"\b(?P<secret>key-[0-9a-f]{32})\b",
        3.2,
    ),
    rule(
        "mailchimp-api-key",
        "Mailchimp API key",
        &["-us"],
        r"\b(?P<secret>[0-9a-f]{32}-us[0-9]{1,2})\b",
        3.2,
    ),
    rule(
        "telegram-bot-token",
        "Telegram bot API token",
        &[":aa"],
        r"\b(?P<secret>[0-9]{8,10}:AA[0-9A-Za-z_-]{33})(?:[^0-9A-Za-z_-]|$)",
        3.5,
    ),
    rule(
        "discord-webhook-url",
        "Discord webhook URL",
        &["discord"],
        r"(?P<secret>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68})",
        3.5,
    ),
    rule(
        "discord-bot-token",
        "Discord bot token",
        &["discord"],
        r#"(?i:discord)[\w.-]{0,30}["']?\s*(?::|=|=>|:=)\s*["']?(?P<secret>[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})"#,
        4.0,
    ),
    // Package registries.
    rule(
        "npm-access-token",
        "npm access token",
        &["npm_"],
        r"\b(?P<secret>npm_[A-Za-z0-9]{36})\b",
        3.5,
    ),
    rule(
        "pypi-upload-token",
        "PyPI upload token",
        &["pypi-ageichlwas5vcmc"],
        r"\b(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})(?:[^A-Za-z0-9_-]|$)",
        3.5,
    ),
    rule(
        "rubygems-api-key",
        "RubyGems API key",
        &["rubygems_"],
        r"\b(?P<secret>rubygems_[0-9a-f]{48})\b",
        3.2,
    ),
    rule(
        "dockerhub-pat",
        "Docker Hub personal access token",
        &["dckr_pat_"],
        r"\b(?P<secret>dckr_pat_[A-Za-z0-9_-]{27})(?:[^A-Za-z0-9_-]|$)",
        3.5,
    ),
    // Private keys.
    pem(
        "private-key-rsa",
        "RSA private key (PEM)",
        r"-----BEGIN RSA PRIVATE KEY-----\s*(?P<secret>[A-Za-z0-9+/=\s:,-]{64,}?)\s*-----END RSA PRIVATE KEY-----",
    ),
    pem(
        "private-key-ec",
        "EC private key (PEM)",
        r"-----BEGIN EC PRIVATE KEY-----\s*(?P<secret>[A-Za-z0-9+/=\s:,-]{64,}?)\s*-----END EC PRIVATE KEY-----",
    ),
    pem(
        "private-key-dsa",
        "DSA private key (PEM)",
        r"-----BEGIN DSA PRIVATE KEY-----\s*(?P<secret>[A-Za-z0-9+/=\s:,-]{64,}?)\s*-----END DSA PRIVATE KEY-----",
    ),
    pem(
        "private-key-openssh",
        "OpenSSH private key",
        r"-----BEGIN OPENSSH PRIVATE KEY-----\s*(?P<secret>[A-Za-z0-9+/=\s]{64,}?)\s*-----END OPENSSH PRIVATE KEY-----",
    ),
    pem(
        "private-key-pkcs8",
        "PKCS #8 private key (PEM)",
        r"-----BEGIN (?:ENCRYPTED )?PRIVATE KEY-----\s*(?P<secret>[A-Za-z0-9+/=\s]{64,}?)\s*-----END (?:ENCRYPTED )?PRIVATE KEY-----",
    ),
    pem(
        "private-key-pgp",
        "PGP private key block",
        r"-----BEGIN PGP PRIVATE KEY BLOCK-----\s*(?P<secret>[A-Za-z0-9+/=\s:.,()@<>-]{64,}?)\s*-----END PGP PRIVATE KEY BLOCK-----",
    ),
    rule(
        "age-secret-key",
        "age encryption secret key",
        &["age-secret-key-1"],
        r"\b(?P<secret>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b",
        3.5,
    ),
    // Tokens.
    RuleSpec {
        check: Check::Jwt,
        ..rule(
            "jwt",
            "JSON Web Token",
            &["eyj"],
            r"\b(?P<secret>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})(?:[^A-Za-z0-9_.-]|$)",
            3.0,
        )
    },
    // Platforms.
    rule(
        "heroku-api-key",
        "Heroku API key",
        &["heroku"],
        r#"(?i:heroku)[\w.-]{0,30}["']?\s*(?::|=|=>|:=)\s*["']?(?P<secret>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\b"#,
        3.0,
    ),
    rule(
        "heroku-api-key-v2",
        "Heroku platform API key (HRKU-)",
        &["hrku-"],
        r"\b(?P<secret>HRKU-AA[0-9A-Za-z_-]{58})(?:[^0-9A-Za-z_-]|$)",
        3.5,
    ),
    rule(
        "shopify-access-token",
        "Shopify access token",
        &["shpat_", "shpca_", "shppa_"],
        r"\b(?P<secret>shp(?:at|ca|pa)_[a-fA-F0-9]{32})\b",
        3.0,
    ),
    rule(
        "shopify-shared-secret",
        "Shopify app shared secret",
        &["shpss_"],
        r"\b(?P<secret>shpss_[a-fA-F0-9]{32})\b",
        3.0,
    ),
    rule(
        "datadog-api-key",
        "Datadog API key",
        &["datadog", "dd_api", "ddapi", "dd-api"],
        r#"(?i:datadog|dd)[_.-]?(?i:api)[_.-]?(?i:key)["']?\s*(?::|=|=>|:=)\s*["']?(?P<secret>[0-9a-f]{32})\b"#,
        3.0,
    ),
    rule(
        "datadog-app-key",
        "Datadog application key",
        &["datadog", "dd_app", "ddapp", "dd-app"],
        r#"(?i:datadog|dd)[_.-]?(?i:app|application)[_.-]?(?i:key)["']?\s*(?::|=|=>|:=)\s*["']?(?P<secret>[0-9a-f]{40})\b"#,
        3.0,
    ),
    rule(
        "digitalocean-pat",
        "DigitalOcean personal access token",
        &["dop_v1_"],
        r"\b(?P<secret>dop_v1_[a-f0-9]{64})\b",
        3.0,
    ),
    rule(
        "digitalocean-oauth-token",
        "DigitalOcean OAuth access or refresh token",
        &["doo_v1_", "dor_v1_"],
        r"\b(?P<secret>do[or]_v1_[a-f0-9]{64})\b",
        3.0,
    ),
    rule(
        "vault-service-token",
        "HashiCorp Vault service token",
        &["hvs."],
        r"\b(?P<secret>hvs\.[A-Za-z0-9_-]{90,120})(?:[^A-Za-z0-9_-]|$)",
        3.5,
    ),
    rule(
        "vault-batch-token",
        "HashiCorp Vault batch token",
        &["hvb."],
        r"\b(?P<secret>hvb\.[A-Za-z0-9_-]{138,300})(?:[^A-Za-z0-9_-]|$)",
        3.5,
    ),
    rule(
        "doppler-token",
        "Doppler token",
        &[
            "dp.pt.",
            "dp.st.",
            "dp.ct.",
            "dp.sa.",
            "dp.scim.",
            "dp.audit.",
        ],
        r"\b(?P<secret>dp\.(?:pt|st|ct|sa|scim|audit)\.[A-Za-z0-9]{40,44})\b",
        3.5,
    ),
    rule(
        "postman-api-key",
        "Postman API key",
        &["pmak-"],
        r"\b(?P<secret>PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b",
        3.0,
    ),
    rule(
        "atlassian-api-token",
        "Atlassian API token",
        &["atatt3"],
        r"\b(?P<secret>ATATT3[A-Za-z0-9_=-]{186})(?:[^A-Za-z0-9_=-]|$)",
        3.5,
    ),
    rule(
        "openai-api-key",
        "OpenAI API key",
        &["t3blbkfj"],
        r"\b(?P<secret>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,74}T3BlbkFJ[A-Za-z0-9_-]{20,74})(?:[^A-Za-z0-9_-]|$)",
        3.5,
    ),
    rule(
        "anthropic-api-key",
        "Anthropic API key",
        &["sk-ant-"],
        r"\b(?P<secret>sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA)(?:[^A-Za-z0-9_-]|$)",
        3.5,
    ),
    rule(
        "huggingface-token",
        "Hugging Face access token",
        &["hf_"],
        r"\b(?P<secret>hf_[A-Za-z]{34})\b",
        3.5,
    ),
    rule(
        "databricks-token",
        "Databricks API token",
        &["dapi"],
        r"\b(?P<secret>dapi[a-f0-9]{32}(?:-[0-9])?)\b",
        3.0,
    ),
    rule(
        "grafana-service-account-token",
        "Grafana service account token",
        &["glsa_"],
        r"\b(?P<secret>glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b",
        3.5,
    ),
    rule(
        "newrelic-user-api-key",
        "New Relic user API key",
        &["nrak-"],
        r"\b(?P<secret>NRAK-[A-Z0-9]{27})\b",
        3.5,
    ),
    rule(
        "pulumi-access-token",
        "Pulumi access token",
        &["pul-"],
        r"\b(?P<secret>pul-[a-f0-9]{40})\b",
        3.0,
    ),
    rule(
        "linear-api-key",
        "Linear API key",
        &["lin_api_"],
        r"\b(?P<secret>lin_api_[A-Za-z0-9]{40})\b",
        3.5,
    ),
    // Generic.
    generic(
        "url-embedded-credentials",
        "Password embedded in a URL (scheme://user:password@host)",
        &["://"],
        r#"\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://[^\s:/@"'`{}<>$]{1,64}:(?P<secret>[^\s:/@"'`{}<>$]{6,64})@[A-Za-z0-9.-]+"#,
        2.5,
    ),
    generic(
        "generic-password",
        "Hard-coded password in an assignment",
        &["password", "passwd", "pwd", "passphrase"],
        r#"(?i:password|passwd|pwd|passphrase)[\w.-]{0,20}["']?\s*(?::|=|=>|:=|==)\s*[bru]?["'](?P<secret>[^"'\s]{8,128})["']"#,
        3.0,
    ),
    generic(
        "generic-api-key",
        "Hard-coded API key, token or secret in an assignment",
        &[
            "secret",
            "token",
            "api_key",
            "apikey",
            "api-key",
            "access_key",
            "auth_key",
            "client_secret",
            "private_key",
        ],
        r#"(?i:secret|token|api_?key|api-key|access_?key|auth_?key|private_?key)[\w.-]{0,20}["']?\s*(?::|=|=>|:=|==)\s*[bru]?["'](?P<secret>[A-Za-z0-9_/+=.~-]{16,256})["']"#,
        3.5,
    ),
];
