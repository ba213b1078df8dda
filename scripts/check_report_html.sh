#!/usr/bin/env bash
# The documented manual check of the HTML report: render report.html in a real browser (headless
# Chromium, installed from Debian if missing), take a screenshot, and check the plots were drawn.
#
#   scripts/check_report_html.sh [REPORT.html] [SCREENSHOT.png]
#
# Defaults: feint-report/report.html (what `make demo` writes) and a .png beside it.  Exit status 0
# when the page rendered with its embedded plots; open the screenshot to look at it yourself.
set -euo pipefail
cd "$(dirname "$0")/.."
report="${1:-feint-report/report.html}"
shot="${2:-${report%.html}.png}"
python="${PYTHON:-.venv/bin/python}"
[ -x "$python" ] || python=python3

if [ ! -f "$report" ]; then
    echo "no $report: run 'make demo' (or 'feint evaluate --out DIR') first" >&2
    exit 2
fi

browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -z "$browser" ]; then
    echo "headless Chromium not found; installing Debian's chromium package..." >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
    browser="$(command -v chromium)"
fi

url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
"$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
    --window-size=1280,4200 --screenshot="$shot" "$url" >/dev/null 2>&1
[ -s "$shot" ] || { echo "the browser wrote no screenshot" >&2; exit 1; }

# The plots use matplotlib's colour cycle; the page's own styles never do.  Count those pixels.
"$python" - "$shot" <<'PY'
import sys

import numpy as np
from PIL import Image

img = np.asarray(Image.open(sys.argv[1]).convert("RGB"), dtype=np.int32)
cycle = np.array([(31, 119, 180), (255, 127, 14), (44, 160, 44)])      # C0, C1, C2
hits = int((np.abs(img[:, :, None, :] - cycle).sum(axis=-1) < 30).any(axis=-1).sum())
print(f"{sys.argv[1]}: {img.shape[1]}x{img.shape[0]} px, {hits} plot-coloured pixels")
sys.exit(0 if hits > 2000 else 1)
PY
echo "rendered with its plots; look at $shot"
