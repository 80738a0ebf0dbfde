#!/bin/sh
# Installs Genre Tagger from this unpacked archive for the current user, under ~/.local,
# or under $PREFIX (PREFIX=/usr/local sudo ./install.sh for everyone):
#
#   PREFIX/lib/genre-tagger/               the app, uninstall.sh, and the list of what was installed
#   PREFIX/bin/genre-tagger                a link to the app, for the terminal
#   PREFIX/share/applications/             the desktop entry, for the menus
#   PREFIX/share/icons/hicolor/, metainfo/ its icons and its AppStream description
#
# It replaces an earlier install made by this script and overwrites no other file;
# uninstall.sh removes exactly what the list names.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix=${PREFIX:-$HOME/.local}
case $prefix in
    /*) ;;
    *) prefix=$PWD/$prefix ;;
esac
prefix=${prefix%/}
app_dir=$prefix/lib/genre-tagger
manifest_path=$app_dir/installed-files.txt

fail() {
    echo "install.sh: $*" >&2
    exit 1
}

[ -x "$here/genre-tagger/genre-tagger" ] \
    || fail "$here/genre-tagger/genre-tagger is missing: run install.sh from the unpacked archive"
# The desktop entry's Exec line names the launcher, and these would need escaping there.
case $prefix in
    *[\"\`\$\\]* | *'
'*) fail "PREFIX may not contain \", \`, \$, \\ or a newline: $prefix" ;;
esac

if [ -f "$manifest_path" ]; then
    echo "Replacing the Genre Tagger installed in $prefix"
    PREFIX=$prefix sh "$here/uninstall.sh"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Each file below share/ in the archive goes to the same place below PREFIX.
(cd "$here" && find share -type f | sort) > "$work/shared"
{
    echo "$app_dir"
    echo "$prefix/bin/genre-tagger"
    while IFS= read -r path; do echo "$prefix/$path"; done < "$work/shared"
} > "$work/targets"
conflicts=""
while IFS= read -r target; do
    if [ -e "$target" ] || [ -L "$target" ]; then
        conflicts="$conflicts
  $target"
    fi
done < "$work/targets"
[ -z "$conflicts" ] \
    || fail "these exist already and were not installed by this script;" \
            "remove them, or choose another PREFIX:$conflicts"

# The list of what is installed: each file goes in just before it is installed (the check
# above made sure none of them existed), so that an install that stops half way can be
# undone by uninstall.sh too. It starts outside the app's folder, which does not exist yet.
# Directories are listed (d) when this script creates them, parents before children, so
# that uninstall.sh removes them again once they are empty.
manifest=$work/manifest
make_dir() {
    [ -d "$1" ] && return 0
    make_dir "$(dirname "$1")"
    mkdir "$1"
    echo "d $1" >> "$manifest"
}
make_dir "$app_dir"
mv "$manifest" "$manifest_path"
manifest=$manifest_path
stopped() {
    rm -rf "$work"
    echo "install.sh: stopped half way; PREFIX=\"$prefix\" sh \"$here/uninstall.sh\" removes what it installed" >&2
}
trap stopped EXIT

(cd "$here/genre-tagger" && find . -mindepth 1 | sort) | while IFS= read -r path; do
    if [ -d "$here/genre-tagger/$path" ] && [ ! -L "$here/genre-tagger/$path" ]; then
        echo "d $app_dir/${path#./}"
    else
        echo "f $app_dir/${path#./}"
    fi
done >> "$manifest"
cp -R -P "$here/genre-tagger/." "$app_dir/"
echo "f $app_dir/uninstall.sh" >> "$manifest"
cp "$here/uninstall.sh" "$app_dir/uninstall.sh"
chmod 755 "$app_dir/uninstall.sh"

make_dir "$prefix/bin"
echo "f $prefix/bin/genre-tagger" >> "$manifest"
ln -s "$app_dir/genre-tagger" "$prefix/bin/genre-tagger"

case $prefix in
    *' '*) launcher="\"$prefix/bin/genre-tagger\"" ;;
    *) launcher="$prefix/bin/genre-tagger" ;;
esac
# For sed: TryExec takes the path as it is, Exec a command line, quoted where it has spaces.
sed_escaped() {
    printf '%s' "$1" | sed 's/[&|]/\\&/g'
}
exec_replacement=$(sed_escaped "$launcher")
tryexec_replacement=$(sed_escaped "$prefix/bin/genre-tagger")
while IFS= read -r path; do
    make_dir "$(dirname "$prefix/$path")"
    echo "f $prefix/$path" >> "$manifest"
    case $path in
        # The entry starts the launcher by its full path: ~/.local/bin is not on every session's PATH.
        share/applications/*.desktop)
            sed -e "s|^Exec=genre-tagger |Exec=$exec_replacement |" \
                -e "s|^Exec=genre-tagger\$|Exec=$exec_replacement|" \
                -e "s|^TryExec=genre-tagger\$|TryExec=$tryexec_replacement|" "$here/$path" > "$prefix/$path" ;;
        *) cp "$here/$path" "$prefix/$path" ;;
    esac
    chmod 644 "$prefix/$path"
done < "$work/shared"

# The menus' and icons' caches, where their tools are installed. A cache that this creates
# is listed (c) for uninstall.sh; one that was there before belongs to whoever made it.
refresh() {
    cache=$1
    shift
    command -v "$1" > /dev/null 2>&1 || return 0
    existed=no
    [ ! -e "$cache" ] || existed=yes
    if "$@" > /dev/null 2>&1; then
        [ "$existed" = yes ] || [ ! -e "$cache" ] || echo "c $cache" >> "$manifest"
    else
        echo "install.sh: note: $1 failed; the menus may show Genre Tagger only after the next login" >&2
    fi
}
refresh "$prefix/share/applications/mimeinfo.cache" update-desktop-database -q "$prefix/share/applications"
refresh "$prefix/share/icons/hicolor/icon-theme.cache" gtk-update-icon-cache -q -t -f "$prefix/share/icons/hicolor"

trap 'rm -rf "$work"' EXIT
version=$("$app_dir/genre-tagger" --version 2> /dev/null | sed -n 's/^genre-tagger \([^ ]*\).*/\1/p')
echo "Installed Genre Tagger $version in $app_dir"
echo "  start it from the menus, or as $prefix/bin/genre-tagger"
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "  ($prefix/bin is not on PATH: add it to run genre-tagger by name)" ;;
esac
if [ "$prefix" = "$HOME/.local" ]; then
    echo "  remove it with $app_dir/uninstall.sh"
else
    echo "  remove it with PREFIX=\"$prefix\" \"$app_dir/uninstall.sh\""
fi
