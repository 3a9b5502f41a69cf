"""abxero: Amazon Business purchases posted in Xero, exactly once."""

__version__ = "0.1.0"
