#!/usr/bin/env bash
# Build dist/chainfolio_<version>_<arch>.deb from the PyInstaller one-folder bundle.
#   bash packaging/linux/build-deb.sh [--no-bundle] [--dist DIR] [--work DIR]
#   DEB_COMPRESSION=xz bash packaging/linux/build-deb.sh     (smaller, slower: for releases)
# Without --no-bundle it first runs PyInstaller on packaging/chainfolio.spec.
# Layout: /opt/chainfolio (the bundle), /usr/bin/chainfolio (symlink), the .desktop entry,
# hicolor icons at several sizes and AppStream metainfo. Only dpkg-deb is needed (no network).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIST="$ROOT/dist"; WORK="$ROOT/build"; BUNDLE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-bundle) BUNDLE=0 ;;
    --dist) DIST="$2"; shift ;;
    --work) WORK="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
PY="${PYTHON:-$ROOT/.venv/bin/python}"
APP_ID="io.github.chainfolio.Chainfolio"
VERSION="$("$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import app; print(app.__version__)' "$ROOT")"
ARCH="$(dpkg --print-architecture)"
say() { printf '==> %s\n' "$*" >&2; }

if [ "$BUNDLE" = 1 ]; then
  say "PyInstaller bundle"
  "$PY" -m PyInstaller --noconfirm --log-level WARN --workpath "$WORK/pyinstaller" \
    --distpath "$DIST" "$ROOT/packaging/chainfolio.spec"
fi
[ -x "$DIST/chainfolio/chainfolio" ] || { echo "no bundle in $DIST/chainfolio" >&2; exit 1; }

PKG="$WORK/deb/chainfolio_${VERSION}_${ARCH}"
rm -rf "$PKG"
mkdir -p "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications" \
  "$PKG/usr/share/metainfo" "$PKG/usr/share/doc/chainfolio"
cp -a "$DIST/chainfolio" "$PKG/opt/chainfolio"
ln -s /opt/chainfolio/chainfolio "$PKG/usr/bin/chainfolio"
install -m 644 "$ROOT/packaging/linux/chainfolio.desktop" "$PKG/usr/share/applications/"
sed -e "s/@VERSION@/$VERSION/" -e "s/@DATE@/$(date -u +%F)/" \
  "$ROOT/packaging/linux/$APP_ID.metainfo.xml" > "$PKG/usr/share/metainfo/$APP_ID.metainfo.xml"

say "icons"
"$PY" "$ROOT/packaging/icons.py" "$WORK/icons" >/dev/null
for size in 16 24 32 48 64 128 256 512; do
  dir="$PKG/usr/share/icons/hicolor/${size}x${size}/apps"
  mkdir -p "$dir"
  install -m 644 "$WORK/icons/chainfolio-$size.png" "$dir/chainfolio.png"
done
mkdir -p "$PKG/usr/share/icons/hicolor/scalable/apps"
install -m 644 "$ROOT/resources/icons/chainfolio.svg" "$PKG/usr/share/icons/hicolor/scalable/apps/"
printf 'Chainfolio %s\nLicense: GPL-3.0-or-later\n' "$VERSION" > "$PKG/usr/share/doc/chainfolio/copyright"

SIZE_KB="$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)"
cat > "$PKG/DEBIAN/control" <<CONTROL
Package: chainfolio
Version: $VERSION
Architecture: $ARCH
Maintainer: Chainfolio developers <chainfolio@users.noreply.github.com>
Installed-Size: $SIZE_KB
Depends: libc6 (>= 2.31), libegl1, libgl1, libfontconfig1, libfreetype6, libxkbcommon0, libxkbcommon-x11-0, libdbus-1-3, libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0, libxcb-render-util0, libxcb-shape0, libxcb-xinerama0, libxcb-xkb1
Recommends: gnome-keyring | kwalletmanager | keepassxc
Section: misc
Priority: optional
Homepage: https://github.com/chainfolio/chainfolio
Description: watch-only crypto and DeFi portfolio tracker
 Chainfolio shows what your Ethereum, EVM and Solana wallets hold and what it
 is worth, from public addresses only. Data stays on your computer; API keys
 are kept in the system keyring.
CONTROL
# The menu and icon caches are refreshed by dpkg triggers of desktop-file-utils and
# hicolor-icon-theme, so no maintainer scripts are needed.

mkdir -p "$DIST"
OUT="$DIST/chainfolio_${VERSION}_${ARCH}.deb"
say "dpkg-deb"
# zstd -9 takes ~4 s here (dpkg >= 1.21.18: Debian 12, Ubuntu 21.10); DEB_COMPRESSION=xz makes a
# ~15% smaller package in ~70 s that older dpkg versions also read (used for releases).
case "${DEB_COMPRESSION:-zstd}" in
  xz) dpkg-deb --root-owner-group -Zxz -z6 --build "$PKG" "$OUT" >/dev/null ;;
  *) dpkg-deb --root-owner-group -Zzstd -z9 --build "$PKG" "$OUT" >/dev/null ;;
esac
rm -rf "$PKG"
say "bundle $(du -sh "$DIST/chainfolio" | cut -f1), package $(du -h "$OUT" | cut -f1): $OUT"
echo "$OUT"
