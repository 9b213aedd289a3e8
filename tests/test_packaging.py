"""The installed layout: one top-level name, every subpackage listed, the CLI wired."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_installed():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    package_dir = setuptools["package-dir"]
    listed = set(setuptools["packages"])
    for name, folder in package_dir.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            package = ".".join([name, *relative.parts]) if relative.parts else name
            assert package in listed, f"{init.parent} is not in [tool.setuptools] packages as {package}"
    assert all(name == "macm" or name.startswith("macm.") for name in listed)


def test_cli_lists_its_commands(capsys):
    import pytest

    from macm.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "motion", "caption", "eval"):
        assert command in out


def test_torch_is_pinned_for_the_bootstrap():
    constraints = (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
    assert "torch==2.13.0" in constraints
    assert "torch==2.13.0" in (ROOT / "Makefile").read_text()
