"""The only modules that import Google Cloud or git clients."""
