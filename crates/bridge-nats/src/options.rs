//! [`Options`]: heartbeats, shared by both ends.

use std::time::Duration;

/// Heartbeat settings. A forwarder sends a heartbeat every
/// `heartbeat_interval` (whether or not values flow); a receiver that
/// hears nothing from the forwarder it follows for `heartbeat_timeout`
/// reports it lost. The timeout should be several intervals, and longer
/// than a server restart you want to ride through.
///
/// ```
/// use std::time::Duration;
///
/// let o = bridge_nats::Options::default()
///     .heartbeat_interval(Duration::from_millis(250))
///     .heartbeat_timeout(Duration::from_secs(2));
/// assert_eq!(o.interval(), Duration::from_millis(250));
/// assert_eq!(o.timeout(), Duration::from_secs(2));
/// assert_eq!(bridge_nats::Options::default().timeout(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    interval: Duration,
    timeout: Duration,
}

impl Default for Options {
    /// A heartbeat every second; a forwarder silent for 5 s is lost.
    fn default() -> Self {
        Options {
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
        }
    }
}

impl Options {
    /// How often a forwarder sends a heartbeat.
    ///
    /// # Panics
    ///
    /// If `every` is zero.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let o = bridge_nats::Options::default().heartbeat_interval(Duration::from_millis(100));
    /// assert_eq!(o.interval(), Duration::from_millis(100));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn heartbeat_interval(mut self, every: Duration) -> Self {
        assert!(!every.is_zero(), "bridge-nats: zero heartbeat interval");
        self.interval = every;
        self
    }

    /// How long a receiver waits without any frame from the forwarder it
    /// follows before it reports the forwarder lost.
    ///
    /// # Panics
    ///
    /// If `after` is zero.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let o = bridge_nats::Options::default().heartbeat_timeout(Duration::from_secs(1));
    /// assert_eq!(o.timeout(), Duration::from_secs(1));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn heartbeat_timeout(mut self, after: Duration) -> Self {
        assert!(!after.is_zero(), "bridge-nats: zero heartbeat timeout");
        self.timeout = after;
        self
    }

    /// The heartbeat interval.
    ///
    /// ```
    /// assert_eq!(bridge_nats::Options::default().interval(), std::time::Duration::from_secs(1));
    /// ```
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The heartbeat timeout.
    ///
    /// ```
    /// assert_eq!(bridge_nats::Options::default().timeout(), std::time::Duration::from_secs(5));
    /// ```
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}
