"""Benchmark tables are inserted into cards between named markers, never retyped."""

import pytest

from macm.hub_cards.benchmark_tables import insert_tables, main

DOC = "intro\n<!-- table:a -->\nold figures\n<!-- /table:a -->\nmiddle\n<!-- table:b -->\n<!-- /table:b -->\nend\n"


def test_named_blocks_are_replaced_and_the_rest_is_kept():
    out = insert_tables(DOC, {"a": "| x |\n| --- |\n| 1 |\n", "b": "| y |"})
    assert out == (
        "intro\n<!-- table:a -->\n| x |\n| --- |\n| 1 |\n<!-- /table:a -->\nmiddle\n"
        "<!-- table:b -->\n| y |\n<!-- /table:b -->\nend\n"
    )
    assert insert_tables(out, {"a": "| x |\n| --- |\n| 1 |"}) == out  # idempotent


def test_a_missing_block_is_named(tmp_path, capsys):
    with pytest.raises(ValueError, match="table:c"):
        insert_tables(DOC, {"c": "| z |"})
    doc, table = tmp_path / "card.md", tmp_path / "table.md"
    doc.write_text(DOC)
    table.write_text("| z |\n")
    assert main([str(doc), "--table", f"c={table}"]) == 2
    assert "table:c" in capsys.readouterr().err and doc.read_text() == DOC
    assert main([str(doc), "--table", f"a={table}"]) == 0 and "| z |" in doc.read_text()
