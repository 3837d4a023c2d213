#!/usr/bin/env bash
# The main job on a fresh machine: set up, then enroll people from photos and name them in other
# photos (group photos included). Annotated results go to demo-output/.
# Usage: bash tools/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
FRT=".venv/bin/face-recognition-trt"
DATA=../shared/data/samples
if [ ! -d "$DATA" ]; then
  echo "no ../shared/data/samples beside this checkout: enroll your own photos with" >&2
  echo "  $FRT enroll NAME photo.jpg && $FRT recognize other.jpg --output out.jpg" >&2
  exit 1
fi
GALLERY=demo-output/gallery.db
rm -rf demo-output && mkdir -p demo-output
echo "== enrolling three people from one portrait each"
$FRT --gallery $GALLERY enroll "Barack Obama" $DATA/portraits/barack_obama_1.jpg
$FRT --gallery $GALLERY enroll "Joe Biden" $DATA/portraits/joe_biden_1.jpg
$FRT --gallery $GALLERY enroll "Kit Harington" $DATA/portraits/kit_harington_1.jpg
$FRT --gallery $GALLERY identities list
echo "== recognising them in other photos (Rose Leslie is not enrolled: 'unknown')"
for f in portraits/barack_obama_3.jpg portraits/joe_biden_2.jpg portraits/kit_harington_3.jpg \
         groups/joe_biden_and_barack_obama_2.jpg groups/rose_leslie_and_kit_harington_1.jpg; do
  $FRT --gallery $GALLERY recognize "$DATA/$f" --output "demo-output/$(basename "$f")"
done
echo "== annotated images in demo-output/"
