"""The Lambda's settings follow the ingester's declaration shape (the Lambda zip cannot import the ingester)."""

from __future__ import annotations

import dataclasses

from transform import settings as transform_settings

import ingester.config
import ingester.config_declare


def test_every_lambda_setting_is_declared() -> None:
    fields = dataclasses.fields(transform_settings.Settings)
    envs = [transform_settings.declaration(f).env for f in fields]
    assert len(envs) == len(set(envs)) == 7
    assert all(transform_settings.declaration(f).help.strip() for f in fields)


def test_both_deployables_declare_settings_in_the_same_shape() -> None:
    lambda_shape = {f.name: f.type for f in dataclasses.fields(transform_settings.Setting)}
    ingester_shape = {f.name: f.type for f in dataclasses.fields(ingester.config.Setting)}
    assert list(lambda_shape) == ["env", "help", "parse", "check"]
    assert {name: ingester_shape.get(name) for name in lambda_shape if name != "parse"} == {
        name: kind for name, kind in lambda_shape.items() if name != "parse"
    }
    assert "parse" in ingester_shape  # the Lambda parses environment text only; the ingester flags too
    assert transform_settings._SETTING == ingester.config_declare._SETTING
    assert transform_settings.Settings.from_env({}) == transform_settings.Settings()
