#!/bin/sh
# Removes the Genre Tagger that install.sh installed under ~/.local, or under $PREFIX:
# exactly the files in the list it wrote (PREFIX/lib/genre-tagger/installed-files.txt),
# and the directories it created once they are empty. Your settings, the analysis cache
# and the undo journal (in ~/.config, ~/.cache and ~/.local/share) are left alone.
set -eu

prefix=${PREFIX:-$HOME/.local}
case $prefix in
    /*) ;;
    *) prefix=$PWD/$prefix ;;
esac
prefix=${prefix%/}
manifest=$prefix/lib/genre-tagger/installed-files.txt

if [ ! -f "$manifest" ]; then
    echo "uninstall.sh: no Genre Tagger installed by install.sh in $prefix ($manifest is missing)" >&2
    exit 1
fi

# Only paths inside PREFIX (or PREFIX itself, which install.sh may have created): a damaged
# list must not remove anything else.
inside() {
    case $1 in
        "$prefix" | "$prefix"/*) case $1 in *'/../'* | *'/..') return 1 ;; esac ;;
        *) return 1 ;;
    esac
}

# Files, links and the caches install.sh created first; then the directories, children
# before parents, each only if nothing else is left in it.
while IFS= read -r line; do
    path=${line#? }
    inside "$path" || { echo "uninstall.sh: skipping $line: not inside $prefix" >&2; continue; }
    case $line in
        "f "* | "c "*) rm -f "$path" 2> /dev/null || echo "uninstall.sh: could not remove $path" >&2 ;;
    esac
done < "$manifest"
directories=$(mktemp)
trap 'rm -f "$directories"' EXIT
grep '^d ' "$manifest" | sed 's/^d //' | sort -r > "$directories"
rm -f "$manifest"
while IFS= read -r path; do
    if inside "$path"; then
        rmdir "$path" 2> /dev/null || true
    fi
done < "$directories"

# A cache that was there before install.sh is brought up to date without our entry and
# icons; one that install.sh created is gone with the rest.
if [ -e "$prefix/share/applications/mimeinfo.cache" ] && command -v update-desktop-database > /dev/null 2>&1; then
    update-desktop-database -q "$prefix/share/applications" || true
fi
if [ -e "$prefix/share/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache > /dev/null 2>&1; then
    gtk-update-icon-cache -q -t -f "$prefix/share/icons/hicolor" || true
fi
echo "Removed Genre Tagger from $prefix"
