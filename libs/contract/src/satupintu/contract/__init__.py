"""The event contract between services: topics, the CloudEvents envelope and the versioned payloads."""
