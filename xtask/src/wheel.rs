//! The pinned botocore wheel: fetched with pip when absent, then read as a zip archive.
//!
//! Only what wheels use is supported: stored and deflated entries, no zip64, no encryption.

use anyhow::{bail, ensure, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Returns the path of `botocore-<version>-py3-none-any.whl` in `dir`, downloading it with
/// `pip download` first when it is not there.
pub fn obtain(dir: &Path, version: &str) -> Result<PathBuf> {
    let wheel = dir.join(format!("botocore-{version}-py3-none-any.whl"));
    if wheel.is_file() {
        return Ok(wheel);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    eprintln!("downloading botocore {version} into {}", dir.display());
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let status = Command::new(&python)
        .args(["-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps"])
        .args(["--only-binary", ":all:", "-d"])
        .arg(dir)
        .arg(format!("botocore=={version}"))
        .status()
        .with_context(|| format!("running `{python} -m pip download`"))?;
    ensure!(status.success(), "`{python} -m pip download botocore=={version}` failed ({status})");
    ensure!(wheel.is_file(), "pip did not produce {}", wheel.display());
    Ok(wheel)
}

/// A zip archive held in memory.
pub struct Zip {
    data: Vec<u8>,
    entries: Vec<Entry>,
}

struct Entry {
    name: String,
    method: u16,
    crc32: u32,
    compressed_size: usize,
    size: usize,
    local_header: usize,
}

fn u16_at(data: &[u8], at: usize) -> Result<u16> {
    let bytes = data.get(at..at + 2).context("zip: truncated")?;
    Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
}

fn u32_at(data: &[u8], at: usize) -> Result<u32> {
    let bytes = data.get(at..at + 4).context("zip: truncated")?;
    Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
const CENTRAL_DIRECTORY_HEADER: u32 = 0x0201_4b50;
const LOCAL_FILE_HEADER: u32 = 0x0403_4b50;

impl Zip {
    pub fn open(path: &Path) -> Result<Zip> {
        let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Zip::from_bytes(data).with_context(|| format!("reading {}", path.display()))
    }

    pub fn from_bytes(data: Vec<u8>) -> Result<Zip> {
        // The end-of-central-directory record is the last 22 bytes plus a comment of up to 64 KiB.
        ensure!(data.len() >= 22, "zip: too short");
        let lowest = data.len().saturating_sub(22 + 0xFFFF);
        let eocd = (lowest..=data.len() - 22)
            .rev()
            .find(|&at| u32_at(&data, at).ok() == Some(END_OF_CENTRAL_DIRECTORY))
            .context("zip: no end of central directory")?;
        let count = u16_at(&data, eocd + 10)? as usize;
        let mut at = u32_at(&data, eocd + 16)? as usize;
        ensure!(count != 0xFFFF && at != 0xFFFF_FFFF, "zip: zip64 archives are not supported");
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            ensure!(u32_at(&data, at)? == CENTRAL_DIRECTORY_HEADER, "zip: bad central directory header");
            let flags = u16_at(&data, at + 8)?;
            ensure!(flags & 1 == 0, "zip: encrypted entries are not supported");
            let name_len = u16_at(&data, at + 28)? as usize;
            let extra_len = u16_at(&data, at + 30)? as usize;
            let comment_len = u16_at(&data, at + 32)? as usize;
            let name = data.get(at + 46..at + 46 + name_len).context("zip: truncated")?;
            entries.push(Entry {
                name: String::from_utf8_lossy(name).into_owned(),
                method: u16_at(&data, at + 10)?,
                crc32: u32_at(&data, at + 16)?,
                compressed_size: u32_at(&data, at + 20)? as usize,
                size: u32_at(&data, at + 24)? as usize,
                local_header: u32_at(&data, at + 42)? as usize,
            });
            at += 46 + name_len + extra_len + comment_len;
        }
        Ok(Zip { data, entries })
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// The uncompressed content of the entry `name`, checked against its CRC.
    pub fn read(&self, name: &str) -> Result<Vec<u8>> {
        let entry = self.entries.iter().find(|e| e.name == name).with_context(|| format!("zip: no entry {name}"))?;
        let at = entry.local_header;
        ensure!(u32_at(&self.data, at)? == LOCAL_FILE_HEADER, "zip: bad local header for {name}");
        let start = at + 30 + u16_at(&self.data, at + 26)? as usize + u16_at(&self.data, at + 28)? as usize;
        let raw = self.data.get(start..start + entry.compressed_size).context("zip: truncated entry")?;
        let content = match entry.method {
            0 => raw.to_vec(),
            8 => {
                let mut out = Vec::with_capacity(entry.size);
                flate2::read::DeflateDecoder::new(raw)
                    .read_to_end(&mut out)
                    .with_context(|| format!("inflating {name}"))?;
                out
            }
            other => bail!("zip: {name} uses unsupported compression method {other}"),
        };
        ensure!(content.len() == entry.size, "zip: {name} has the wrong size");
        let mut crc = flate2::Crc::new();
        crc.update(&content);
        ensure!(crc.sum() == entry.crc32, "zip: {name} fails its CRC check");
        Ok(content)
    }
}

/// Reads `botocore/data/<model>/<newest api version>/service-2.json[.gz]` from the wheel and
/// returns the api-version directory with the decompressed JSON.
pub fn service_model(zip: &Zip, model: &str) -> Result<(String, Vec<u8>)> {
    let prefix = format!("botocore/data/{model}/");
    let mut candidates: Vec<(&str, &str)> = zip
        .names()
        .filter_map(|name| {
            let rest = name.strip_prefix(&prefix)?;
            let (version, file) = rest.split_once('/')?;
            matches!(file, "service-2.json.gz" | "service-2.json").then_some((version, name))
        })
        .collect();
    // ISO dates compare as strings; `.json.gz` sorts after `.json` should a version have both.
    candidates.sort();
    let Some(&(version, name)) = candidates.last() else {
        bail!("botocore has no service model under {prefix}");
    };
    let bytes = zip.read(name)?;
    let json = if name.ends_with(".gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .with_context(|| format!("gunzip {name}"))?;
        out
    } else {
        bytes
    };
    Ok((version.to_string(), json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Builds a zip with one deflated entry per `(name, content)`.
    fn build_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, content) in files {
            let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(content).unwrap();
            let deflated = enc.finish().unwrap();
            let mut crc = flate2::Crc::new();
            crc.update(content);
            let offset = out.len() as u32;
            out.extend_from_slice(&LOCAL_FILE_HEADER.to_le_bytes());
            out.extend_from_slice(&[20, 0, 0, 0, 8, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&crc.sum().to_le_bytes());
            out.extend_from_slice(&(deflated.len() as u32).to_le_bytes());
            out.extend_from_slice(&(content.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&deflated);
            central.extend_from_slice(&CENTRAL_DIRECTORY_HEADER.to_le_bytes());
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&crc.sum().to_le_bytes());
            central.extend_from_slice(&(deflated.len() as u32).to_le_bytes());
            central.extend_from_slice(&(content.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&END_OF_CENTRAL_DIRECTORY.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    fn gzip(content: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(content).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn picks_the_newest_api_version() {
        let old = gzip(b"{\"old\": true}");
        let new = gzip(b"{\"new\": true}");
        let zip = Zip::from_bytes(build_zip(&[
            ("botocore/data/ec2/2016-11-15/service-2.json.gz", &new),
            ("botocore/data/ec2/2016-11-15/waiters-2.json", b"{}"),
            ("botocore/data/ec2/2015-10-01/service-2.json.gz", &old),
            ("botocore/data/ec2-instance-connect/2018-04-02/service-2.json.gz", &old),
        ]))
        .unwrap();
        let (version, json) = service_model(&zip, "ec2").unwrap();
        assert_eq!(version, "2016-11-15");
        assert_eq!(json, b"{\"new\": true}");
        assert!(service_model(&zip, "ssm").is_err());
    }

    #[test]
    fn detects_corruption() {
        let mut bytes = build_zip(&[("a.txt", b"hello hello hello")]);
        let zip = Zip::from_bytes(bytes.clone()).unwrap();
        assert_eq!(zip.read("a.txt").unwrap(), b"hello hello hello");
        // Flip the stored CRC in the central directory.
        let cd = bytes.windows(4).position(|w| w == CENTRAL_DIRECTORY_HEADER.to_le_bytes()).unwrap();
        bytes[cd + 16] ^= 0xFF;
        assert!(Zip::from_bytes(bytes).unwrap().read("a.txt").is_err());
    }
}
