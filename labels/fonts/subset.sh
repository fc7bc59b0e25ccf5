#!/usr/bin/env bash
# subset.sh regenerates label.ttf: WenQuanYi Micro Hei (Debian package
# fonts-wqy-microhei; Apache-2.0, see LICENSE-WenQuanYiMicroHei.txt; Droid
# Sans + Droid Sans Fallback outlines, so Latin and CJK in one TrueType
# font), taken out of its TTC and cut down to printable ASCII, the fixed
# label captions and the 3755 level-1 hanzi of GB 2312, so common Chinese
# model, supplier and manufacturer names render too.
# Needs: apt-get install fonts-wqy-microhei python3-fonttools
set -euo pipefail
cd "$(dirname "$0")"
src=${SRC:-/usr/share/fonts/truetype/wqy/wqy-microhei.ttc}
text=$(/usr/bin/python3 - <<'PY'
chars = {chr(c) for c in range(0x20, 0x7f)}
chars |= set("序列号型供应商制造批次日期扫码验证真伪·–—：，（）")
for hi in range(0xB0, 0xD8):
    for lo in range(0xA1, 0xFF):
        try:
            chars |= set(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
print("".join(sorted(chars)))
PY
)
/usr/bin/python3 -m fontTools.subset "$src" --font-number=0 --text="$text" --output-file=label.ttf \
  --layout-features='' --no-hinting --desubroutinize --drop-tables+=FFTM,GDEF,GPOS,GSUB \
  --name-IDs='*' --notdef-outline
ls -l label.ttf
