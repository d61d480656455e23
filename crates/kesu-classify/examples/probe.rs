//! Reads complaints (one per line on standard input) and prints what the
//! shipped engine makes of each: categories, signals with their phrases, amounts.
//!
//! ```sh
//! echo '笔记本电脑七千五，键盘坏了' | cargo run --release -p kesu-classify --example probe
//! ```

use std::io::BufRead;

use kesu_classify::{History, amount, classify};
use kesu_domain::Channel;

fn main() {
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let p = classify(&line, Channel::Phone, History::default());
        let cats: Vec<String> = p
            .categories
            .iter()
            .map(|c| format!("{}:{:.2}", c.code, c.confidence))
            .collect();
        let sigs: Vec<String> = p
            .signals
            .iter()
            .map(|h| format!("{}({})", h.signal, h.phrase))
            .collect();
        let amounts: Vec<String> = amount::find_amounts(&line)
            .iter()
            .map(|a| format!("{}", a.yuan))
            .collect();
        println!(
            "{line}\n  {} | {} | amounts {}",
            cats.join(" "),
            sigs.join(" "),
            amounts.join(" ")
        );
    }
}
