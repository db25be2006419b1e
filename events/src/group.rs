//! The bytes of one group commit: every record a group wrote (its events, and
//! the receipt of each idempotency key it used) in one checksummed frame.
//!
//! The store keeps one such frame per sled value (see [`store`](crate::store));
//! an event log file of an earlier ragtrail was these frames end to end (see
//! [`legacy`](crate::legacy)). Layout, integers little-endian:
//!
//! ```text
//! [magic "RTL1"][body_len: u32][crc32(body): u32][body]
//! body = [count: u32] then count × [key_len: u32][key][value_len: u32][value]
//! ```
//!
//! Records are keyed as in [`keys`](crate::keys). The checksum tells damage
//! from a whole frame; tampering is caught by the hash chain (`verify`).

/// One record: a key and its value.
pub(crate) type Record = (Vec<u8>, Vec<u8>);

pub(crate) const MAGIC: &[u8; 4] = b"RTL1";
/// Bytes before the body: magic, length, checksum.
pub(crate) const HEAD: usize = 12;
/// No frame is larger than this.
pub(crate) const LIMIT: usize = 1 << 30;

/// Where a record's value lies: `offset` bytes from the start of its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) offset: u32,
    pub(crate) len: u32,
}

/// Bytes a frame of these records takes.
pub(crate) fn size(records: &[Record]) -> usize {
    HEAD + 4
        + records
            .iter()
            .map(|(k, v)| 8 + k.len() + v.len())
            .sum::<usize>()
}

/// One frame's bytes, and where each value lies in it.
pub(crate) fn encode(records: &[Record]) -> (Vec<u8>, Vec<Span>) {
    let total = size(records);
    let mut out = Vec::with_capacity(total);
    let mut spans = Vec::with_capacity(records.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&((total - HEAD) as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(records.len() as u32).to_le_bytes());
    for (k, v) in records {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(k);
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        spans.push(Span {
            offset: out.len() as u32,
            len: v.len() as u32,
        });
        out.extend_from_slice(v);
    }
    let crc = crc32fast::hash(&out[HEAD..]);
    out[8..12].copy_from_slice(&crc.to_le_bytes());
    (out, spans)
}

/// Cuts a group's records into runs for sled values of about `cap` bytes:
/// a new value starts only at an event, so each value but a group's first
/// starts with one (an idempotency receipt stays with the events before it).
pub(crate) fn split(records: &[Record], cap: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = HEAD + 4;
    for (i, (k, v)) in records.iter().enumerate() {
        let size = 8 + k.len() + v.len();
        if i > start && bytes + size > cap && k.first() == Some(&crate::keys::EVENT) {
            out.push(start..i);
            start = i;
            bytes = HEAD + 4;
        }
        bytes += size;
    }
    if start < records.len() {
        out.push(start..records.len());
    }
    out
}

/// The position of the first event among `records`.
pub(crate) fn first_position(records: &[Record]) -> Option<u64> {
    records
        .iter()
        .find_map(|(k, _)| crate::keys::position_of(k))
}

/// The value that starts at `offset` in a frame: its length is the u32 just before it.
pub(crate) fn value_at(frame: &[u8], offset: usize) -> Option<&[u8]> {
    let len = u32_at(frame, offset.checked_sub(4)?)?;
    frame.get(offset..offset.checked_add(len)?)
}

pub(crate) fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b) as usize)
}

/// A record found in a frame: key, value, and where the value lies in the frame.
pub(crate) type Found<'a> = (&'a [u8], &'a [u8], Span);

/// The records of a frame body (the bytes after [`HEAD`]), if it is well formed.
pub(crate) fn records_of(body: &[u8]) -> Option<Vec<Found<'_>>> {
    let count = u32_at(body, 0)?;
    let mut out = Vec::with_capacity(count.min(body.len() / 8));
    let mut p = 4usize;
    for _ in 0..count {
        let kl = u32_at(body, p)?;
        let k = body.get(p + 4..(p + 4).checked_add(kl)?)?;
        p += 4 + kl;
        let vl = u32_at(body, p)?;
        let v = body.get(p + 4..(p + 4).checked_add(vl)?)?;
        let offset = u32::try_from(HEAD + p + 4).ok()?;
        out.push((
            k,
            v,
            Span {
                offset,
                len: vl as u32,
            },
        ));
        p += 4 + vl;
    }
    (p == body.len()).then_some(out)
}

/// A frame as read back.
pub(crate) struct Read<'a> {
    pub(crate) records: Vec<Found<'a>>,
    /// False when the body does not match its checksum (the records were still readable).
    pub(crate) checksum_ok: bool,
}

/// Reads a whole frame, or says why it cannot be read.
pub(crate) fn read(frame: &[u8]) -> Result<Read<'_>, String> {
    if frame.get(..4) != Some(&MAGIC[..]) {
        return Err("it does not start with a frame's magic bytes".into());
    }
    let (Some(len), Some(crc)) = (u32_at(frame, 4), u32_at(frame, 8)) else {
        return Err("its header is cut short".into());
    };
    if len > LIMIT || HEAD + len != frame.len() {
        return Err(format!(
            "its header says {len} bytes of records, but {} follow",
            frame.len().saturating_sub(HEAD)
        ));
    }
    let body = &frame[HEAD..];
    let records = records_of(body).ok_or("its records are malformed")?;
    Ok(Read {
        records,
        checksum_ok: crc32fast::hash(body) == crc as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(n: u8) -> Vec<Record> {
        (0..n)
            .map(|i| (vec![b'e', i], vec![i; i as usize]))
            .collect()
    }

    #[test]
    fn frames_round_trip_and_spans_point_at_values() {
        for n in [0, 1, 3, 40] {
            let rs = records(n);
            let (bytes, spans) = encode(&rs);
            assert_eq!(bytes.len(), size(&rs));
            let read = read(&bytes).unwrap();
            assert!(read.checksum_ok);
            assert_eq!(read.records.len(), n as usize);
            for ((k, v, span), ((rk, rv), s)) in read.records.iter().zip(rs.iter().zip(&spans)) {
                assert_eq!((*k, *v), (&rk[..], &rv[..]));
                assert_eq!(span, s);
                let at = s.offset as usize;
                assert_eq!(&bytes[at..at + s.len as usize], &rv[..]);
            }
        }
    }

    #[test]
    fn any_changed_byte_is_unreadable_or_fails_its_checksum() {
        let (bytes, _) = encode(&records(5));
        for at in 0..bytes.len() {
            let mut b = bytes.clone();
            b[at] ^= 0x21;
            match read(&b) {
                Err(_) => {}
                Ok(r) => assert!(!r.checksum_ok, "byte {at}"),
            }
        }
        for cut in 0..bytes.len() {
            assert!(read(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
