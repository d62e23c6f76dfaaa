"""OTLP ingest: pure decoding, the write pipeline, and the gRPC and HTTP receivers."""
