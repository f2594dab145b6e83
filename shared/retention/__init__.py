"""Retention Engine: customer profiles, segments, journeys and honest email reporting.

The package is the Lambda layer: domain rules are plain functions over plain data
(``profiles``, ``segments`` …), AWS access lives only under ``store``, and handlers in
``functions/`` stay thin.
"""

__version__ = "0.1.0"
