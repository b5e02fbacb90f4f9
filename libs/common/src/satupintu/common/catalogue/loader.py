"""Loading the catalogue from YAML, with errors that name the file and the field."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from satupintu.common.catalogue.models import Catalogue

DEFAULT_PATH = Path(__file__).with_name("services.yaml")


class CatalogueError(ValueError):
    """The catalogue file is missing, not YAML, or does not validate; the message names file and field."""


def parse_catalogue(path: Path) -> Catalogue:
    """Read and validate the catalogue at ``path``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as unreadable:
        raise CatalogueError(f"{path}: {unreadable}") from unreadable
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as invalid:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}" for error in invalid.errors()
        )
        raise CatalogueError(f"{path}: {problems}") from invalid


@cache
def load_catalogue(path: Path = DEFAULT_PATH) -> Catalogue:
    """The catalogue at ``path`` (the shipped one by default), parsed once per process."""
    return parse_catalogue(path)
