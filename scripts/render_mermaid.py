#!/usr/bin/env python3
"""Render Mermaid diagrams with the real Mermaid in a headless Chromium.

Used to check pvcheck's Mermaid output against Mermaid itself (what GitHub runs), and
to regenerate ``docs/examples/graph.png``::

    python scripts/render_mermaid.py docs/examples/report.md --png docs/examples/graph.png

Needs ``chromium`` (Debian: ``apt-get install chromium``) and Mermaid's browser bundle
``mermaid.min.js`` (``npm install mermaid``; give its path with ``--mermaid-js`` or
``PVCHECK_MERMAID_JS``). Nothing is fetched from the network: the bundle is read from
a local file and inlined into the page, and Chromium runs with networking features off.

Exit status: 0 when every diagram parsed and rendered, 1 when Mermaid rejected one (its
error is printed), 2 when a tool is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

_FENCE = re.compile(r"^```mermaid\n(.*?)^```", re.MULTILINE | re.DOTALL)

_BUNDLE = Path("mermaid", "dist", "mermaid.min.js")

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<style>
body { font-family: sans-serif; margin: 16px; background: #ffffff; }
.diagram { margin-bottom: 24px; }
</style>
<script>%(bundle)s</script>
</head><body>
<div id="out"></div>
<pre id="result">pending</pre>
<script>
const diagrams = %(diagrams)s;
mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default" });
(async () => {
  const result = { errors: [], rendered: 0 };
  for (let i = 0; i < diagrams.length; i++) {
    try {
      await mermaid.parse(diagrams[i]);
      const { svg } = await mermaid.render("d" + i, diagrams[i]);
      const div = document.createElement("div");
      div.className = "diagram";
      div.innerHTML = svg;
      document.getElementById("out").appendChild(div);
      result.rendered += 1;
    } catch (e) {
      result.errors.push({ index: i, message: String(e && e.message ? e.message : e) });
    }
  }
  result.height = document.body.scrollHeight;
  result.width = document.body.scrollWidth;
  const pre = document.getElementById("result");
  pre.textContent = JSON.stringify(result);
  pre.style.display = "none";
})();
</script>
</body></html>
"""


def find_chromium() -> Optional[str]:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _global_node_modules() -> Optional[str]:
    """npm's global package folder, wherever this machine keeps it."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    try:
        result = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def find_mermaid_js(explicit: Optional[str] = None) -> Optional[Path]:
    for candidate in (explicit, os.environ.get("PVCHECK_MERMAID_JS"), str(Path("node_modules") / _BUNDLE)):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    global_root = _global_node_modules()
    if global_root and (Path(global_root) / _BUNDLE).is_file():
        return Path(global_root) / _BUNDLE
    return None


def diagrams_in(text: str) -> list[str]:
    """The ```mermaid blocks of a markdown text, or the text itself when it has none."""
    blocks = _FENCE.findall(text)
    return blocks if blocks else [text]


def _chromium(chromium: str, args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    profile = tempfile.mkdtemp(prefix="pvcheck-chromium-")
    try:
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
            f"--user-data-dir={profile}", "--virtual-time-budget=20000", *args,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def render(diagrams: Sequence[str], mermaid_js: Path, chromium: str, png: Optional[Path] = None,
           width: int = 1400, timeout: float = 120) -> dict:
    """Parse and render ``diagrams``; return ``{"errors": [...], "rendered": n, ...}``.

    With ``png``, also take a screenshot of the whole rendered page.
    """
    bundle = mermaid_js.read_text(encoding="utf-8").replace("</script", "<\\/script")
    page = _PAGE % {"bundle": bundle, "diagrams": json.dumps(list(diagrams)).replace("</", "<\\/")}
    with tempfile.TemporaryDirectory(prefix="pvcheck-mermaid-") as folder:
        html = Path(folder) / "page.html"
        html.write_text(page, encoding="utf-8")
        # the same width for both runs: Mermaid scales its SVG to the page width
        done = _chromium(chromium, [f"--window-size={width},1000", "--dump-dom", html.as_uri()], timeout)
        match = re.search(r'<pre id="result"[^>]*>(.*?)</pre>', done.stdout, re.DOTALL)
        if not match or match.group(1) == "pending":
            raise RuntimeError(f"chromium did not finish rendering: {done.stderr.strip()[-500:]}")
        text = match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        result = json.loads(text)
        if png is not None:
            height = min(max(int(result.get("height", 800)) + 40, 200), 16000)
            shot = _chromium(chromium, [f"--window-size={width},{height}", f"--screenshot={png}", html.as_uri()],
                             timeout)
            if not png.is_file():
                raise RuntimeError(f"chromium took no screenshot: {shot.stderr.strip()[-500:]}")
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a markdown file with ```mermaid blocks, or a .mmd file; - for stdin")
    parser.add_argument("--png", help="write a screenshot of the rendered diagrams here")
    parser.add_argument("--mermaid-js", help="path of mermaid.min.js")
    parser.add_argument("--width", type=int, default=1400)
    args = parser.parse_args(argv)
    chromium = find_chromium()
    mermaid_js = find_mermaid_js(args.mermaid_js)
    if chromium is None or mermaid_js is None:
        missing = "chromium" if chromium is None else "mermaid.min.js (npm install mermaid, or --mermaid-js)"
        print(f"render_mermaid: error: {missing} not found", file=sys.stderr)
        return 2
    text = sys.stdin.read() if args.source == "-" else Path(args.source).read_text(encoding="utf-8")
    diagrams = diagrams_in(text)
    result = render(diagrams, mermaid_js, chromium, Path(args.png) if args.png else None, args.width)
    for error in result["errors"]:
        print(f"diagram {error['index'] + 1}: {error['message']}", file=sys.stderr)
    print(f"{result['rendered']}/{len(diagrams)} diagram(s) rendered", file=sys.stderr)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
