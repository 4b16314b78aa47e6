"""Service actions: every write goes through here, one transaction per public function."""
