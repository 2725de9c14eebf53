"""Every fingerprint of some trees, as JSON; run by tests under other interpreters too.

Kept free of pytest so a bare virtual environment (libcst, PyYAML) can run it:
``python tests/fingerprint_dump.py ROOT...``.
"""

from __future__ import annotations

import json
import sys

from pvcheck.analyzer import scan_tree


def fingerprints(roots: list[str]) -> dict:
    out = {}
    for root in roots:
        project = scan_tree(root)
        out[root] = [
            [p.name, p.fingerprint, p.graph_fingerprint, p.config_fingerprint,
             [[s.id, s.fingerprint, s.body_fingerprint, s.signature_fingerprint, s.config_fingerprint]
              for s in p.steps]]
            for p in project.pipelines
        ]
    return out


if __name__ == "__main__":
    print(json.dumps(fingerprints(sys.argv[1:])))
