"""The model registry: spec types, building and checking registry files, parameters, prices.

Pure: no network, no database. The runtime loads only the built `registry/registry.json`.
"""
