"""The ``crossbar`` command line: a thin layer over the library, which never imports it."""

from ._main import build_parser as build_parser
from ._main import main as main
