//! The languages of the SAST scanner: ast-grep's `Language` trait over the
//! tree-sitter grammars we link (Rust, Python, JavaScript, TypeScript, TSX,
//! Go, Java), instead of ast-grep-language's 28 compiled grammars.

use std::borrow::Cow;
use std::path::Path;
use std::sync::OnceLock;

use ast_grep_core::Language;
use ast_grep_core::matcher::{Pattern, PatternBuilder, PatternError};
use ast_grep_core::tree_sitter::{LanguageExt, StrDoc, TSLanguage};

/// A language a rule is written for and a file is parsed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SastLang {
    Rust,
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
    Java,
}

impl SastLang {
    /// Every language, in a fixed order.
    pub const ALL: [SastLang; 7] = [
        SastLang::Rust,
        SastLang::Python,
        SastLang::JavaScript,
        SastLang::TypeScript,
        SastLang::Tsx,
        SastLang::Go,
        SastLang::Java,
    ];

    /// The language of a file, by extension; `None` for files we do not parse.
    pub fn from_extension(path: &Path) -> Option<SastLang> {
        let ext = path.extension()?.to_str()?;
        Some(match ext {
            "rs" => SastLang::Rust,
            "py" | "pyi" | "pyw" => SastLang::Python,
            "js" | "mjs" | "cjs" | "jsx" => SastLang::JavaScript,
            "ts" | "mts" | "cts" => SastLang::TypeScript,
            "tsx" => SastLang::Tsx,
            "go" => SastLang::Go,
            "java" => SastLang::Java,
            _ => return None,
        })
    }

    /// The lower-case name used in rules and output.
    pub fn name(self) -> &'static str {
        match self {
            SastLang::Rust => "rust",
            SastLang::Python => "python",
            SastLang::JavaScript => "javascript",
            SastLang::TypeScript => "typescript",
            SastLang::Tsx => "tsx",
            SastLang::Go => "go",
            SastLang::Java => "java",
        }
    }

    /// The meta-variable stand-in for grammars where `$` cannot start an
    /// identifier (ast-grep's choice for the same grammars).
    fn expando(self) -> char {
        match self {
            SastLang::Rust | SastLang::Python | SastLang::Go => 'µ',
            _ => '$',
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::str::FromStr for SastLang {
    type Err = String;
    fn from_str(s: &str) -> Result<SastLang, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "rust" | "rs" => SastLang::Rust,
            "python" | "py" => SastLang::Python,
            "javascript" | "js" | "jsx" => SastLang::JavaScript,
            "typescript" | "ts" => SastLang::TypeScript,
            "tsx" => SastLang::Tsx,
            "go" | "golang" => SastLang::Go,
            "java" => SastLang::Java,
            other => {
                return Err(format!(
                    "unsupported language `{other}` (supported: rust, python, javascript, typescript, tsx, go, java)"
                ));
            }
        })
    }
}

impl<'de> serde::Deserialize<'de> for SastLang {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SastLang, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

fn ts_languages() -> &'static [TSLanguage; 7] {
    static LANGS: OnceLock<[TSLanguage; 7]> = OnceLock::new();
    LANGS.get_or_init(|| {
        [
            tree_sitter_rust::LANGUAGE.into(),
            tree_sitter_python::LANGUAGE.into(),
            tree_sitter_javascript::LANGUAGE.into(),
            tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            tree_sitter_typescript::LANGUAGE_TSX.into(),
            tree_sitter_go::LANGUAGE.into(),
            tree_sitter_java::LANGUAGE.into(),
        ]
    })
}

impl Language for SastLang {
    fn pre_process_pattern<'q>(&self, query: &'q str) -> Cow<'q, str> {
        let expando = self.expando();
        if expando == '$' {
            return Cow::Borrowed(query);
        }
        // `$A`, `$$A`, `$$$A` and `$$$` become expando meta-variables; other `$` stay.
        let mut out = String::with_capacity(query.len());
        let mut n_dollars = 0;
        for c in query.chars() {
            if c == '$' {
                n_dollars += 1;
                continue;
            }
            let sigil = if c.is_ascii_uppercase() || c == '_' || n_dollars == 3 {
                expando
            } else {
                '$'
            };
            out.extend(std::iter::repeat_n(sigil, n_dollars));
            n_dollars = 0;
            out.push(c);
        }
        let sigil = if n_dollars == 3 { expando } else { '$' };
        out.extend(std::iter::repeat_n(sigil, n_dollars));
        Cow::Owned(out)
    }

    fn expando_char(&self) -> char {
        self.expando()
    }

    fn from_path<P: AsRef<Path>>(path: P) -> Option<SastLang> {
        SastLang::from_extension(path.as_ref())
    }

    fn kind_to_id(&self, kind: &str) -> u16 {
        self.get_ts_language().id_for_node_kind(kind, true)
    }

    fn field_to_id(&self, field: &str) -> Option<u16> {
        self.get_ts_language()
            .field_id_for_name(field)
            .map(|f| f.get())
    }

    fn build_pattern(&self, builder: &PatternBuilder) -> Result<Pattern, PatternError> {
        builder.build(|src| StrDoc::try_new(src, *self))
    }
}

impl LanguageExt for SastLang {
    fn get_ts_language(&self) -> TSLanguage {
        ts_languages()[self.index()].clone()
    }
}
