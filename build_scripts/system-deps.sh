#!/bin/sh
# System packages, installed only where missing, and only where it can (Debian/Ubuntu as
# root); otherwise it names the packages in one line.
#   run: Qt's X11 libraries for showing the real window (`make run`). Tests and the bundle's
#        self-test run offscreen and need none of these.
#   pdf: what WeasyPrint needs to make the family's copy (Pango, HarfBuzz's subsetter, a
#        font), for the window, the command, the tests and the bundle (`make setup`).
#   dist: what `make dist` needs to slim Qt's ICU data (icupkg; as and ld from binutils,
#        which PyInstaller needs too; build_scripts/bundle_trim.py).
set -u
mode="${1:-run}"
[ "$(uname -s)" = "Linux" ] || exit 0
command -v dpkg-query >/dev/null 2>&1 || exit 0
case "$mode" in
  run)
    [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || exit 0
    pkgs="libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libegl1 libgl1 libfontconfig1"
    what="The window needs"
    ;;
  pdf)
    pkgs="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core"
    what="The family's copy (PDF) needs"
    ;;
  dist)
    pkgs="icu-devtools binutils"
    what="Building the bundle needs"
    ;;
  *)
    echo "system-deps.sh: unknown mode $mode (run, pdf or dist)" >&2
    exit 2
    ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
else
  echo "$what these system packages:$missing (install them with your package manager)."
fi
