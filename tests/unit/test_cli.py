"""The command line's table of commands: each runs with its own module imported alone, and says what it always said."""
from __future__ import annotations

import argparse

import pytest

from layers.__main__ import COMMAND_MODULES, main, make_parser


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_each_command_is_registered_by_its_module_alone_with_the_same_help():
    every = _commands(make_parser())
    assert list(every) == list(COMMAND_MODULES)
    for name in COMMAND_MODULES:
        alone = _commands(make_parser(name))
        assert list(alone) == [name]
        assert alone[name].format_help() == every[name].format_help()


def test_an_argument_no_parser_knows_is_reported_with_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["build", "--bogus"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "{build,export,import-towns,present,refresh-osm}" in err
    assert err.endswith("python -m layers: error: unrecognized arguments: --bogus\n")
