//! Stock levels and reorder decisions for a small shop.

use std::fmt;

/// One line of the stock list: `sku,name,on_hand,reorder_point,reorder_qty`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub sku: String,
    pub name: String,
    pub on_hand: u32,
    pub reorder_point: u32,
    pub reorder_qty: u32,
}

/// Why a stock list line was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parses a stock list (a header line, then one item per line).
pub fn parse(text: &str) -> Result<Vec<Item>, ParseError> {
    let mut items = Vec::new();
    for (idx, line) in text.lines().enumerate().skip(1) {
        let line_no = idx + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 5 {
            return Err(ParseError { line: line_no, message: format!("expected 5 fields, found {}", fields.len()) });
        }
        let number = |i: usize, name: &str| {
            fields[i].parse::<u32>().map_err(|_| ParseError {
                line: line_no,
                message: format!("field `{name}` is not a whole number: `{}`", fields[i]),
            })
        };
        items.push(Item {
            sku: fields[0].to_owned(),
            name: fields[1].to_owned(),
            on_hand: number(2, "on_hand")?,
            reorder_point: number(3, "reorder_point")?,
            reorder_qty: number(4, "reorder_qty")?,
        });
    }
    Ok(items)
}

/// The items at or below their reorder point, with the quantity to order.
pub fn to_reorder(items: &[Item]) -> Vec<(&Item, u32)> {
    items
        .iter()
        .filter(|item| item.on_hand <= item.reorder_point)
        .map(|item| (item, item.reorder_qty.max(item.reorder_point + 1 - item.on_hand)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "sku,name,on_hand,reorder_point,reorder_qty\nA1,Apples,3,10,20\nB2,Bread,15,5,10\nC3,Cheese,0,2,1\n";

    #[test]
    fn parses_a_stock_list() {
        let items = parse(LIST).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].name, "Bread");
    }

    #[test]
    fn reorders_only_low_items() {
        let items = parse(LIST).unwrap();
        let order: Vec<(&str, u32)> = to_reorder(&items).into_iter().map(|(i, q)| (i.sku.as_str(), q)).collect();
        assert_eq!(order, [("A1", 20), ("C3", 3)]);
    }

    #[test]
    fn bad_lines_name_the_line_and_field() {
        let err = parse("h\nA1,Apples,three,1,1\n").unwrap_err();
        assert_eq!(err.to_string(), "line 2: field `on_hand` is not a whole number: `three`");
        assert_eq!(parse("h\nA1,Apples\n").unwrap_err().line, 2);
    }
}
