//! The binary API's framing: words and sentences as bytes.
//!
//! A word is a length prefix and that many bytes; a sentence is words up to an empty word. The
//! prefix takes one to five bytes (MikroTik's API manual, "API words"):
//!
//! | length               | prefix                          |
//! |----------------------|---------------------------------|
//! | `0x00..=0x7F`        | 1 byte, the length              |
//! | `0x80..=0x3FFF`      | 2 bytes, `len \| 0x8000`        |
//! | `0x4000..=0x1FFFFF`  | 3 bytes, `len \| 0xC0_0000`     |
//! | `0x20_0000..=0xFFF_FFFF` | 4 bytes, `len \| 0xE000_0000` |
//! | `0x1000_0000..`      | `0xF0`, then 4 bytes            |
//!
//! A first byte `0xF1..=0xFF` is a reserved control byte; nothing sends one, so it is an error.
//!
//! This level knows bytes only: what a word means (`/command`, `=name=value`, `?query`, `.tag=`)
//! is the session's business. The decoder is pure (bytes in, words and a count of bytes
//! consumed out) so the server can feed it from any buffer; [`read_sentence`] and
//! [`write_sentence`] are the blocking forms a client such as `statewall console` uses.

use std::io::{self, Read, Write};

/// A sentence's words (without the terminating empty word).
pub type Words = Vec<Vec<u8>>;

/// Bounds on what one peer may make us hold. A sentence is at most `max_words` words of at most
/// `max_word` bytes, so one connection buffers at most their product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted word, in bytes.
    pub max_word: usize,
    /// Most words in one sentence, the terminating empty word not counted.
    pub max_words: usize,
}

impl Default for Limits {
    /// 64 KiB words (a script source or an `.rsc` line fits), 1024 words a sentence.
    fn default() -> Self {
        Limits {
            max_word: 64 * 1024,
            max_words: 1024,
        }
    }
}

/// What was wrong with a frame, or with the stream under it.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("reserved control byte 0x{0:02X} where a word length was expected")]
    ReservedControlByte(u8),
    #[error("word of {len} bytes is longer than the limit of {max}")]
    WordTooLong { len: usize, max: usize },
    #[error("sentence has more than {max} words")]
    TooManyWords { max: usize },
    /// The peer closed the stream between sentences (a clean end, for [`read_sentence`]).
    #[error("connection closed")]
    Closed,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Appends the length prefix for a word of `len` bytes.
