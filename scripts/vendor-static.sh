#!/usr/bin/env bash
# Re-vendor the front-end static assets (htmx, Bootstrap CSS, Chart.js, Vazirmatn and
# Noto Sans Armenian fonts) from the npm registry into static/vendor/.
#
# For maintainers only: the app never fetches anything at install or run
# time, it serves the committed files under static/. Run this script only to
# refresh or upgrade the vendored copies, then review and commit the diff.
#
# Usage: scripts/vendor-static.sh        (from anywhere; needs npm and tar)
#
# To upgrade a package, change its pinned version below, run the script, and
# check that static/css/fonts.css still points at existing files (the script
# verifies this at the end).
set -euo pipefail

HTMX_VERSION="2.0.11"
BOOTSTRAP_VERSION="5.3.9"
VAZIRMATN_VERSION="33.0.3"
NOTO_ARMENIAN_VERSION="5.3.0"   # @fontsource/noto-sans-armenian
CHARTJS_VERSION="4.6.1"

# Weights and subsets of Noto Sans Armenian to keep (Vazirmatn is variable).
NOTO_WEIGHTS=(400 700)
NOTO_SUBSETS=(armenian latin)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATIC="$REPO_ROOT/static"
VENDOR="$STATIC/vendor"

command -v npm >/dev/null || { echo "error: npm is required" >&2; exit 1; }
command -v tar >/dev/null || { echo "error: tar is required" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/vafa-vendor.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# fetch SPEC DIRNAME: npm pack SPEC into $WORK and unpack it to $WORK/DIRNAME
fetch() {
    local spec="$1" dir="$2" tgz
    echo "fetching $spec" >&2
    tgz="$(cd "$WORK" && npm pack --silent "$spec" | tail -n 1)"
    mkdir -p "$WORK/$dir"
    tar -xzf "$WORK/$tgz" -C "$WORK/$dir" --strip-components=1
}

fetch "htmx.org@$HTMX_VERSION" htmx
fetch "bootstrap@$BOOTSTRAP_VERSION" bootstrap
fetch "vazirmatn@$VAZIRMATN_VERSION" vazirmatn
fetch "@fontsource/noto-sans-armenian@$NOTO_ARMENIAN_VERSION" noto
fetch "chart.js@$CHARTJS_VERSION" chartjs

# Fail early if a package layout changed.
need() { [[ -f "$1" ]] || { echo "error: missing $1 in package" >&2; exit 1; }; }
need "$WORK/htmx/dist/htmx.min.js"
need "$WORK/bootstrap/dist/css/bootstrap.min.css"
need "$WORK/bootstrap/dist/css/bootstrap.rtl.min.css"
need "$WORK/vazirmatn/fonts/webfonts/Vazirmatn[wght].woff2"
need "$WORK/chartjs/dist/chart.umd.min.js"

# Start from a clean vendor tree so removed files do not linger.
rm -rf "$VENDOR"
mkdir -p "$VENDOR/htmx" "$VENDOR/bootstrap" "$VENDOR/vazirmatn" "$VENDOR/noto-sans-armenian" \
    "$VENDOR/chartjs"

# htmx
cp "$WORK/htmx/dist/htmx.min.js" "$VENDOR/htmx/htmx.min.js"
cp "$WORK/htmx/LICENSE" "$VENDOR/htmx/LICENSE"

# Bootstrap CSS (no JS); drop source-map comments so browsers do not
# request .map files that are not vendored.
for css in bootstrap.min.css bootstrap.rtl.min.css; do
    sed '/sourceMappingURL=/d' "$WORK/bootstrap/dist/css/$css" >"$VENDOR/bootstrap/$css"
done
cp "$WORK/bootstrap/LICENSE" "$VENDOR/bootstrap/LICENSE"

# Chart.js: the UMD build (no eval, so the CSP's script-src 'self' holds), without its
# source-map comment.
sed '/sourceMappingURL=/d' "$WORK/chartjs/dist/chart.umd.min.js" >"$VENDOR/chartjs/chart.umd.min.js"
cp "$WORK/chartjs/LICENSE.md" "$VENDOR/chartjs/LICENSE"

# Vazirmatn: the single variable font (wght 100-900, Arabic script + Latin),
# renamed to avoid square brackets in URLs.
cp "$WORK/vazirmatn/fonts/webfonts/Vazirmatn[wght].woff2" "$VENDOR/vazirmatn/Vazirmatn-Variable.woff2"
cp "$WORK/vazirmatn/OFL.txt" "$VENDOR/vazirmatn/LICENSE"

# Noto Sans Armenian: selected static weights and subsets.
noto_files=()
for subset in "${NOTO_SUBSETS[@]}"; do
    for weight in "${NOTO_WEIGHTS[@]}"; do
        f="noto-sans-armenian-$subset-$weight-normal.woff2"
        need "$WORK/noto/files/$f"
        cp "$WORK/noto/files/$f" "$VENDOR/noto-sans-armenian/$f"
        noto_files+=("$f")
    done
done
cp "$WORK/noto/LICENSE" "$VENDOR/noto-sans-armenian/LICENSE"

# Sanity checks on what was taken.
grep -q "version:\"$HTMX_VERSION\"" "$VENDOR/htmx/htmx.min.js" \
    || { echo "error: htmx.min.js does not report version $HTMX_VERSION" >&2; exit 1; }
if grep -q sourceMappingURL "$VENDOR"/bootstrap/*.css; then
    echo "error: sourceMappingURL left in bootstrap CSS" >&2; exit 1
fi

# VERSIONS.txt
{
    echo "Vendored front-end assets, fetched from the npm registry by"
    echo "scripts/vendor-static.sh. Do not edit these files by hand; change the"
    echo "pinned versions in that script and re-run it."
    echo
    echo "htmx.org $HTMX_VERSION (0BSD)"
    echo "  dist/htmx.min.js -> htmx/htmx.min.js"
    echo "  LICENSE          -> htmx/LICENSE"
    echo
    echo "bootstrap $BOOTSTRAP_VERSION (MIT) - CSS only, sourceMappingURL comments removed"
    echo "  dist/css/bootstrap.min.css     -> bootstrap/bootstrap.min.css"
    echo "  dist/css/bootstrap.rtl.min.css -> bootstrap/bootstrap.rtl.min.css"
    echo "  LICENSE                        -> bootstrap/LICENSE"
    echo
    echo "chart.js $CHARTJS_VERSION (MIT) - UMD build, sourceMappingURL comment removed"
    echo "  dist/chart.umd.min.js -> chartjs/chart.umd.min.js"
    echo "  LICENSE.md            -> chartjs/LICENSE"
    echo
    echo "vazirmatn $VAZIRMATN_VERSION (OFL-1.1) - variable font, wght 100-900, Arabic script + Latin"
    echo "  fonts/webfonts/Vazirmatn[wght].woff2 -> vazirmatn/Vazirmatn-Variable.woff2"
    echo "  OFL.txt                              -> vazirmatn/LICENSE"
    echo
    echo "@fontsource/noto-sans-armenian $NOTO_ARMENIAN_VERSION (OFL-1.1) - weights ${NOTO_WEIGHTS[*]}, subsets ${NOTO_SUBSETS[*]}"
    for f in "${noto_files[@]}"; do
        echo "  files/$f -> noto-sans-armenian/$f"
    done
    echo "  LICENSE -> noto-sans-armenian/LICENSE"
    echo
    echo "sha256:"
    (cd "$VENDOR" && find . -type f ! -name VERSIONS.txt | LC_ALL=C sort | sed 's|^\./||' | xargs sha256sum | sed 's/^/  /')
} >"$VENDOR/VERSIONS.txt"

# Every url() in fonts.css must point at a vendored file.
FONTS_CSS="$STATIC/css/fonts.css"
if [[ -f "$FONTS_CSS" ]]; then
    missing=0
    while IFS= read -r url; do
        if [[ ! -f "$STATIC/css/$url" ]]; then
            echo "error: fonts.css references missing file $url" >&2
            missing=1
        fi
    done < <(grep -o "url([^)]*)" "$FONTS_CSS" | sed -E "s/^url\(['\"]?//; s/['\"]?\)$//")
    [[ $missing -eq 0 ]] || exit 1
else
    echo "warning: $FONTS_CSS not found, skipped its check" >&2
fi

echo "vendored into $VENDOR:" >&2
du -sh "$VENDOR" >&2
