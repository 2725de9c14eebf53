"""Helpers the commands share: finding the configuration, checking paths."""

from __future__ import annotations

import argparse
from pathlib import Path

from pvcheck.config import Config, find_config, load_config
from pvcheck.errors import PvcheckError


def config_for(args: argparse.Namespace, path: str) -> Config:
    """``--config FILE``, else the pvcheck.toml/pyproject.toml governing ``path``, else defaults."""
    if getattr(args, "config", None):
        return load_config(args.config)
    folder = Path(path)
    if not folder.exists():
        raise PvcheckError(f"no such file or folder: {path}", hint="check the path")
    return load_config(find_config(folder if folder.is_dir() else folder.parent))
