//! Maven version ordering: a port of `org.apache.maven.artifact.versioning.ComparableVersion`
//! (Maven 3.9, including MNG-7559's combination items).
//!
//! A version is a list of items: integers, string qualifiers and sub-lists
//! (opened by `-`, by a digit/letter change, and for a trailing qualifier).
//! Qualifiers order `alpha < beta < milestone < rc = cr < snapshot < "" = ga =
//! final = release < sp`, then unknown qualifiers lexically; `a1`, `b1`, `m1`
//! mean `alpha-1`, `beta-1`, `milestone-1`. Trailing "null" items (0, "",
//! empty lists) are dropped, so `1.0.0` = `1` and `1-ga` = `1`.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
enum Item {
    /// Decimal digits without leading zeros ("" is zero).
    Int(String),
    Str(String),
    Combination(String, String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: &str = "5";

fn qualifier(value: &str, followed_by_digit: bool) -> String {
    let v = if followed_by_digit && value.len() == 1 {
        match value {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            other => other,
        }
    } else {
        value
    };
    match v {
        "ga" | "final" | "release" => String::new(),
        "cr" => "rc".into(),
        other => other.into(),
    }
}

fn comparable_qualifier(q: &str) -> String {
    match QUALIFIERS.iter().position(|x| *x == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn int_item(digits: &str) -> Item {
    Item::Int(digits.trim_start_matches('0').to_owned())
}

fn cmp_int(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(d) => d.is_empty(),
            Item::Str(s) => comparable_qualifier(s) == RELEASE_INDEX,
            Item::Combination(..) => false,
            Item::List(items) => items.is_empty(),
        }
    }

    /// `self` compared with `other`, where `None` is the absent item.
    fn compare(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Int(d), None) => {
                if d.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(a), Some(Item::Int(b))) => cmp_int(a, b),
            (Item::Int(_), Some(_)) => Ordering::Greater,

            (Item::Str(s), None) => comparable_qualifier(s).as_str().cmp(RELEASE_INDEX),
            (Item::Str(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::Str(a), Some(Item::Str(b))) => {
                comparable_qualifier(a).cmp(&comparable_qualifier(b))
            }
            (Item::Str(_), Some(Item::List(_))) => Ordering::Less,
            (Item::Str(_), Some(c @ Item::Combination(..))) => c.compare(Some(self)).reverse(),

            (Item::Combination(s, _), None) => Item::Str(s.clone()).compare(None),
            (Item::Combination(..), Some(Item::Int(_))) => Ordering::Less,
            (Item::Combination(s, _), Some(other @ Item::Str(_))) => {
                match Item::Str(s.clone()).compare(Some(other)) {
                    Ordering::Equal => Ordering::Greater,
                    ord => ord,
                }
            }
            (Item::Combination(..), Some(Item::List(_))) => Ordering::Less,
            (Item::Combination(s1, d1), Some(Item::Combination(s2, d2))) => {
                match Item::Str(s1.clone()).compare(Some(&Item::Str(s2.clone()))) {
                    Ordering::Equal => cmp_int(d1, d2),
                    ord => ord,
                }
            }

            (Item::List(items), None) => match items.first() {
                None => Ordering::Equal,
                Some(first) => first.compare(None),
            },
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Str(_) | Item::Combination(..))) => Ordering::Greater,
            (Item::List(a), Some(Item::List(b))) => {
                let n = a.len().max(b.len());
                for i in 0..n {
                    let ord = match (a.get(i), b.get(i)) {
                        (None, None) => Ordering::Equal,
                        (None, Some(r)) => r.compare(None).reverse(),
                        (Some(l), r) => l.compare(r),
                    };
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
                Ordering::Equal
            }
        }
    }
}

fn parse_item(combination: bool, digit: bool, buf: &str) -> Item {
    if combination {
        let buf = buf.replace('-', "");
        let idx = buf.find(|c: char| c.is_ascii_digit()).unwrap_or(buf.len());
        let (s, d) = buf.split_at(idx);
        Item::Combination(qualifier(s, true), d.trim_start_matches('0').to_owned())
    } else if digit {
        int_item(buf)
    } else {
        Item::Str(qualifier(buf, false))
    }
}

/// Builds the item tree. Lists are addressed by a path of indices from the root.
fn parse(version: &str) -> Item {
    let version = version.trim().to_lowercase();
    let chars: Vec<char> = version.chars().collect();
    let mut root: Vec<Item> = Vec::new();
    // Path to the current list: indices of List items from the root.
    let mut path: Vec<usize> = Vec::new();

    fn current<'a>(root: &'a mut Vec<Item>, path: &[usize]) -> &'a mut Vec<Item> {
        let mut list = root;
        for &i in path {
            list = match &mut list[i] {
                Item::List(items) => items,
                _ => unreachable!("paths only point at lists"),
            };
        }
        list
    }
    fn open(root: &mut Vec<Item>, path: &mut Vec<usize>) {
        let list = current(root, path);
        list.push(Item::List(Vec::new()));
        let idx = list.len() - 1;
        path.push(idx);
    }

    let mut is_digit = false;
    let mut is_combination = false;
    let mut start = 0;
    let sub = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    for (i, &c) in chars.iter().enumerate() {
        if c == '.' {
            let item = if i == start {
                Item::Int(String::new())
            } else {
                parse_item(is_combination, is_digit, &sub(start, i))
            };
            current(&mut root, &path).push(item);
            is_combination = false;
            start = i + 1;
        } else if c == '-' {
            let item = if i == start {
                Item::Int(String::new())
            } else {
                parse_item(is_combination, is_digit, &sub(start, i))
            };
            current(&mut root, &path).push(item);
            is_combination = false;
            start = i + 1;
            open(&mut root, &mut path);
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                // `alpha2`: the qualifier, then the number in a sub-list.
                let item = Item::Str(qualifier(&sub(start, i), true));
                current(&mut root, &path).push(item);
                start = i;
                open(&mut root, &mut path);
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                let item = parse_item(is_combination, true, &sub(start, i));
                current(&mut root, &path).push(item);
                start = i;
                open(&mut root, &mut path);
                is_combination = false;
            }
            is_digit = false;
        }
    }
    if chars.len() > start {
        if !is_digit && !current(&mut root, &path).is_empty() {
            open(&mut root, &mut path);
        }
        let item = parse_item(is_combination, is_digit, &sub(start, chars.len()));
        current(&mut root, &path).push(item);
    }
    // Normalise innermost lists first, as Maven pops its stack.
    fn normalize(items: &mut Vec<Item>) {
        for item in items.iter_mut() {
            if let Item::List(inner) = item {
                normalize(inner);
            }
        }
        let mut i = items.len();
        while i > 0 {
            i -= 1;
            if items[i].is_null() {
                items.remove(i);
            } else if !matches!(items[i], Item::List(_)) {
                break;
            }
        }
    }
    normalize(&mut root);
    Item::List(root)
}

/// Compares two Maven versions. Every string is a Maven version, so this never fails.
pub fn compare(a: &str, b: &str) -> Ordering {
    parse(a).compare(Some(&parse(b)))
}
