"""The domain tests need no fixtures beyond their helper modules."""
