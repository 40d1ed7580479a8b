from __future__ import annotations

import pytest

from ..conftest import Schema
from .world import World, make_app, seed_config_text


@pytest.fixture(scope="module")
def small_tenant():  # type: ignore[no-untyped-def]
    from tdxq.tdx.sandbox import generate_tenant

    return generate_tenant(1, 40)


@pytest.fixture
def world(schema: Schema, small_tenant) -> World:  # type: ignore[no-untyped-def]
    app = make_app(small_tenant.model_copy(deep=True))
    return World(app, schema, seed_config_text(app))
