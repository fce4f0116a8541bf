"""How ``hasslemap sql`` shows a value: NULL told apart from text, at the top and nested."""

from __future__ import annotations

from flows.sql_result import cell


def test_null_is_shown_dim_and_apart_from_empty_text():
    null = cell(None)
    assert (null.plain, null.style) == ("NULL", "dim")
    assert cell("").plain == "" and cell("NULL").style == ""


def test_null_inside_lists_and_maps_is_shown_as_at_the_top():
    value = cell(["a", None, "NULL", 2])
    assert value.plain == "['a', NULL, 'NULL', 2]"
    assert [value.plain[span.start : span.end] for span in value.spans] == ["NULL"]
    assert cell({"review": None, "ticket": [None]}).plain == "{'review': NULL, 'ticket': [NULL]}"
