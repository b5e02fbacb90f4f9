"""``make jaeger``: the pinned Jaeger module is built once per version into the user's cache and reused after."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from satupintu.devtools.localstack import jaeger

pytestmark = pytest.mark.unit


def test_the_pinned_module_is_jaeger_v1_75_0_with_its_checksum() -> None:
    go_sum = (jaeger.module_dir() / "go.sum").read_text()

    assert jaeger.jaeger_version() == "v1.75.0"
    assert "github.com/jaegertracing/jaeger v1.75.0 h1:" in go_sum
    assert "tool github.com/jaegertracing/jaeger/cmd/jaeger" in (jaeger.module_dir() / "go.mod").read_text()


def test_a_binary_built_before_is_started_without_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATUPINTU_CACHE_DIR", str(tmp_path))
    built = tmp_path / "jaeger-v1.75.0" / "jaeger"
    built.parent.mkdir()
    built.write_text("#!/bin/sh\n")
    built.chmod(0o755)

    with mock.patch.object(jaeger.subprocess, "run", side_effect=AssertionError("built again")) as build:
        binary = jaeger.ensure_binary()

    assert binary == built
    build.assert_not_called()


def test_the_first_run_builds_the_pinned_package_into_the_versions_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SATUPINTU_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(jaeger.shutil, "which", lambda name: f"/usr/bin/{name}")

    def go_build(command: list[str], **options: object) -> mock.Mock:
        Path(command[command.index("-o") + 1]).write_text("#!/bin/sh\n")
        return mock.Mock(returncode=0)

    with mock.patch.object(jaeger.subprocess, "run", side_effect=go_build) as build:
        binary = jaeger.ensure_binary()

    [call] = build.call_args_list
    assert call.args[0][:3] == ["go", "build", "-trimpath"]
    assert call.args[0][-1] == "github.com/jaegertracing/jaeger/cmd/jaeger"
    assert call.kwargs["cwd"] == jaeger.module_dir()
    assert binary == tmp_path / "jaeger-v1.75.0" / "jaeger"
    assert binary.is_file()
