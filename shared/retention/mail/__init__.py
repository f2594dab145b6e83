"""Email: marketer templates rendered in Jinja2's sandbox, the 80/20 rule measured, links signed."""
