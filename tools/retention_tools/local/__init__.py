"""Running the engine without an AWS account: moto's server in-process, resources from template.yaml.

Development tooling only; nothing here is imported by a Lambda handler, and moto is
imported lazily so the layer never needs it.
"""
