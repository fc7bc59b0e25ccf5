#!/usr/bin/env bash
# Distorted 2D photos for the peer comparison: every QR and Data Matrix
# photo of the corpus (qrcode-1, -3, -5, -6, datamatrix-1, -2) made faint
# (levels 30–62 %), unevenly lit (a gradient from 25 % at the top-left),
# turned away (perspective: the right edge 12 % shorter at each end) and
# bulged (barrel, −0.12), with ImageMagick; the expected text is copied.
#
#   bash bench/peers/distort.sh OUT && bash bench/peers/run.sh OUT \
#     qr-lowc qr-grad qr-persp qr-barrel dm-lowc dm-grad dm-persp dm-barrel
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
corpus="$here/../../scan/testdata/corpus"
out="${1:?usage: distort.sh OUT}"
for kind in lowc grad persp barrel; do mkdir -p "$out/qr-$kind" "$out/dm-$kind"; done
for d in qrcode-1 qrcode-3 qrcode-5 qrcode-6 datamatrix-1 datamatrix-2; do
  fam=qr; case $d in datamatrix*) fam=dm ;; esac
  for img in "$corpus/$d"/*.png "$corpus/$d"/*.jpg; do
    [ -f "$img" ] || continue
    txt="${img%.*}.txt"; [ -f "$txt" ] || continue
    n="$d-$(basename "${img%.*}")"
    convert "$img" -colorspace Gray +level 30%,62% "$out/$fam-lowc/$n.png"
    convert "$img" -colorspace Gray \( +clone -sparse-color Barycentric '0,0 gray(25%) %w,%h white' \) \
      -compose Multiply -composite "$out/$fam-grad/$n.png"
    convert "$img" -colorspace Gray -virtual-pixel Edge -distort Perspective \
      '0,0 0,0  %w,0 %[fx:w*0.85],%[fx:h*0.12]  0,%h 0,%h  %w,%h %[fx:w*0.85],%[fx:h*0.88]' "$out/$fam-persp/$n.png"
    convert "$img" -colorspace Gray -virtual-pixel Edge -distort Barrel '0.0 0.0 -0.12' "$out/$fam-barrel/$n.png"
    for kind in lowc grad persp barrel; do cp "$txt" "$out/$fam-$kind/$n.txt"; done
  done
done
