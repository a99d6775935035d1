//! Embeds the git commit the library is built from (`PAYEQUITY_COMMIT`), so every result document, the
//! CLI's `--version` and `payequity.__version__` say which code produced them. The commit comes from the
//! `PAYEQUITY_COMMIT` environment variable, else `git rev-parse`, else the `COMMIT` file an sdist carries,
//! else `unknown`.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PAYEQUITY_COMMIT");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let commit_file = Path::new(&manifest).join("COMMIT");
    println!("cargo:rerun-if-changed={}", commit_file.display());
    let from_git = || {
        let output =
            Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).current_dir(&manifest).output().ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
    };
    if let Some(git_dir) = Command::new("git")
        .args(["rev-parse", "--absolute-git-dir"])
        .current_dir(&manifest)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
    {
        let git_dir = git_dir.trim();
        println!("cargo:rerun-if-changed={git_dir}/HEAD");
        println!("cargo:rerun-if-changed={git_dir}/refs/heads");
        println!("cargo:rerun-if-changed={git_dir}/packed-refs");
    }
    let commit = std::env::var("PAYEQUITY_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(from_git)
        .or_else(|| std::fs::read_to_string(&commit_file).ok().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()))
        .unwrap_or_else(|| "unknown".into());
    let commit: String = commit.chars().filter(char::is_ascii_alphanumeric).take(40).collect();
    println!("cargo:rustc-env=PAYEQUITY_COMMIT={commit}");
}
