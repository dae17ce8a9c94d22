"""The README's library snippet runs on a fresh clone (embedded terrain) and prints what it says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def _snippet() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## As a library") :]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m is not None, "no python block under '## As a library'"
    return m.group(1)


def test_library_snippet_runs_and_prints_what_the_readme_says(tmp_path, monkeypatch):
    code = _snippet()
    assert 'open_terrain("embedded")' in code  # no files a fresh clone lacks
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    ns: dict[str, object] = {}
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), ns)  # noqa: S102 - the README's own code
    printed = out.getvalue().strip()
    promised = re.search(r"print\(.*\)\s+#\s*(.+)", code)
    assert promised is not None
    assert printed == promised.group(1).strip()
    # names, not bare integers
    _, mode, warnings = printed.rsplit(" ", 2)
    assert mode in {"LOS", "DIFFRACTION", "TROPOSCATTER"} and not warnings.isdigit()
    loss = ns["loss"]
    assert getattr(loss, "shape", (0,))[0] > 5
