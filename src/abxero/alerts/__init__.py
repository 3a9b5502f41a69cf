"""Alerts: tell an organisation's people about problems before they find them.

``domain/alerts.py`` decides which conditions hold; ``evaluate.py`` turns them into alert
occurrences and deliveries in the ledger; ``deliver.py`` sends each delivery once, by email
(``mail.py``) or signed webhook (``webhook.py``); ``config.py`` holds who is told;
``reconciliation.py`` is how the reconciliation check reports a gap.
"""
