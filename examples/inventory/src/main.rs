//! `inventory FILE`: prints what to reorder.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: inventory STOCK.csv");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("{path}: {err}");
            std::process::exit(1);
        }
    };
    match inventory::parse(&text) {
        Ok(items) => {
            for (item, qty) in inventory::to_reorder(&items) {
                println!("reorder {qty} x {} ({})", item.sku, item.name);
            }
        }
        Err(err) => {
            eprintln!("{path}:{err}");
            std::process::exit(1);
        }
    }
}
