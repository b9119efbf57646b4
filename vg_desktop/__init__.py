"""Vanishing Gradient Lab: watch the vanishing gradient problem happen, and each cure fix it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vg-desktop")
except PackageNotFoundError:  # a source checkout or a frozen bundle without metadata
    __version__ = "0.1.0"

APP_NAME = "Vanishing Gradient Lab"
ORG_NAME = "Vanishing Gradient Lab"
