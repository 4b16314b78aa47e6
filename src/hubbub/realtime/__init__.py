"""Real time: the bus that wakes readers, the feed they read, and the connections that hold them."""
