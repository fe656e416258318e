//! Writes the tonic clients (no servers) and prost messages for the contracts
//! in `proto/` into `clients/rust/src/gen`, where they are committed, so the
//! `askpro-client` crate builds on its own, without the repository's proto
//! folder or a build script. protox compiles the contracts, so no system
//! `protoc` is needed. Run by `clients/generate.sh`.
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..").canonicalize()?;
    let proto_root = root.join("proto");
    let out = root.join("clients/rust/src/gen");

    let mut files = Vec::new();
    collect_protos(&proto_root.join("askpro"), &mut files)?;
    files.sort();
    let descriptors = protox::compile(&files, [&proto_root])?;

    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(&out)?;
    tonic_prost_build::configure().build_client(true).build_server(false).out_dir(&out).compile_fds(descriptors)?;
    println!("generated: {}", out.display());
    Ok(())
}

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
