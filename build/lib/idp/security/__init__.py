"""Security primitives: password hashing, encryption at rest, keyed hashes, random tokens."""
