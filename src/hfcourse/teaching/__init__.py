"""Small teaching models the course trains itself, on the real corpora of the asset workspace."""
