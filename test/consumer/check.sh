#!/usr/bin/env bash
# check.sh BUILD_DIR APP_CPP: install weft into a scratch DESTDIR and build APP_CPP against it
# with exactly the README's command, g++ -std=c++20 app.cpp $(pkg-config --cflags --libs weft),
# the install prefix relocated with --define-variable.
set -euo pipefail
build=$1
app=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >/dev/null
pc=$(find "$tmp/root" -name weft.pc | head -n 1)
[ -n "$pc" ] || { echo "weft.pc was not installed"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
[ -f "$tmp/root$prefix/include/weft/weft.hpp" ] || { echo "headers not installed under include/weft"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --define-variable=prefix="$tmp/root$prefix" --cflags --libs weft)
echo "pkg-config --cflags --libs weft: $flags"
g++ -std=c++20 "$app" $flags -o "$tmp/app"
"$tmp/app"
