"""Tracking: opens, clicks, unsubscribes and SES events recorded on send records and counters."""
