"""The HTTP API: query endpoints, health, and the OTLP/HTTP route, on one FastAPI app."""
