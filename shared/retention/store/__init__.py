"""Data access: the only place boto3 talks to DynamoDB. Raises domain exceptions, never ``ClientError``."""
