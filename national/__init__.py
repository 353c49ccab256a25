"""The national service: where every assessment arrives (see national/README or the main README)."""
