//! Sizes for people, in one place: binary units, one decimal.

use std::fmt;

/// Bytes in binary units, for people: `512 B`, `2.7 MiB`.
///
/// ```
/// assert_eq!(docr::HumanBytes(2_803_255).to_string(), "2.7 MiB");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanBytes(pub u64);
impl fmt::Display for HumanBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
        if self.0 < 1024 {
            return write!(f, "{} B", self.0);
        }
        let mut value = self.0 as f64 / 1024.0;
        let mut unit = 0;
        while value >= 1024.0 && unit < UNITS.len() - 1 {
            value /= 1024.0;
            unit += 1;
        }
        write!(f, "{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::HumanBytes;

    #[test]
    fn bytes_read_well() {
        let text: Vec<String> = [0, 1023, 1024, 2_803_255, 5 << 30]
            .map(|b| HumanBytes(b).to_string())
            .into();
        assert_eq!(text, ["0 B", "1023 B", "1.0 KiB", "2.7 MiB", "5.0 GiB"]);
    }
}
