"""The web app: Sign in with Xero, the setup wizard and the manage page (``create_app``)."""

from abxero.web.app import create_app

__all__ = ["create_app"]
