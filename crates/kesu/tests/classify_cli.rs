//! `kesu classify eval` as a developer runs it: figures as one JSON object,
//! bad input as one line on stderr and a non-zero exit. No database needed.

use std::process::{Command, Output};

fn kesu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kesu"))
        .args(args)
        .env_remove("KESU_DATABASE_URL")
        .env_remove("KESU_DATA_DIR")
        .output()
        .expect("run kesu")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/classify.jsonl");

#[test]
fn eval_prints_the_figures_as_one_json_object() {
    let out = kesu(&["classify", "eval", FIXTURE, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.trim().lines().count(), 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON");
    for key in ["top1", "top3", "major_recall", "major_precision"] {
        let x = v[key].as_f64().unwrap_or(-1.0);
        assert!((0.0..=1.0).contains(&x), "{key} = {}", v[key]);
    }
    assert!(v["top3"].as_f64() >= v["top1"].as_f64());
    assert_eq!(v["complaints"], 8);
    assert!(v["signal_recall"].is_object());
    assert!(v["signal_recall"]["regulator"].is_number());
    let per = v["per_category"].as_object().expect("per_category map");
    assert!(per.contains_key("pricing"));
    assert_eq!(per["pricing"]["support"], 1);
    assert!(v["confusion"].is_object());
}

#[test]
fn eval_trains_on_extra_files_and_prints_tables() {
    let out = kesu(&["classify", "eval", FIXTURE, "--train", FIXTURE]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("top-1"), "{stdout}");
    assert!(stdout.contains("confusion"), "{stdout}");
}

#[test]
fn bad_input_is_one_line_on_stderr_and_a_failure() {
    let dir = std::env::temp_dir().join(format!("kesu-classify-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let missing = dir.join("missing.jsonl");
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, "{\"id\": \"x\", \"channel\": \"phone\"}\nnot json\n").expect("write");
    let missing = missing.to_string_lossy().into_owned();
    let bad = bad.to_string_lossy().into_owned();
    for (args, says) in [
        (vec!["classify", "eval", missing.as_str()], "cannot read"),
        (vec!["classify", "eval", bad.as_str()], "line 1"),
        (
            vec!["classify", "eval", FIXTURE, "--train", missing.as_str()],
            "cannot read",
        ),
    ] {
        let out = kesu(&args);
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = text(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
