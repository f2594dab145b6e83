"""Reports: rates from the counters, lift against the hold-out, retention rate, warnings, charts."""
