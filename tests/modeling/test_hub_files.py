"""The files shipped for trust_remote_code import only what a Hub runtime has."""

import ast
from pathlib import Path

import pytest

ALLOWED_TOP_LEVEL = {"torch", "transformers", "numpy", "PIL"}
SHIPPED = sorted((Path(__file__).resolve().parents[2] / "modeling_macm").glob("*.py"))


def _stdlib() -> set[str]:
    import sys

    return set(sys.stdlib_module_names)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_file_imports(path):
    allowed = ALLOWED_TOP_LEVEL | _stdlib()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split(".")[0] in allowed, f"{path.name}: import {alias.name}"
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                assert node.module.split(".")[0] in allowed, f"{path.name}: from {node.module} import ..."
            else:
                assert node.level == 1, f"{path.name}: relative imports reach only siblings"
                sibling = (node.module or "").split(".")[0]
                assert not sibling or (path.parent / f"{sibling}.py").exists(), f"{path.name}: from .{sibling}"


def test_every_shipped_file_is_checked():
    assert {p.name for p in SHIPPED} >= {
        "configuration_macm.py",
        "modeling_macm.py",
        "processing_macm.py",
        "msd.py",
        "convert_llava_onevision.py",
    }


def test_the_embedded_checkpoints_remote_code_is_the_package_code():
    """A Hub folder must carry its model code; the embedded checkpoint's files are links to the package's modules
    (one source; pushing, packaging and `trust_remote_code` loading read through them), never a stale fork."""
    embedded = SHIPPED[0].parents[1] / "space" / "synthmotion-tiny"
    copies = sorted(embedded.glob("*.py"))
    assert {p.name for p in copies} == {"configuration_macm.py", "modeling_macm.py", "processing_macm.py", "msd.py"}
    for copy in copies:
        source = SHIPPED[0].parent / copy.name
        assert copy.is_symlink() and copy.resolve() == source.resolve(), f"{copy} is not a link to {source}"
        assert copy.read_bytes() == source.read_bytes()
