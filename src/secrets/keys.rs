//! Where the key-encryption keys come from: `secrets_keys` (base64, the
//! sealing key first), or else the key file `secrets_key_file` (one base64 key
//! per line, the sealing key first, `#` comments), which is created with one
//! random key, readable by its owner only, when it does not exist. A missing
//! or unreadable configured key stops the server at start: sealing with a
//! made-up key would lock every secret away.
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use secrecy::ExposeSecret;

use crate::config::Config;

/// The configured keys, the sealing one first.
pub fn load_keys(config: &Config) -> Result<Vec<[u8; 32]>, String> {
    if !config.secrets_keys.is_empty() {
        return config.secrets_keys.iter().map(|key| decode(key.expose_secret(), "secrets_keys")).collect();
    }
    let path = &config.secrets_key_file;
    if !path.exists() {
        create_key_file(path)?;
    }
    let text = std::fs::read_to_string(path).map_err(|err| format!("reading {}: {err}", path.display()))?;
    let keys: Vec<[u8; 32]> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| decode(line, &path.display().to_string()))
        .collect::<Result<_, _>>()?;
    if keys.is_empty() {
        return Err(format!("{} holds no key", path.display()));
    }
    Ok(keys)
}

fn decode(text: &str, source: &str) -> Result<[u8; 32], String> {
    let bytes = STANDARD.decode(text.trim()).map_err(|_| format!("{source}: a key is not base64"))?;
    bytes.try_into().map_err(|_| format!("{source}: a key must be 32 bytes (44 base64 characters)"))
}

/// A new key file with one random key, mode 0600. Written whole to a
/// temporary file first and then linked into place, which fails when the
/// file exists: processes starting at once (tests, replicas on one volume)
/// never see a half-written file, and all end up with the one that won.
fn create_key_file(path: &Path) -> Result<(), String> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(|err| format!("creating {}: {err}", folder.display()))?;
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let temporary = folder.join(format!(".secrets-key-{}", uuid::Uuid::now_v7().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let text = format!(
        "# AskPro key-encryption key (secrets at rest). Keep it apart from database backups.\n\
         # Rotation: put a new key on the first line, run `askpro rotate-secrets`, then remove the old one.\n{}\n",
        STANDARD.encode(key)
    );
    let written = options
        .open(&temporary)
        .and_then(|mut file| file.write_all(text.as_bytes()).and_then(|()| file.sync_all()))
        .map_err(|err| format!("writing {}: {err}", temporary.display()));
    let linked = written.and_then(|()| match std::fs::hard_link(&temporary, path) {
        Ok(()) => {
            tracing::warn!(path = %path.display(), "created a new key-encryption key for secrets at rest");
            Ok(())
        }
        // Another process made it first: theirs is the key.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(format!("creating {}: {err}", path.display())),
    });
    let _ = std::fs::remove_file(&temporary);
    linked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_file_is_created_once_and_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config { secrets_key_file: dir.path().join("data/secrets.key"), ..Config::default() };
        let first = load_keys(&config).unwrap();
        assert_eq!(load_keys(&config).unwrap(), first, "the same key on the next start");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&config.secrets_key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn processes_creating_the_key_file_at_once_end_up_with_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config { secrets_key_file: dir.path().join("secrets.key"), ..Config::default() };
        let keys: Vec<Vec<[u8; 32]>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8).map(|_| scope.spawn(|| load_keys(&config).unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]), "one key for all");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn configured_keys_win_and_bad_ones_stop_the_start() {
        let key = STANDARD.encode([3u8; 32]);
        let config = Config { secrets_keys: vec![key.clone().into()], ..Config::default() };
        assert_eq!(load_keys(&config).unwrap().len(), 1);
        let short = Config { secrets_keys: vec!["c2hvcnQ=".to_owned().into()], ..Config::default() };
        assert!(load_keys(&short).unwrap_err().contains("32 bytes"));
    }
}
