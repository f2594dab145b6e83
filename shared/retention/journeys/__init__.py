"""Journeys: definitions (journeys.yaml), rules, pure decisions and the dispatcher that applies them."""
