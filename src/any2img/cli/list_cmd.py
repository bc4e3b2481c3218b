"""``any2img list``: the converters and their parameters (default, rule and doc, from their declarations)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from any2img.converter import KINDS
from any2img.registry import get_converter_class, list_converters


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("list", help="list converters and their parameters",
                       description="List the registered converters with their parameters: default, rule and "
                                   "what each does.")
    p.add_argument("--kind", choices=KINDS, help="only converters of this kind")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    names = list_converters(kind=args.kind)
    entries: list[dict[str, Any]] = []
    for name in names:
        cls = get_converter_class(name)
        doc = (cls.__doc__ or "").strip().splitlines()
        rules = {d.name: {"rule": d.rule.describe(), "doc": d.doc} for d in cls.param_declarations()}
        entries.append({"name": name, "kind": cls.kind, "summary": doc[0] if doc else "",
                        "params": cls.param_defaults(), "rules": rules})
    if args.json:
        print(json.dumps(entries, indent=2, default=repr))
        return 0
    for e in entries:
        print(f"{e['name']:<18} [{e['kind']}] {e['summary']}")
        for key, default in e["params"].items():
            declared = e["rules"].get(key)
            rule = f"  [{declared['rule']}]\n        {declared['doc']}" if declared else ""
            print(f"    {key} = {default!r}{rule}")
    return 0
