"""Draw the dashboard's icon: inspect_app/web/static/favicon.svg and favicon.ico.

A white tick on the brand's dark red, drawn from the same points in both files, so the
two stay alike. Run again after changing the shape: python scripts/favicon.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

STATIC = Path(__file__).resolve().parents[1] / "inspect_app" / "web" / "static"
BRAND = "#8b1a1a"
# On a 64-unit square: the tick's three points and its stroke width.
TICK = [(16, 33), (28, 45), (49, 20)]
STROKE = 8
RADIUS = 12


def svg() -> str:
    points = " ".join(f"{x},{y}" for x, y in TICK)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="{RADIUS}" fill="{BRAND}"/>'
        f'<polyline points="{points}" fill="none" stroke="#fff" stroke-width="{STROKE}" '
        'stroke-linecap="round" stroke-linejoin="round"/></svg>\n'
    )


def image(size: int) -> Image.Image:
    scale = 4  # drawn large, then reduced: smooth edges
    big = size * scale
    unit = big / 64
    picture = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=RADIUS * unit, fill=BRAND)
    points = [(x * unit, y * unit) for x, y in TICK]
    width = round(STROKE * unit)
    draw.line(points, fill="white", width=width, joint="curve")
    for x, y in (points[0], points[-1]):
        r = width / 2
        draw.ellipse((x - r, y - r, x + r, y + r), fill="white")
    return picture.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    (STATIC / "favicon.svg").write_text(svg(), encoding="utf-8")
    image(64).save(STATIC / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
