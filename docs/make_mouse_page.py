"""Make ``docs/mouse_users.png``: trajectory images of every Balabit user, one row each.

Each row shows six 300-event windows of one user, spread evenly over all of
that user's sessions, drawn by the ``trajectory`` converter with its default
parameters (relative coordinates, speed as colour, acceleration as width,
clicks as rings, drags with a white halo, scrolls as grey squares).

Run from the repository root (needs the Balabit training files; see
:mod:`any2img.datasets.balabit`)::

    python docs/make_mouse_page.py [--out docs/mouse_users.png] [--tile 150]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from any2img.converters.mouse.trajectory import log_unit
from PIL import Image, ImageDraw, ImageFont

from any2img import get_converter
from any2img.datasets.balabit import balabit_root, list_sessions, list_users
from any2img.imaging import field_to_rgb

GAP = 4
LABEL_W = 64
BACKGROUND = (40, 40, 40)
TEXT = (230, 230, 230)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def user_windows(conv, user: str, root: Path, n: int) -> list[np.ndarray]:
    """Convert ``n`` windows spread evenly over all sessions of ``user``."""
    windows = []
    for session in list_sessions(root, user=user):
        windows.extend(conv.segment(conv.read(session.path)))
    picks = np.linspace(0, len(windows) - 1, n + 2).round().astype(int)[1:-1]
    return [conv.convert(windows[i]) for i in picks]


def legend(conv, width: int, height: int) -> Image.Image:
    """A strip explaining the colours and marks."""
    img = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    font = _font(13)
    lo, hi = conv.speed_range
    bar_w, x0, y0 = 220, LABEL_W, 8
    speeds = np.logspace(np.log10(lo), np.log10(hi), bar_w)
    bar = field_to_rgb(log_unit(speeds, lo, hi), conv.cmap)
    img.paste(Image.fromarray(np.repeat(bar[None], 12, axis=0)), (x0, y0))
    draw.text((x0, y0 + 15), f"{lo:g} px/s", fill=TEXT, font=font)
    draw.text((x0 + bar_w - 70, y0 + 15), f"{hi:g} px/s", fill=TEXT, font=font)
    draw.text((x0 + bar_w + 12, y0 - 2), "speed (log scale)", fill=TEXT, font=font)
    x = x0 + bar_w + 150
    draw.ellipse((x, y0, x + 12, y0 + 12), outline=(255, 255, 255), width=2)
    draw.text((x + 18, y0 - 2), "left click", fill=TEXT, font=font)
    x += 100
    draw.ellipse((x, y0, x + 12, y0 + 12), outline=(255, 64, 255), width=2)
    draw.text((x + 18, y0 - 2), "right click", fill=TEXT, font=font)
    x += 105
    draw.line((x, y0 + 6, x + 26, y0 + 6), fill=(255, 255, 255), width=7)
    draw.line((x, y0 + 6, x + 26, y0 + 6), fill=tuple(bar[60].tolist()), width=3)
    draw.text((x + 32, y0 - 2), "drag", fill=TEXT, font=font)
    x += 80
    draw.rectangle((x, y0 + 3, x + 5, y0 + 8), fill=(150, 150, 150))
    draw.text((x + 12, y0 - 2), "scroll", fill=TEXT, font=font)
    draw.text((x0, y0 + 32), "line width grows with acceleration; each tile is one 300-event window, "
              "fitted to its own bounding box", fill=TEXT, font=font)
    return img


def make_page(out: Path, tile: int = 150, per_user: int = 6, root: Path | None = None) -> Path:
    """Write the page and return its path."""
    base = balabit_root(root)
    conv = get_converter("trajectory", image_size=tile)
    users = list_users(base)
    width = LABEL_W + per_user * (tile + GAP) + GAP
    header = legend(conv, width, 64)
    page = Image.new("RGB", (width, header.height + len(users) * (tile + GAP) + GAP), BACKGROUND)
    page.paste(header, (0, 0))
    draw = ImageDraw.Draw(page)
    font = _font(15)
    for r, user in enumerate(users):
        y = header.height + GAP + r * (tile + GAP)
        draw.text((8, y + tile // 2 - 8), user, fill=TEXT, font=font)
        for c, img in enumerate(user_windows(conv, user, base, per_user)):
            page.paste(Image.fromarray(img), (LABEL_W + GAP + c * (tile + GAP), y))
    out.parent.mkdir(parents=True, exist_ok=True)
    page.save(out, optimize=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "mouse_users.png")
    parser.add_argument("--tile", type=int, default=150)
    parser.add_argument("--root", type=Path, default=None,
                        help="Balabit training_files folder (default: $ANY2IMG_BALABIT, else the shared copy beside "
                        "this checkout, ../shared/datasets/balabit/training_files)")
    args = parser.parse_args()
    shared = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "balabit" / "training_files"
    root = args.root if args.root is not None else None if os.environ.get("ANY2IMG_BALABIT") else shared
    path = make_page(args.out, args.tile, root=root)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
