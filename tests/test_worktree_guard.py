"""The working-tree guard notices a file a test writes, changes or removes, and nothing else."""

from worktree_guard import changed_files, snapshot_tree


def test_snapshot_leaves_out_tool_folders(tmp_path):
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "report.html").write_text("x")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "m.pyc").write_text("x")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "lib.py").write_text("x")
    assert set(snapshot_tree(tmp_path)) == {"var/report.html"}


def test_changed_files_names_added_removed_and_changed(tmp_path):
    (tmp_path / "kept.txt").write_text("same")
    (tmp_path / "edited.txt").write_text("old")
    (tmp_path / "gone.txt").write_text("x")
    before = snapshot_tree(tmp_path)
    (tmp_path / "edited.txt").write_text("a longer text")
    (tmp_path / "gone.txt").unlink()
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "new.duckdb").write_text("x")
    assert changed_files(before, snapshot_tree(tmp_path)) == [
        "added var/new.duckdb",
        "removed gone.txt",
        "changed edited.txt",
    ]
    assert changed_files(before, before) == []