///
/// # Panics
/// If `len` does not fit in 32 bits: the wire format cannot express it.
pub fn encode_len(len: usize, out: &mut Vec<u8>) {
    let n = u32::try_from(len).expect("an API word is at most u32::MAX bytes");
    match n {
        0..=0x7F => out.push(n as u8),
        0x80..=0x3FFF => out.extend_from_slice(&((n | 0x8000) as u16).to_be_bytes()),
        0x4000..=0x1F_FFFF => out.extend_from_slice(&(n | 0xC0_0000).to_be_bytes()[1..]),
        0x20_0000..=0xFFF_FFFF => out.extend_from_slice(&(n | 0xE000_0000).to_be_bytes()),
        _ => {
            out.push(0xF0);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

/// Appends `words` and the empty word that ends the sentence.
pub fn encode_sentence<W: AsRef<[u8]>>(words: &[W], out: &mut Vec<u8>) {
    for word in words {
        let word = word.as_ref();
        encode_len(word.len(), out);
        out.extend_from_slice(word);
    }
    out.push(0);
}

/// How many bytes the prefix starting with `first` takes, or the reserved byte as an error.
fn prefix_len(first: u8) -> Result<usize, WireError> {
    match first {
        0x00..=0x7F => Ok(1),
        0x80..=0xBF => Ok(2),
        0xC0..=0xDF => Ok(3),
        0xE0..=0xEF => Ok(4),
        0xF0 => Ok(5),
        _ => Err(WireError::ReservedControlByte(first)),
    }
}

/// The length a complete prefix encodes (`prefix.len()` from [`prefix_len`]).
fn prefix_value(prefix: &[u8]) -> usize {
    let masked = |first: u8, mask: u8| usize::from(first & mask);
    let tail = prefix[1..]
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    match prefix.len() {
        1 => usize::from(prefix[0]),
        2 => (masked(prefix[0], 0x3F) << 8) | tail,
        3 => (masked(prefix[0], 0x1F) << 16) | tail,
        4 => (masked(prefix[0], 0x0F) << 24) | tail,
        _ => tail,
    }
}

/// Decodes one sentence from the front of `buf`.
///
/// `Ok(None)`: `buf` holds only part of a sentence so far; call again with more bytes. `Ok(Some((
/// words, consumed)))`: the sentence's words (without the terminating empty word) and how many bytes
/// of `buf` it took. An empty sentence (a lone `0x00`) comes back as no words; RouterOS ignores
/// those. Errors are final for the stream: after one there is no telling where the next word starts.
///
/// Bounds: a word longer than `limits.max_word` or a sentence of more than `limits.max_words` is an
/// error as soon as its prefix is seen, before its bytes arrive.
pub fn decode_sentence(buf: &[u8], limits: &Limits) -> Result<Option<(Words, usize)>, WireError> {
    let mut words = Vec::new();
    let mut pos = 0;
    loop {
        let Some(&first) = buf.get(pos) else {
            return Ok(None);
        };
        let plen = prefix_len(first)?;
        let Some(prefix) = buf.get(pos..pos + plen) else {
            return Ok(None);
        };
        let len = prefix_value(prefix);
        pos += plen;
        if len == 0 {
            return Ok(Some((words, pos)));
        }
        if len > limits.max_word {
            return Err(WireError::WordTooLong {
                len,
                max: limits.max_word,
            });
        }
        if words.len() == limits.max_words {
            return Err(WireError::TooManyWords {
                max: limits.max_words,
            });
        }
        let Some(word) = buf.get(pos..pos + len) else {
            return Ok(None);
        };
        words.push(word.to_vec());
        pos += len;
    }
}

/// Reads the next non-empty sentence, blocking. [`WireError::Closed`] if the stream ends cleanly
/// between sentences; an end inside one is an [`io::ErrorKind::UnexpectedEof`].
pub fn read_sentence<R: Read>(r: &mut R, limits: &Limits) -> Result<Words, WireError> {
    loop {
        let mut words = Vec::new();
        loop {
            let mut prefix = [0u8; 5];
            if let Err(e) = r.read_exact(&mut prefix[..1]) {
                if words.is_empty() && e.kind() == io::ErrorKind::UnexpectedEof {
                    return Err(WireError::Closed);
                }
                return Err(e.into());
            }
            let plen = prefix_len(prefix[0])?;
            r.read_exact(&mut prefix[1..plen])?;
            let len = prefix_value(&prefix[..plen]);
            if len == 0 {
                break;
            }
            if len > limits.max_word {
                return Err(WireError::WordTooLong {
                    len,
                    max: limits.max_word,
                });
            }
            if words.len() == limits.max_words {
                return Err(WireError::TooManyWords {
                    max: limits.max_words,
                });
            }
            let mut word = vec![0u8; len];
            r.read_exact(&mut word)?;
            words.push(word);
        }
        if !words.is_empty() {
            return Ok(words);
        }
    }
}

/// Writes one sentence and flushes, blocking.
pub fn write_sentence<W: Write, X: AsRef<[u8]>>(w: &mut W, words: &[X]) -> io::Result<()> {
    let mut out = Vec::new();
    encode_sentence(words, &mut out);
    w.write_all(&out)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len_bytes(len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        encode_len(len, &mut out);
        out
    }

    #[test]
    fn all_five_length_forms_at_their_edges() {
        let cases: &[(usize, &[u8])] = &[
            (0, &[0x00]),
            (0x7F, &[0x7F]),
            (0x80, &[0x80, 0x80]),
            (0x3FFF, &[0xBF, 0xFF]),
            (0x4000, &[0xC0, 0x40, 0x00]),
            (0x1F_FFFF, &[0xDF, 0xFF, 0xFF]),
            (0x20_0000, &[0xE0, 0x20, 0x00, 0x00]),
            (0xFFF_FFFF, &[0xEF, 0xFF, 0xFF, 0xFF]),
            (0x1000_0000, &[0xF0, 0x10, 0x00, 0x00, 0x00]),
            (0xFFFF_FFFF, &[0xF0, 0xFF, 0xFF, 0xFF, 0xFF]),
        ];
        for &(len, bytes) in cases {
            assert_eq!(len_bytes(len), bytes, "encode {len:#x}");
            assert_eq!(prefix_len(bytes[0]).unwrap(), bytes.len(), "{len:#x}");
            assert_eq!(prefix_value(bytes), len, "decode {len:#x}");
        }
    }

    #[test]
    fn a_login_sentence_in_literal_bytes() {
        let mut out = Vec::new();
        encode_sentence(&["/login", "=name=admin", "=password="], &mut out);
        let expected: &[u8] = b"\x06/login\x0b=name=admin\x0a=password=\x00";
        assert_eq!(out, expected);
        let (words, used) = decode_sentence(&out, &Limits::default()).unwrap().unwrap();
        assert_eq!(used, out.len());
        assert_eq!(
            words,
            vec![
                b"/login".to_vec(),
                b"=name=admin".to_vec(),
                b"=password=".to_vec()
            ]
        );
    }

    #[test]
    fn round_trip_with_long_words_and_trailing_bytes() {
        let long = vec![b'x'; 0x4001];
        let words = vec![b"!re".to_vec(), vec![b'y'; 0x80], long];
        let mut out = Vec::new();
        encode_sentence(&words, &mut out);
        let whole = out.len();
        out.extend_from_slice(b"\x05!done\x00");
        let limits = Limits {
            max_word: 0x5000,
            max_words: 8,
        };
        let (got, used) = decode_sentence(&out, &limits).unwrap().unwrap();
        assert_eq!((got, used), (words, whole));
        let (next, used2) = decode_sentence(&out[whole..], &limits).unwrap().unwrap();
        assert_eq!(next, vec![b"!done".to_vec()]);
        assert_eq!(whole + used2, out.len());
    }

    #[test]
    fn every_truncation_needs_more_bytes() {
        let mut out = Vec::new();
        encode_sentence(
            &[b"/ip/firewall/connection/print".to_vec(), vec![b'z'; 200]],
            &mut out,
        );
        for cut in 0..out.len() {
            assert!(
                decode_sentence(&out[..cut], &Limits::default())
                    .unwrap()
                    .is_none(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_empty_sentence_is_no_words() {
        assert_eq!(
            decode_sentence(&[0], &Limits::default()).unwrap(),
            Some((vec![], 1))
        );
    }

    #[test]
    fn reserved_control_bytes_are_refused() {
        for b in 0xF1..=0xFFu8 {
            let err =
                decode_sentence(&[0x03, b'a', b'b', b'c', b], &Limits::default()).unwrap_err();
            assert!(
                matches!(err, WireError::ReservedControlByte(x) if x == b),
                "{b:#x}"
            );
        }
    }

    #[test]
    fn an_oversized_word_is_refused_on_its_prefix() {
        let limits = Limits {
            max_word: 16,
            max_words: 4,
        };
        // A 4 GiB announcement: refused without waiting for (or allocating) the bytes.
        let err = decode_sentence(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF], &limits).unwrap_err();
        assert!(matches!(
            err,
            WireError::WordTooLong {
                len: 0xFFFF_FFFF,
                max: 16
            }
        ));
        let err = decode_sentence(&[17], &limits).unwrap_err();
        assert!(matches!(err, WireError::WordTooLong { len: 17, .. }));
        assert!(decode_sentence(&[16], &limits).unwrap().is_none());
    }

    #[test]
    fn too_many_words_are_refused() {
        let limits = Limits {
            max_word: 16,
            max_words: 2,
        };
        let mut out = Vec::new();
        encode_sentence(&["a", "b"], &mut out);
        assert!(decode_sentence(&out, &limits).unwrap().is_some());
        out.clear();
        encode_sentence(&["a", "b", "c"], &mut out);
        let err = decode_sentence(&out, &limits).unwrap_err();
        assert!(matches!(err, WireError::TooManyWords { max: 2 }));
    }

    #[test]
    fn blocking_read_and_write() {
        let mut stream = Vec::new();
        write_sentence(&mut stream, &["/login", "=name=admin"]).unwrap();
        stream.push(0); // an empty sentence between them is skipped
        write_sentence(&mut stream, &[b"/quit".as_slice()]).unwrap();
        let mut r = io::Cursor::new(stream);
        let limits = Limits::default();
        assert_eq!(
            read_sentence(&mut r, &limits).unwrap(),
            vec![b"/login".to_vec(), b"=name=admin".to_vec()]
        );
        assert_eq!(
            read_sentence(&mut r, &limits).unwrap(),
            vec![b"/quit".to_vec()]
        );
        assert!(matches!(
            read_sentence(&mut r, &limits),
            Err(WireError::Closed)
        ));
    }

    #[test]
    fn blocking_read_errors() {
        let limits = Limits {
            max_word: 4,
            max_words: 4,
        };
        let mut r = io::Cursor::new(b"\x03ab".to_vec());
        match read_sentence(&mut r, &limits) {
            Err(WireError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof),
            other => panic!("{other:?}"),
        }
        let mut r = io::Cursor::new(b"\xF8".to_vec());
        assert!(matches!(
            read_sentence(&mut r, &limits),
            Err(WireError::ReservedControlByte(0xF8))
        ));
        let mut r = io::Cursor::new(b"\x05abcde\x00".to_vec());
        assert!(matches!(
            read_sentence(&mut r, &limits),
            Err(WireError::WordTooLong { len: 5, max: 4 })
        ));
    }
}
