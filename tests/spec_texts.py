"""Extract every status ``code`` and ``displayStatus`` from the spec documents."""

from __future__ import annotations

import html
import re
from pathlib import Path

SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "spec"


def extract(spec_dir: Path = SPEC_DIR) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for f in sorted(spec_dir.glob("0*.txt")):
        text = html.unescape(f.read_text(encoding="utf-8"))
        found = [("code", m) for m in re.findall(r'"code":\s*"([^"]+)"', text)]
        found += [("displayStatus", m) for m in re.findall(r'"displayStatus":\s*"([^"]+)"', text)]
        found += [("code", m) for m in re.findall(r"`((?:Provisioning|Power)State/[^`]+)`", text)]
        for kind, value in found:
            key = (f.name, kind, value)
            if "<" in value or key in seen:
                continue
            seen.add(key)
            rows.append({"spec": f.name, "kind": kind, "text": value})
    return rows
