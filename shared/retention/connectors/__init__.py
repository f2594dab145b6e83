"""Shop connectors: platform webhooks (Shopify, WooCommerce, a generic signed one) to shop events.

``signature`` verifies each platform's request signature over the raw body; ``shopify``,
``woocommerce`` and ``generic`` map a verified payload to the engine's shop events
(models/events.py); ``webhook`` ties them together for functions/shop_webhook. Nothing here
publishes an event that was not verified and validated first.
"""
