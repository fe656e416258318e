//! Generates the tonic clients (no servers) from the contracts in `../../proto`
//! with protox, so no system `protoc` is needed.
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = Path::new("../../proto");
    let mut files = Vec::new();
    collect_protos(&proto_root.join("askpro"), &mut files)?;
    files.sort();
    println!("cargo:rerun-if-changed=../../proto");

    let descriptors = protox::compile(&files, [proto_root])?;
    tonic_prost_build::configure().build_client(true).build_server(false).compile_fds(descriptors)?;
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
