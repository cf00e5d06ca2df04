"""Compliance: the landing zone's own Config Validator constraints evaluated natively against
Cloud Asset Inventory assets (see ``registry`` for the contract every kind implements)."""
