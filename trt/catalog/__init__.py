"""The model registry: spec types, building and checking registry files, parameters, prices.

Pure: no network, no database. The runtime loads only the built `registry/registry.json`.
"""

from trt.catalog.build import build_registry, is_stale, validate_registry
from trt.catalog.params import parse_params
from trt.catalog.pricing import Pricing, credits_for, stars_for
from trt.catalog.registry import Registry, resolve_registry_dir
from trt.catalog.spec import Category, Family, InputSpec, InputType, ModelSpec, OutputKind

__all__ = [
    "Category",
    "Family",
    "InputSpec",
    "InputType",
    "ModelSpec",
    "OutputKind",
    "Pricing",
    "Registry",
    "build_registry",
    "credits_for",
    "is_stale",
    "parse_params",
    "resolve_registry_dir",
    "stars_for",
    "validate_registry",
]
