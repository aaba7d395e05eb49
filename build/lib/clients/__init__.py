"""What business systems use: the Python SDK and a sample business system (HTTP only)."""
