"""Developer tools for Retention Engine: the ``retention`` command, the embedded AWS, the demo
and the marketers' authoring tools. Installed for development; never shipped in the Lambda layer."""
