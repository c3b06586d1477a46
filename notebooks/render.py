"""Execute the notebooks and write rendered copies to docs/notebooks/ (markdown + SVG charts).

    .venv/bin/python notebooks/render.py             # every notebook, full settings
    .venv/bin/python notebooks/render.py 02_device   # one of them

The notebooks themselves are stored without outputs (tests/test_notebooks.py executes them);
these copies let a reader see the printed reports and the charts without running Jupyter.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs" / "notebooks"
TIMEOUT_S = 900  # per cell: a full training run on 2 cores takes minutes


def render_markdown(nb, name: str, folder: Path) -> str:
    """An executed notebook as markdown; each SVG output is written to folder/<name>-<n>.svg and linked."""
    parts = [f"<!-- rendered from notebooks/{name}.ipynb by notebooks/render.py: do not edit by hand -->"]
    charts = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        if cell.cell_type != "code":
            continue
        parts.append(f"```python\n{cell.source}\n```")
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/svg+xml" in data:
                charts += 1
                svg = folder / f"{name}-{charts}.svg"
                svg.write_text(data["image/svg+xml"])
                parts.append(f"![chart {charts}]({svg.name})")
            elif out.get("output_type") == "stream" or "text/plain" in data:
                text = out.get("text") or data.get("text/plain", "")
                if text.strip():
                    parts.append(f"```text\n{text.rstrip()}\n```")
            elif out.get("output_type") == "error":
                parts.append(f"```text\n{out.get('ename')}: {out.get('evalue')}\n```")
    return "\n\n".join(parts) + "\n"


def render(name: str) -> Path:
    """Execute notebooks/<name>.ipynb from notebooks/ (outputs to a temporary folder) and render it."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(HERE / f"{name}.ipynb", as_version=4)
    # The notebook's own default folder, so the printed paths read as a user's would; removed after
    # unless it was there before (then it is the user's and is left alone).
    out = HERE / "notebook-out"
    ours = not out.exists()
    os.environ["TINYFLOW_NB_OUT"] = "notebook-out"  # the kernel inherits it and runs in notebooks/
    try:
        client = NotebookClient(
            nb, timeout=TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
        )
        client.execute()
    finally:
        if ours:
            shutil.rmtree(out, ignore_errors=True)
    DOCS.mkdir(parents=True, exist_ok=True)
    for old in DOCS.glob(f"{name}-*.svg"):
        old.unlink()
    page = DOCS / f"{name}.md"
    page.write_text(render_markdown(nb, name, DOCS))
    return page


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in HERE.glob("*.ipynb"))
    for name in names:
        print(f"wrote {render(name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
