"""The unit tier's guard (tests/unit/conftest.py) recognises each kind of integration need, and only those."""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support import commands
from tests.unit.conftest import integration_needs


@dataclass
class FakeItem:
    fixturenames: list[str] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    module: types.ModuleType | None = None

    def iter_markers(self) -> Iterator[Any]:
        return (getattr(pytest.mark, name) for name in self.markers)


def module_with(**names: object) -> types.ModuleType:
    module = types.ModuleType("fake_test_module")
    vars(module).update(names)
    return module


@pytest.mark.parametrize(
    ("item", "needs"),
    [
        (FakeItem(fixturenames=["tmp_path", "moto_endpoint"]), ["fixture moto_endpoint"]),
        (FakeItem(fixturenames=["terraform_copy"]), ["fixture terraform_copy"]),
        (FakeItem(markers=["terraform", "slow"]), ["marker terraform"]),
        (FakeItem(markers=["boot"]), ["marker boot"]),
        (FakeItem(module=module_with(make=commands.make)), ["helper make"]),
        (FakeItem(module=module_with(dry=commands.make_dry_run)), ["helper make_dry_run"]),
    ],
)
def test_each_integration_need_is_named(item: FakeItem, needs: list[str]) -> None:
    assert integration_needs(item) == needs  # type: ignore[arg-type]


def test_a_plain_unit_test_needs_nothing() -> None:
    class EqualsEverything:
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = object.__hash__

    item = FakeItem(fixturenames=["tmp_path", "fake_os"], markers=["slow"], module=module_with(ANY=EqualsEverything()))
    assert integration_needs(item) == []  # type: ignore[arg-type]
