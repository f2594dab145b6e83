"""Template authoring: lint, preview, the gallery, sample customers and test sends."""
