"""Draws media/icon.png (128x128): a histogram of fractional positions piling up at the rounding
threshold (the red bar in the middle) between two quantization levels. Run: python3 tools/media/make_icon.py"""
from pathlib import Path

from PIL import Image, ImageDraw

S = 4  # draw at 4x, then downsample for smooth edges
img = Image.new("RGBA", (128 * S, 128 * S), (0, 0, 0, 0))
d = ImageDraw.Draw(img)
d.rounded_rectangle([4 * S, 4 * S, 124 * S, 124 * S], radius=22 * S, fill=(30, 41, 59, 255))
heights = [22, 26, 24, 30, 38, 58, 84, 58, 38, 30, 24, 26, 22]
w = 7
x0 = 64 - len(heights) * w // 2
base = 100
for i, h in enumerate(heights):
    color = (239, 68, 68, 255) if i == len(heights) // 2 else (96, 165, 250, 255)
    x = x0 + i * w
    d.rectangle([x * S, (base - h) * S, (x + w - 1) * S, base * S], fill=color)
# Quantization levels (ticks at both ends) and the baseline.
d.line([16 * S, (base + 2) * S, 112 * S, (base + 2) * S], fill=(226, 232, 240, 255), width=2 * S)
for x in (x0 - 2, x0 + len(heights) * w + 1):
    d.line([x * S, (base - 6) * S, x * S, (base + 10) * S], fill=(226, 232, 240, 255), width=3 * S)
out = Path(__file__).resolve().parents[2] / "media" / "icon.png"
img.resize((128, 128), Image.LANCZOS).save(out)
print(out)
