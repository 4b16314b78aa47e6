"""The event log: what services append in their transaction, what readers may see of it, the
bus that wakes them when it grows, and the one definition of every event type."""
