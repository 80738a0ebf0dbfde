#!/usr/bin/env bash
# fetch_debian_music.sh - extra REAL music for genre/calibration benchmarks.
#
# Rebuilds a folder (default /work/extra-music) of freely licensed game
# soundtracks taken from Debian bookworm packages. Nothing here is bundled
# with Genre Tagger: the tracks are downloaded on demand, and every
# <folder>/COPYRIGHT is the package's own debian/copyright file.
#
#   apt-get download PKG -> dpkg-deb -x -> unzip *.pk3 -> keep files under a
#   */music/ or */cdtracks/ directory that decode and last more than 30 s.
#
# fretsonfire-songs is special: each song ships as stems (song.ogg backing +
# guitar.ogg), which are summed into one FLAC per song. Writes INDEX.tsv
# (package, path, duration_s, license) and touches READY when done.
# Needs: apt-get, dpkg-deb, unzip, python3 with numpy + soundfile
# (the repo .venv is used if present; override with $PYTHON).
set -euo pipefail

OUT=$(realpath -m "${1:-/work/extra-music}")
HERE=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$([ -x "$HERE/.venv/bin/python" ] && echo "$HERE/.venv/bin/python" || echo python3)}

# package -> short licence of its music (details in each COPYRIGHT)
declare -A LICENSE=(
  [wesnoth-1.16-music]="GPL-2+"
  [ufoai-music]="mixed GPL-2+/CC-BY-3.0/CC-BY-SA-3.0"
  [naev-data]="mixed GPL-2+/GPL-3/CC-BY-3.0/CC-BY-SA-3.0"
  [nexuiz-music]="GPL-2+"
  [hedgewars-data]="GPL-2"
  [supertux-data]="GPL-2+"
  [widelands-data]="GPL-2+ (some CC-BY-SA-3.0)"
  [colobot-common-sounds]="GPL-3+"
  [blobwars-data]="CC-BY-SA-3.0 (credits, arctic: CC-BY-3.0)"
  [freedroidrpg-data]="GPL-2+"
  [flare-game]="CC-BY-SA-3.0+"
  [planetblupi-music-ogg]="GPL-3+"
  [fillets-ng-data]="GPL-2+"
  [megaglest-data]="CC-BY-SA-3.0"
)
FOF=(fretsonfire-songs-muldjord fretsonfire-songs-sectoid)  # CC-BY-SA-3.0 / Expat

TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"; rm -f "$OUT/READY"
printf 'package\tpath\tduration_s\tlicense\n' > "$OUT/INDEX.tsv"

for pkg in "${!LICENSE[@]}" "${FOF[@]}"; do
  echo "== $pkg" >&2
  (cd "$TMP" && apt-get download -q "$pkg" >/dev/null 2>&1) || { echo "   download failed" >&2; continue; }
  mkdir -p "$TMP/$pkg"; dpkg-deb -x "$TMP/${pkg}"_*.deb "$TMP/$pkg"; rm -f "$TMP/${pkg}"_*.deb
  find "$TMP/$pkg" -name '*.pk3' -exec sh -c 'unzip -qo "$1" -d "$1.d"' _ {} \;
done

LICENSES=$(for k in "${!LICENSE[@]}"; do echo "$k=${LICENSE[$k]}"; done) \
"$PY" - "$TMP" "$OUT" "${FOF[*]}" <<'EOF' >> "$OUT/INDEX.tsv"
import os, re, shutil, sys
import numpy as np, soundfile as sf
tmp, out, fof = sys.argv[1], sys.argv[2], sys.argv[3].split()
lic = dict(l.split('=', 1) for l in os.environ['LICENSES'].splitlines() if l)
MUSIC = re.compile(r'/(music|cdtracks)/', re.I)
EXT = {b'OggS': '.ogg', b'fLaC': '.flac', b'RIFF': '.wav', b'ID3': '.mp3'}

def dur(p):
    try: i = sf.info(p); return i.frames / i.samplerate
    except Exception: return 0.0

def row(pkg, rel, d, l): print(f'{pkg}\t{rel}\t{d:.1f}\t{l}')

for pkg in sorted(lic):
    root = os.path.join(tmp, pkg)
    if not os.path.isdir(root): continue
    dest = os.path.join(out, pkg); os.makedirs(dest, exist_ok=True)
    files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs
                   if MUSIC.search(os.path.join(dp, f)) and '/usr/share/doc/' not in dp)
    keep = [(p, dur(p)) for p in files]
    keep = [(p, d) for p, d in keep if d > 30]
    if not keep: continue
    base = os.path.commonpath([os.path.dirname(p) for p, _ in keep])
    for p, d in keep:
        rel = os.path.relpath(p, base)
        with open(p, 'rb') as fh: head = fh.read(4)
        ext = next((e for m, e in EXT.items() if head.startswith(m)), '')
        if not rel.lower().endswith(ext): rel += ext      # blobwars has no extensions
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copyfile(p, os.path.join(dest, rel))
        row(pkg, f'{pkg}/{rel}', d, lic[pkg])
    shutil.copyfile(os.path.join(root, 'usr/share/doc', pkg, 'copyright'), os.path.join(dest, 'COPYRIGHT'))

# Frets on Fire: mix stems (song.ogg + guitar.ogg [+ rhythm.ogg]) into one FLAC per song.
dest = os.path.join(out, 'fretsonfire-songs'); os.makedirs(dest, exist_ok=True)
with open(os.path.join(dest, 'COPYRIGHT'), 'w') as cw:
    for pkg in fof:
        root = os.path.join(tmp, pkg)
        if not os.path.isdir(root): continue
        l = 'CC-BY-SA-3.0' if 'muldjord' in pkg else 'Expat'
        cw.write(f'===== {pkg} (debian/copyright) =====\n')
        cw.write(open(os.path.join(root, 'usr/share/doc', pkg, 'copyright'), encoding='utf-8', errors='replace').read() + '\n')
        for dp, _, fs in sorted(os.walk(root)):
            stems = [os.path.join(dp, s) for s in ('song.ogg', 'guitar.ogg', 'rhythm.ogg') if s in fs]
            if not stems: continue
            datas = [sf.read(s, always_2d=True) for s in stems]
            sr = datas[0][1]; n = max(len(a) for a, _ in datas)
            mix = np.zeros((n, 2))
            for a, _ in datas: mix[:len(a)] += a if a.shape[1] == 2 else np.repeat(a, 2, 1)
            mix /= max(1.0, np.abs(mix).max() / 0.99)
            name = f"{pkg.rsplit('-', 1)[1]}_{os.path.basename(dp).replace(' ', '_')}.flac"
            sf.write(os.path.join(dest, name), mix, sr, subtype='PCM_16')
            row('fretsonfire-songs', f'fretsonfire-songs/{name}', n / sr, f'{l} ({pkg})')
EOF
touch "$OUT/READY"
echo "done: $(($(wc -l < "$OUT/INDEX.tsv") - 1)) tracks in $OUT ($(du -sh "$OUT" | cut -f1))" >&2
