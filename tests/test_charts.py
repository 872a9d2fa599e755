"""The chart registry (compiler/render/__init__.py `CHARTS`): each chart emits only the kinds it declares."""

from __future__ import annotations

import cdk8s
import pytest

import compiler.render as registry  # first: settles JSII_NODE before cdk8s starts
from compiler.driver import Workspace, validate_all
from compiler.merge import MergedSystem
from compiler.pins import read_lock
from compiler.render.context import RenderContext
from conftest import ROOT


@pytest.fixture(scope="module")
def systems() -> dict[tuple[str, str], MergedSystem]:
    _, merged = validate_all(Workspace(ROOT))
    return {(s.env, s.name): s for s in merged}


def _kinds(objects: list[dict]) -> set[tuple[str, str]]:
    return {(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in objects}


def test_every_chart_emits_only_the_kinds_it_declares(systems: dict[tuple[str, str], MergedSystem]) -> None:
    lock = read_lock(ROOT)
    emitted_anywhere = set()
    for key, system in systems.items():
        ctx = RenderContext(system, lock.get(key))
        app = cdk8s.App()
        for chart in registry.CHARTS:
            if chart.applies(ctx):
                emitted = _kinds(chart(app, ctx).to_json())
                assert emitted - set(chart.KINDS) == set(), (key, chart.__name__)
                emitted_anywhere |= emitted
    assert len(emitted_anywhere) > 20  # the examples render most of what the charts may
