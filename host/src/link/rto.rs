//! Retransmission timeout estimation.

use std::time::Duration;

/// Adaptive retransmission timeout after Jacobson/Karels (RFC 6298).
#[derive(Debug, Clone, Copy)]
pub struct Rto {
    srtt: Option<f64>,
    rttvar: f64,
    rto: f64,
    min: f64,
    max: f64,
}

impl Rto {
    /// Starts at 1 s clamped to `[min, max]`.
    pub fn new(min: Duration, max: Duration) -> Rto {
        let (min, max) = (min.as_secs_f64(), max.as_secs_f64());
        Rto {
            srtt: None,
            rttvar: 0.0,
            rto: 1.0f64.clamp(min, max),
            min,
            max,
        }
    }
    /// Adds a round-trip sample (never of a retransmitted frame: Karn's rule).
    pub fn sample(&mut self, rtt: Duration) {
        let r = rtt.as_secs_f64();
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2.0;
            }
            Some(s) => {
                self.rttvar = 0.75 * self.rttvar + 0.25 * (s - r).abs();
                self.srtt = Some(0.875 * s + 0.125 * r);
            }
        }
        let s = self.srtt.unwrap_or(r);
        self.rto = (s + (4.0 * self.rttvar).max(0.001)).clamp(self.min, self.max);
    }
    /// Doubles the timeout after an expiry.
    pub fn backoff(&mut self) {
        self.rto = (self.rto * 2.0).clamp(self.min, self.max);
    }
    /// The current timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.rto)
    }
    /// Smoothed round-trip time, s.
    pub fn srtt(&self) -> f64 {
        self.srtt.unwrap_or(0.0)
    }
}
