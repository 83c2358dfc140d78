//! A small glob matcher for branch names and changed paths.
//!
//! Syntax, as in `.gitignore` and GitHub Actions filters:
//! - `?` matches one character other than `/`;
//! - `*` matches any run of characters other than `/`;
//! - `**` matches any run of characters including `/`; written as a whole
//!   path segment (`src/**/test`) it also matches zero segments (`src/test`);
//! - every other character matches itself.
//!
//! Matching is linear in the product of pattern and text length (dynamic
//! programming, no backtracking), so hostile patterns cannot blow up.

/// Returns true when `text` matches the glob `pattern` as a whole.
pub fn matches(pattern: &str, text: &str) -> bool {
    let tokens = tokenize(pattern);
    let text: Vec<char> = text.chars().collect();
    // `next[j]` says whether tokens[i + 1..] match text[j..]; `row[j]` is the
    // same for tokens[i..]. We fill rows from the last token backwards.
    let mut next: Vec<bool> = vec![false; text.len() + 1];
    next[text.len()] = true;
    let mut row: Vec<bool> = vec![false; text.len() + 1];
    for token in tokens.iter().rev() {
        // For `Segments`: whether some prefix of text[j..] ending in `/` is
        // followed by text that tokens[i + 1..] match.
        let mut through_slash = false;
        for j in (0..=text.len()).rev() {
            let at = text.get(j).copied();
            row[j] = match token {
                Token::Char(c) => at == Some(*c) && next[j + 1],
                Token::AnyChar => at.is_some_and(|c| c != '/') && next[j + 1],
                Token::Star => next[j] || (at.is_some_and(|c| c != '/') && row[j + 1]),
                Token::AnyPath => next[j] || (at.is_some() && row[j + 1]),
                // Zero segments, or any text up to and including a `/`.
                Token::Segments => {
                    through_slash = (at == Some('/') && next[j + 1]) || through_slash;
                    next[j] || through_slash
                }
            };
        }
        std::mem::swap(&mut next, &mut row);
    }
    next[0]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(char),
    AnyChar,
    Star,
    /// `**` not followed by `/`: anything, including `/`.
    AnyPath,
    /// `**/` at the start of a segment: zero or more whole segments.
    Segments,
}

fn tokenize(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                let mut end = i + 2;
                // `***` and longer mean the same as `**`.
                while chars.get(end) == Some(&'*') {
                    end += 1;
                }
                let segment_start = i == 0 || chars[i - 1] == '/';
                if segment_start && chars.get(end) == Some(&'/') {
                    tokens.push(Token::Segments);
                    end += 1;
                } else {
                    tokens.push(Token::AnyPath);
                }
                i = end;
            }
            '*' => {
                tokens.push(Token::Star);
                i += 1;
            }
            '?' => {
                tokens.push(Token::AnyChar);
                i += 1;
            }
            c => {
                tokens.push(Token::Char(c));
                i += 1;
            }
        }
    }
    tokens
}
